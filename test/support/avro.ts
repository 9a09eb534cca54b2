import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Message, RecordMetadata } from 'kafkajs';
import { testCluster } from './kafka';

/** An Avro schema as JSON (the content of an `.avsc` file, parsed). */
export type AvroSchemaJson = Readonly<Record<string, unknown>>;

/** A client of the test cluster's schema registry. */
export function testRegistry(): SchemaRegistry {
  return new SchemaRegistry({ host: testCluster().registryUrl });
}

/** Anything that sends records: a producer, or a transaction of one. */
export interface RecordSender {
  send(record: { topic: string; messages: Message[] }): Promise<RecordMetadata[]>;
}

export interface AvroRecord {
  readonly key?: string;
  readonly value: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Registers `schema` under `<topic>-value`, encodes each value in the Confluent wire
 * format (magic byte 0, 4-byte schema id, Avro body) and sends them to `topic`. Returns the schema
 * id. The registry refuses a schema that breaks BACKWARD compatibility with the subject's latest.
 */
export async function produceAvro(
  sender: RecordSender,
  registry: SchemaRegistry,
  topic: string,
  schema: AvroSchemaJson,
  records: readonly AvroRecord[],
): Promise<number> {
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject: `${topic}-value` });
  const messages: Message[] = [];
  for (const record of records) {
    messages.push({ key: record.key ?? null, value: await registry.encode(id, record.value), headers: { ...record.headers } });
  }
  await sender.send({ topic, messages });
  return id;
}
