import { Kafka, logLevel, type Message, type Producer } from 'kafkajs';
import { avroTypes } from '../../../processors/codec/avro';
import type { AvroGraphTransaction } from '../../../processors/codec/avro-wire.generated';
import { frame, unframe } from '../../../processors/codec/framing';
import { transactionFromAvro, transactionToAvro } from '../../../processors/codec/transaction';

/**
 * The ceiling: what kafkajs allows on this machine for graphfold's consume-transform-produce
 * pattern, with no state. The same consumer settings and batching as graphfold (one Kafka
 * transaction per fetched batch, a transactional producer per input partition, offsets sent in
 * the transaction), decoding every record into a transaction and encoding it again.
 *
 * Run as a child: `node ceiling.js '<json>'` with brokers, group, input, output, partitions.
 * Prints `{"event":"running"}` once consuming; stops on SIGTERM.
 */
interface CeilingConfig {
  readonly brokers: readonly string[];
  readonly group: string;
  readonly input: string;
  readonly output: string;
  readonly partitions: number;
  readonly schemaId: number;
}

async function main(config: CeilingConfig): Promise<void> {
  const kafka = new Kafka({ clientId: config.group, brokers: [...config.brokers], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const producers = new Map<number, Producer>();
  const producer = async (partition: number): Promise<Producer> => {
    let p = producers.get(partition);
    if (p === undefined) {
      p = kafka.producer({ transactionalId: `${config.group}-${partition}`, idempotent: true, maxInFlightRequests: 1, retry: { initialRetryTime: 10, maxRetryTime: 2_000, retries: 15 } });
      await p.connect();
      producers.set(partition, p);
    }
    return p;
  };
  const consumer = kafka.consumer({ groupId: config.group, maxBytesPerPartition: 1 << 20 });
  await consumer.connect();
  await consumer.subscribe({ topics: [config.input], fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: config.partitions,
    eachBatch: async ({ batch, resolveOffset }) => {
      const type = avroTypes().transaction;
      const messages: Message[] = batch.messages.map((m) => {
        const tx = transactionFromAvro(type.fromBuffer(unframe(m.value as Buffer).body) as AvroGraphTransaction);
        return { key: m.key, value: frame(config.schemaId, type.toBuffer(transactionToAvro(tx))), partition: batch.partition, timestamp: m.timestamp };
      });
      const last = batch.messages[batch.messages.length - 1];
      if (last === undefined) return;
      const transaction = await (await producer(batch.partition)).transaction();
      try {
        for (let i = 0; i < messages.length; i += 1_000) await transaction.send({ topic: config.output, messages: messages.slice(i, i + 1_000) });
        await transaction.sendOffsets({ consumerGroupId: config.group, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: String(Number(last.offset) + 1) }] }] });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      resolveOffset(last.offset);
    },
  });
  process.stdout.write(`${JSON.stringify({ event: 'running' })}\n`);
  const stop = async (): Promise<void> => {
    await consumer.disconnect();
    await Promise.all([...producers.values()].map((p) => p.disconnect()));
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
}

main(JSON.parse(process.argv[2] ?? '{}') as CeilingConfig).catch((error: unknown) => {
  process.stderr.write(`ceiling failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
