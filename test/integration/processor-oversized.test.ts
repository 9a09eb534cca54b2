import { createHash } from 'node:crypto';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { testKafka } from '../support/kafka';
import { createProcessorTopics, readDiffs, readRejections, testTopology, transactionMessage, transactionSchemaId } from '../support/processor-harness';

/**
 * A record just over the processor's maxRecordBytes, which an input topic with Kafka's default
 * settings still accepts, is rejected TOO_LARGE with a rejection that fits the rejections topic
 * (default settings too): the payload is cut to a prefix, and the rejection says so with the
 * original size and hash. The records behind it are applied.
 */
describe('processor, an oversized record', () => {
  test('a 1,048,450-byte record is rejected with a prefix of its payload, its size and its SHA-256, and never blocks its partition', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const schemaId = await transactionSchemaId(topics.input);
    const huge = Buffer.alloc(1_048_450, 0x7b);
    const valid = (n: number): ReturnType<typeof transactionMessage> => transactionMessage({ graph: 'g', txId: `ok-${n}`, instructions: [{ op: 'CreateEntity', type: 'Person', ref: `p${n}` }] }, schemaId);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.input, messages: [valid(0)] });
    await producer.send({ topic: topics.input, messages: [{ key: 'g', value: huge, headers: { 'content-type': 'application/json' } }] });
    await producer.send({ topic: topics.input, messages: [valid(1), valid(2), valid(3)] });
    await producer.disconnect();

    const running = await runTopology(await testTopology(topics, { maxRecordBytes: 1_000_000 }), new Instrumentation());
    try {
      const diffs = await readDiffs(kafka, topics.diffs, 4, 60_000);
      expect(diffs.map((d) => d.txId)).toEqual(['ok-0', 'ok-1', 'ok-2', 'ok-3']);
      const [rejection] = await readRejections(kafka, topics.rejections, 1);
      expect(rejection?.code).toBe('TOO_LARGE');
      expect(Number(rejection?.source.offset)).toBe(1);
      const payload = rejection?.payload as Buffer;
      expect(payload.length).toBeLessThan(huge.length);
      expect(payload.length).toBeGreaterThan(900_000);
      expect(Buffer.compare(payload, huge.subarray(0, payload.length))).toBe(0);
      const sha256 = createHash('sha256').update(huge).digest('hex');
      expect(rejection?.headers).toMatchObject({ 'graphfold-payload-truncated': 'true', 'graphfold-payload-bytes': String(huge.length), 'graphfold-payload-sha256': sha256 });
      expect(rejection?.message).toContain(`the payload holds the first ${payload.length} of the record's ${huge.length} bytes; sha256 of the whole: ${sha256}`);
    } finally {
      await running.stop();
      await running.done;
    }
  });
});
