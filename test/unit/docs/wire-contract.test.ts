import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { transactionFromJson, transactionFromJsonValue } from '../../../processors/codec/json';
import { deriveUid } from '../../../processors/engine/uid';
import { foldInto } from '../../support/fold-loop';
import { openTempStore } from '../../support/temp-store';

/** The examples of schemas/README.md are true: they parse, and say what graphfold does with them. */
const doc = readFileSync(join(resolve(__dirname, '../../..'), 'schemas/README.md'), 'utf8');

describe('schemas/README.md', () => {
  test('the JSON transaction parses, uses every instruction, and is refused CONFLICT as the text says', async () => {
    const json = /```json\n([\s\S]*?)\n```/.exec(doc)?.[1] ?? '';
    const tx = transactionFromJson(json);
    expect(new Set(tx.instructions.map((i) => i.op))).toEqual(new Set(['CreateEntity', 'CreateRelation', 'CreateAttribute', 'SetField', 'Assign', 'Merge', 'Terminate']));
    const temp = await openTempStore();
    try {
      const result = await foldInto(temp.store, tx, { source: { topic: 'in', partition: 0, offset: 0 }, recordTime: 0, maxInstructions: 100 });
      expect(result.outcome === 'refused' && result.error.code).toBe('CONFLICT');
    } finally {
      await temp.close();
    }
  });

  test('every value of the JSON value table reads as its type', () => {
    const rows = doc.slice(doc.indexOf('| value type | JSON |')).split('\n').filter((line) => line.startsWith('| ') && line.includes('{"type"'));
    const values = rows.flatMap((row) => [...row.matchAll(/`(\{"type"[^`]*\})`/g)].map((m) => JSON.parse(m[1] as string) as { type: string }));
    expect(new Set(values.map((v) => v.type))).toEqual(new Set(['String', 'Int', 'Float', 'Bool', 'Time', 'Bytes', 'Enum', 'Quantity']));
    for (const value of values) {
      const tx = transactionFromJsonValue({ graph: 'g', txId: 't', instructions: [{ op: 'SetField', subject: { ref: 'x' }, relation: 'r', value }] });
      expect(tx.instructions[0]).toMatchObject({ value: { type: value.type } });
    }
  });

  test('the uid example is the uid graphfold derives', () => {
    const [, uid] = /the atom that transaction `tx-1` names `ada` is\s+`([0-9a-f]{32})`/.exec(doc) ?? [];
    expect(uid).toBe(deriveUid('acme', 'tx-1', { ref: 'ada' }));
  });
});
