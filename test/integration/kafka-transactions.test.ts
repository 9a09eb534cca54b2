import { createTopic, testKafka, transactionalProducer, waitForMessages } from '../support/kafka';

const values = (messages: { value: Buffer | null }[]): string[] => messages.map((m) => m.value?.toString('utf8') ?? '<null>');

describe('Kafka transactions on the test cluster', () => {
  const kafka = testKafka();

  test('a read_committed reader sees the committed transactions and nothing of an aborted one', async () => {
    const topic = await createTopic(kafka, { prefix: 'tx-abort' });
    const producer = await transactionalProducer(kafka);
    try {
      const first = await producer.transaction();
      await first.send({ topic, messages: [{ key: 'g', value: 'committed-1' }, { key: 'g', value: 'committed-2' }] });
      await first.commit();

      const aborted = await producer.transaction();
      await aborted.send({ topic, messages: [{ key: 'g', value: 'aborted-1' }, { key: 'g', value: 'aborted-2' }] });
      await aborted.abort();

      const last = await producer.transaction();
      await last.send({ topic, messages: [{ key: 'g', value: 'committed-3' }] });
      await last.commit();
    } finally {
      await producer.disconnect();
    }

    // The aborted records sit between committed ones in the log, so a reader that let them through
    // would meet them before committed-3.
    expect(values(await waitForMessages(kafka, topic, 3))).toEqual(['committed-1', 'committed-2', 'committed-3']);
    // They really are in the log: read_uncommitted returns them.
    expect(values(await waitForMessages(kafka, topic, 5, { uncommitted: true }))).toEqual([
      'committed-1',
      'committed-2',
      'aborted-1',
      'aborted-2',
      'committed-3',
    ]);
  });

  test('records of an open transaction stay invisible to read_committed until it commits', async () => {
    const topic = await createTopic(kafka, { prefix: 'tx-open' });
    const producer = await transactionalProducer(kafka);
    try {
      const open = await producer.transaction();
      await open.send({ topic, messages: [{ value: 'pending' }] });
      await expect(waitForMessages(kafka, topic, 1, { timeoutMs: 3_000 })).rejects.toThrow(/got 0/);
      await open.commit();
    } finally {
      await producer.disconnect();
    }
    expect(values(await waitForMessages(kafka, topic, 1))).toEqual(['pending']);
  });
});
