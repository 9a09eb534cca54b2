import type { Message } from 'kafkajs';
import { partitionOf } from '../../processors/codec/partitioner';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { testKafka, transactionalProducer, waitForMessages } from '../support/kafka';
import { createProcessorTopics, decodeDiff, readRejections, testTopology, transactionMessage, transactionSchemaId } from '../support/processor-harness';

/**
 * The processor's side of the wire contract against the real broker: a record on another
 * partition than its key's is refused WRONG_PARTITION and changes nothing (the graph's history
 * stays on its own partition); the topology's headers are carried onto diffs and rejections; a
 * JSON content-type is matched as a media type.
 */
describe('processor, the wire contract', () => {
  test('a record off its key\'s partition is WRONG_PARTITION; headers are carried; content-type is a media type', async () => {
    const kafka = testKafka();
    const partitions = 3;
    const topics = await createProcessorTopics(kafka, partitions);
    const schemaId = await transactionSchemaId(topics.input);
    const graph = 'acme';
    const home = partitionOf(graph, partitions);
    const away = (home + 1) % partitions;
    const trace = (n: number): Message['headers'] => ({ traceparent: `00-${String(n).padStart(32, '0')}-00f067aa0ba902b7-01`, tracestate: `vendor=${n}`, 'x-not-carried': 'no' });
    const messages: Message[] = [
      { ...transactionMessage({ graph, txId: 't1', instructions: [{ op: 'CreateEntity', ref: 'ada', type: 'Person' }] }, schemaId), partition: home, headers: trace(1) },
      // What a librdkafka producer with its default (CRC32) partitioner would do with another key's hash.
      { ...transactionMessage({ graph, txId: 't2', instructions: [{ op: 'CreateEntity', ref: 'bob', type: 'Person' }] }, schemaId), partition: away, headers: trace(2) },
      {
        key: graph,
        value: Buffer.from(JSON.stringify({ graph, txId: 't3', instructions: [{ op: 'CreateEntity', ref: 'eve', type: 'Person' }] })),
        partition: home,
        headers: { 'Content-Type': 'Application/JSON; charset=utf-8', ...trace(3) },
      },
    ];
    const producer = await transactionalProducer(kafka);
    const transaction = await producer.transaction();
    await transaction.send({ topic: topics.input, messages });
    await transaction.commit();
    await producer.disconnect();

    const running = await runTopology(await testTopology(topics), new Instrumentation());
    try {
      const diffs = await waitForMessages(kafka, topics.diffs, 2, { timeoutMs: 60_000 });
      expect(diffs.map((m) => [decodeDiff(m).txId, decodeDiff(m).slice, m.partition])).toEqual([
        ['t1', 1, home],
        ['t3', 2, home],
      ]);
      expect(diffs.map((m) => String(m.headers['traceparent']))).toEqual([String(trace(1)?.['traceparent']), String(trace(3)?.['traceparent'])]);
      expect(diffs.map((m) => String(m.headers['tracestate']))).toEqual(['vendor=1', 'vendor=3']);
      expect(diffs.every((m) => m.headers['x-not-carried'] === undefined)).toBe(true);

      const [rejection] = await readRejections(kafka, topics.rejections, 1);
      expect(rejection?.code).toBe('WRONG_PARTITION');
      expect(rejection?.txId).toBe('t2');
      expect(rejection?.source.partition).toBe(away);
      expect(rejection?.message).toContain(`belongs on partition ${home} of ${topics.input}`);
      expect(rejection?.message).toContain('partitioner=murmur2_random');
      expect(rejection?.headers['traceparent']).toBe(String(trace(2)?.['traceparent']));
      expect(rejection?.headers['graphfold-rejection-code']).toBe('WRONG_PARTITION');
    } finally {
      await running.stop();
      await running.done;
    }
  });
});
