import { avroTypes, bundledSchema, parseSchema } from '../../../processors/codec/avro';
import { frame } from '../../../processors/codec/framing';
import { InputDecoder } from '../../../processors/codec/input';
import { unreadableBecause } from '../../../processors/codec/resolution';
import { transactionToAvro } from '../../../processors/codec/transaction';
import { TerminalError } from '../../../processors/errors';

type Json = Record<string, unknown> & { fields: (Record<string, unknown> & { name: string; type: unknown })[] };

/** graphfold's GraphTransaction as a producer would evolve it: a copy of the bundled schema. */
function transactionSchema(): Json {
  return JSON.parse(JSON.stringify(bundledSchema('graphfold.GraphTransaction'))) as Json;
}

function instructionsOf(schema: Json): Json[] {
  return (schema.fields.find((f) => f.name === 'instructions')?.type as { items: Json[] }).items;
}

const reader = avroTypes().transaction;

describe('why a writer schema cannot be read', () => {
  test('a writer that dropped txId: names the field', () => {
    const schema = transactionSchema();
    schema.fields = schema.fields.filter((f) => f.name !== 'txId');
    expect(unreadableBecause(parseSchema(schema), reader)).toBe('field txId is missing from the writer schema, and graphfold needs it (it has no default)');
  });

  test('a writer with a new instruction: names the branch and where it is', () => {
    const schema = transactionSchema();
    instructionsOf(schema).push({ type: 'record', name: 'Upsert', fields: [{ name: 'uid', type: 'string' }] });
    expect(unreadableBecause(parseSchema(schema), reader)).toMatch(/^instructions\[\]: the writer's branch graphfold\.Upsert is not one graphfold knows \(it reads graphfold\.CreateEntity, .*graphfold\.Merge\)$/);
  });

  test('a writer whose field changed type, deep inside an instruction', () => {
    const schema = transactionSchema();
    const create = instructionsOf(schema)[0] as Json;
    create.fields = create.fields.map((f) => (f.name === 'type' ? { ...f, type: 'int' } : f));
    expect(unreadableBecause(parseSchema(schema), reader)).toBe("instructions[].type: the writer's int cannot be read as graphfold's string");
  });

  test('a compatible writer (a field of the producer\'s own) is readable, and the decoder reads it', () => {
    const schema = transactionSchema();
    schema.fields.push({ name: 'producer', type: 'string' });
    const writer = parseSchema(schema);
    expect(unreadableBecause(writer, reader)).toBeUndefined();
    const tx = { graph: 'g', txId: 't', instructions: [{ op: 'CreateEntity' as const, type: 'Person' }] };
    const value = frame(9, writer.toBuffer({ ...transactionToAvro(tx), producer: 'billing' }));
    expect(new InputDecoder(1 << 20).decode({ key: Buffer.from('g'), value }, new Map([[9, writer]]))).toEqual(tx);
  });

  test('the decoder refuses a record of an unreadable writer UNKNOWN_SCHEMA, saying which schema id, what and what to do', () => {
    const schema = transactionSchema();
    schema.fields = schema.fields.filter((f) => f.name !== 'txId');
    const writer = parseSchema(schema);
    const value = frame(42, writer.toBuffer({ graph: 'g', time: null, expectSlice: null, instructions: [] }));
    let refused: unknown;
    try {
      new InputDecoder(1 << 20).decode({ key: Buffer.from('g'), value }, new Map([[42, writer]]));
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(TerminalError);
    expect((refused as TerminalError).code).toBe('UNKNOWN_SCHEMA');
    expect((refused as TerminalError).message).toBe(
      'schema id 42 (graphfold.GraphTransaction) cannot be read as graphfold.GraphTransaction: field txId is missing from the writer schema, and graphfold needs it (it has no default). Write with schemas/bundled/graphfold.GraphTransaction.avsc or a version graphfold can read (schemas/README.md, "Evolution"); topology apply sets the input subject to FORWARD_TRANSITIVE, so the registry refuses such versions',
    );
  });
});
