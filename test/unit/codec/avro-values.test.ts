import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Type } from 'avsc';
import { avroTypes, parseSchema, schemasDir } from '../../../processors/codec/avro';
import { diffFromAvro, diffToAvro } from '../../../processors/codec/diff';
import { frame } from '../../../processors/codec/framing';
import { InputDecoder } from '../../../processors/codec/input';
import { transactionToAvro } from '../../../processors/codec/transaction';
import type { GraphDiff, GraphTransaction, Value } from '../../../processors/engine/model';
import { canonical } from '../../support/canonical';

const everyValue: Value[] = [
  { type: 'String', value: 'Ada Lovelace ∑ 🚂' },
  { type: 'String', value: '' },
  { type: 'Int', value: 0n },
  { type: 'Int', value: 2n ** 53n + 1n },
  { type: 'Int', value: -(2n ** 63n) },
  { type: 'Int', value: 2n ** 63n - 1n },
  { type: 'Float', value: 0.1 },
  { type: 'Float', value: -0 },
  { type: 'Float', value: Number.NaN },
  { type: 'Float', value: Number.NEGATIVE_INFINITY },
  { type: 'Bool', value: false },
  { type: 'Time', value: 1_700_000_000_123_456n },
  { type: 'Time', value: -(2n ** 62n) },
  { type: 'Bytes', value: Uint8Array.from([0, 1, 254, 255]) },
  { type: 'Bytes', value: new Uint8Array() },
  { type: 'Enum', enum: 'Color', value: 'red' },
  { type: 'Quantity', unit: 'kg', value: 72.5 },
];

const diffOf = (values: readonly Value[]): GraphDiff => ({
  graph: 'g',
  slice: 2 ** 40,
  txId: 't',
  time: 1_700_000_000_000_000,
  source: { topic: 'in', partition: 3, offset: 2 ** 50 },
  changes: values.map((value, i) => ({ op: 'Assigned', uid: i.toString(16).padStart(32, '0'), ...(i > 0 ? { previous: values[i - 1] as Value } : {}), value })),
});

describe('Avro encoding of values', () => {
  test('every value type round-trips exactly through a diff, Int and Time beyond 2^53 included', () => {
    const diff = diffOf(everyValue);
    const back = diffFromAvro(avroTypes().diff.fromBuffer(avroTypes().diff.toBuffer(diffToAvro(diff))));
    expect(canonical(back)).toBe(canonical(diff));
  });

  test('an Int beyond 64 bits cannot be encoded', () => {
    expect(() => avroTypes().diff.toBuffer(diffToAvro(diffOf([{ type: 'Int', value: 2n ** 63n }])))).toThrow();
  });

  test('values survive schema resolution from a different writer schema (no bytes read as string)', () => {
    const schema = JSON.parse(readFileSync(join(schemasDir, 'graph-transaction.v1.avsc'), 'utf8')) as { fields: unknown[] };
    const writerSchema = { ...schema, fields: [...schema.fields, { name: 'producer', type: 'string', default: '' }] };
    const registry: Record<string, Type> = {};
    for (const file of ['atom-kind.v1.avsc', 'value.v1.avsc']) parseSchema(JSON.parse(readFileSync(join(schemasDir, file), 'utf8')), registry);
    const writer = parseSchema(writerSchema, registry);
    expect(writer.equals(avroTypes().transaction)).toBe(false);

    const tx: GraphTransaction = {
      graph: 'g',
      txId: 't',
      instructions: everyValue.map((value, i) => ({ op: 'CreateAttribute', ref: `v${i}`, valueType: value.type === 'Enum' ? 'Enum:Color' : value.type === 'Quantity' ? 'Quantity:kg' : value.type, value })),
    };
    const body = writer.toBuffer({ ...transactionToAvro(tx), producer: 'crm-service' });
    const decoded = new InputDecoder(1 << 20).decode({ key: Buffer.from('g'), value: frame(7, body) }, new Map([[7, writer]]));
    expect(canonical(decoded)).toBe(canonical(tx));
  });
});
