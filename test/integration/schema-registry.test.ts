import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { produceAvro, testRegistry } from '../support/avro';
import { createTopic, testKafka, transactionalProducer, uniqueName, waitForMessages } from '../support/kafka';

const pingV1 = {
  type: 'record',
  name: 'Ping',
  namespace: 'dev.graphfold.test',
  fields: [
    { name: 'graph', type: 'string' },
    { name: 'slice', type: 'long' },
  ],
};

describe('Schema registry on the test cluster', () => {
  const kafka = testKafka();
  const registry = testRegistry();

  test('registers an Avro schema, produces in the Confluent wire format and decodes it back', async () => {
    const topic = await createTopic(kafka, { prefix: 'avro' });
    const producer = await transactionalProducer(kafka);
    const sent = { graph: 'g-1', slice: 42 };
    let schemaId: number;
    try {
      const transaction = await producer.transaction();
      schemaId = await produceAvro(transaction, registry, topic, pingV1, [{ key: 'g-1', value: sent }]);
      await transaction.commit();
    } finally {
      await producer.disconnect();
    }

    const [message] = await waitForMessages(kafka, topic, 1);
    const bytes = message?.value;
    if (bytes === null || bytes === undefined) throw new Error('the message has no value');
    expect(bytes.readUInt8(0)).toBe(0);
    expect(bytes.readUInt32BE(1)).toBe(schemaId);
    expect(await registry.getLatestSchemaId(`${topic}-value`)).toBe(schemaId);
    // Decoded through the registry (schema looked up by the id in the bytes) ...
    expect({ ...(await registry.decode(bytes)) }).toEqual(sent);
    // ... and by hand: the body after the 5-byte header is plain Avro of the registered schema.
    const writer = await registry.getSchema(schemaId);
    expect(writer.toBuffer(sent).equals(bytes.subarray(5))).toBe(true);
  });

  test('refuses a schema change that breaks BACKWARD compatibility and accepts one that keeps it', async () => {
    const subject = `${uniqueName('evolve')}-value`;
    const register = (schema: object): Promise<{ id: number }> =>
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });

    const v1 = await register(pingV1);
    const withRequiredField = { ...pingV1, fields: [...pingV1.fields, { name: 'txId', type: 'string' }] };
    await expect(register(withRequiredField)).rejects.toThrow();
    const withDefaultedField = { ...pingV1, fields: [...pingV1.fields, { name: 'txId', type: 'string', default: '' }] };
    const v2 = await register(withDefaultedField);
    expect(v2.id).not.toBe(v1.id);
    expect(await registry.getLatestSchemaId(subject)).toBe(v2.id);
  });
});
