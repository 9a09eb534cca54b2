import { avroTypes } from '../../../processors/codec/avro';
import { diffToAvro } from '../../../processors/codec/diff';
import { InMemorySchemaRegistry } from '../../../processors/testing';

describe('InMemorySchemaRegistry (the test driver\'s stand-in for the registry)', () => {
  test('ids are global from 1; the same schema has one id under every subject; versions are kept per subject', async () => {
    const registry = new InMemorySchemaRegistry();
    const order = JSON.stringify({ type: 'record', name: 'com.example.Order', fields: [{ name: 'id', type: 'string' }] });
    expect(registry.register('a-value', avroTypes().transaction)).toBe(1);
    expect(registry.register('b-value', avroTypes().diff)).toBe(2);
    // The same schema again, under another subject and written differently: the same id.
    expect(registry.register('c-value', JSON.parse(JSON.stringify(avroTypes().transaction.schema())) as object)).toBe(1);
    expect(registry.register('a-value', order)).toBe(3);
    expect(registry.register('a-value', avroTypes().transaction)).toBe(1);
    expect(registry.versions('a-value')).toEqual([1, 3]);
    expect(registry.versions('nothing-value')).toEqual([]);
    expect(registry.subjectNames).toEqual(['a-value', 'b-value', 'c-value']);
    await registry.fetch([1, 99]);
    expect([...registry.known.keys()]).toEqual([1, 2, 3]);
    // Longs read as bigints, as the processor reads every writer schema.
    const body = avroTypes().diff.toBuffer(diffToAvro({ graph: 'g', slice: 7, txId: 't', time: 5, source: { topic: 'x', partition: 0, offset: 3 }, changes: [] }));
    expect(registry.known.get(2)?.fromBuffer(body)).toMatchObject({ slice: 7n, time: 5n, source: { offset: 3n } });
  });
});
