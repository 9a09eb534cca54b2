import type { Message } from 'kafkajs';
import { frame } from '../../processors/codec/framing';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { testKafka, transactionalProducer } from '../support/kafka';
import { createProcessorTopics, readDiffs, readRejections, testTopology, transactionMessage, transactionSchemaId } from '../support/processor-harness';

describe('processor, poison input', () => {
  test('every kind of bad record becomes a rejection with its code and original bytes, and the partition keeps flowing', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const schemaId = await transactionSchemaId(topics.input);
    const uid = 'a'.repeat(32);
    let n = 0;
    const valid = (): Message => transactionMessage({ graph: 'g', txId: `ok-${n}`, instructions: [{ op: 'CreateEntity', type: 'Person', ref: `p${n++}` }] }, schemaId);
    const poison: { readonly code: string; readonly message: Message }[] = [
      { code: 'DECODE_ERROR', message: { key: 'g', value: Buffer.from('{"graph": "g", "txId": "not json') } },
      { code: 'DECODE_ERROR', message: { key: 'g', value: Buffer.from([0x07, 0, 0, 0, 1, 2, 3]) } },
      { code: 'DECODE_ERROR', message: { key: 'g', value: frame(schemaId, Buffer.from([0xff, 0xff, 0xff])) } },
      { code: 'DECODE_ERROR', message: { key: 'g', value: Buffer.from('{"graph":"g"}'), headers: { 'content-type': 'application/json' } } },
      { code: 'UNKNOWN_SCHEMA', message: { key: 'g', value: frame(2_000_000_000, Buffer.from([0])) } },
      { code: 'INVALID_INSTRUCTION', message: transactionMessage({ graph: 'g', txId: 'bad-uid', instructions: [{ op: 'Assign', target: { uid: 'not-a-uid' }, value: { type: 'Int', value: 1n } }] }, schemaId) },
      { code: 'INVALID_INSTRUCTION', message: { ...transactionMessage({ graph: 'g', txId: 'no-key', instructions: [{ op: 'CreateEntity', type: 'Person' }] }, schemaId), key: null } },
      {
        code: 'CONFLICT',
        message: transactionMessage({ graph: 'g', txId: 'conflict', instructions: [{ op: 'CreateEntity', uid, type: 'Person' }, { op: 'CreateEntity', uid, type: 'Person' }] }, schemaId),
      },
      { code: 'NOT_FOUND', message: transactionMessage({ graph: 'g', txId: 'missing', instructions: [{ op: 'Terminate', target: { uid } }] }, schemaId) },
      { code: 'TOO_LARGE', message: transactionMessage({ graph: 'g', txId: 'large', instructions: Array.from({ length: 20 }, () => ({ op: 'CreateEntity' as const, type: 'Person' })) }, schemaId) },
      { code: 'TOO_LARGE', message: { key: 'g', value: Buffer.alloc(5_000, 0x20), headers: { 'content-type': 'application/json' } } },
    ];
    const messages: Message[] = [valid()];
    for (const { message } of poison) messages.push(message, valid());

    const producer = await transactionalProducer(kafka);
    const transaction = await producer.transaction();
    await transaction.send({ topic: topics.input, messages });
    await transaction.commit();
    await producer.disconnect();

    const running = await runTopology(await testTopology(topics, { maxInstructions: 10, maxRecordBytes: 4_096 }), new Instrumentation());
    try {
      const diffs = await readDiffs(kafka, topics.diffs, poison.length + 1);
      expect(diffs.map((d) => d.slice)).toEqual(diffs.map((_, i) => i + 1));
      expect(diffs.map((d) => d.txId)).toEqual(diffs.map((_, i) => `ok-${i}`));

      const rejections = await readRejections(kafka, topics.rejections, poison.length);
      expect(rejections.map((r) => r.code)).toEqual(poison.map((p) => p.code));
      rejections.forEach((rejection, i) => {
        const original = poison[i]?.message.value as Buffer;
        expect(Buffer.compare(rejection.payload, original)).toBe(0);
        expect(rejection.headers['graphfold-rejection-code']).toBe(rejection.code);
        expect(Number(rejection.headers['graphfold-origin-offset'])).toBe(2 * i + 1);
        expect(rejection.message.length).toBeGreaterThan(10);
      });
    } finally {
      await running.stop();
      await running.done;
    }
  });

  test('a transaction whose diff would exceed maxRecordBytes is rejected TOO_LARGE before anything of it is applied', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const schemaId = await transactionSchemaId(topics.input);
    const uid = 'b'.repeat(32);
    const text = (c: string): { type: 'String'; value: string } => ({ type: 'String', value: c.repeat(2_500) });
    // The second assignment's diff holds the previous value and the new one: 5,000 bytes from a 2,600-byte record.
    const txs = [
      { graph: 'g', txId: 'create', instructions: [{ op: 'CreateAttribute' as const, uid, valueType: 'String', value: text('x') }] },
      { graph: 'g', txId: 'replace', instructions: [{ op: 'Assign' as const, target: { uid }, value: text('y') }] },
      { graph: 'g', txId: 'after', instructions: [{ op: 'Assign' as const, target: { uid }, value: { type: 'String' as const, value: 'short' } }] },
    ];
    const messages = txs.map((tx) => transactionMessage(tx, schemaId));
    expect(messages.every((m) => (m.value as Buffer).length < 4_096)).toBe(true);

    const producer = await transactionalProducer(kafka);
    const transaction = await producer.transaction();
    await transaction.send({ topic: topics.input, messages });
    await transaction.commit();
    await producer.disconnect();

    const running = await runTopology(await testTopology(topics, { maxRecordBytes: 4_096 }), new Instrumentation());
    try {
      const diffs = await readDiffs(kafka, topics.diffs, 2);
      expect(diffs.map((d) => [d.txId, d.slice])).toEqual([
        ['create', 1],
        ['after', 2],
      ]);
      expect(diffs[1]?.changes).toEqual([{ op: 'Assigned', uid, previous: text('x'), value: { type: 'String', value: 'short' } }]);
      const [rejection] = await readRejections(kafka, topics.rejections, 1);
      expect(rejection?.code).toBe('TOO_LARGE');
      expect(rejection?.txId).toBe('replace');
      expect(rejection?.message).toMatch(/diff would be a changelog record of \d+ bytes; the limit \(maxRecordBytes\) is 4096/);
    } finally {
      await running.stop();
      await running.done;
    }
  });
});
