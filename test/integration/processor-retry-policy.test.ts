import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphTransaction } from '../../processors/engine/model';
import { apiKeys } from '../broker/kafka-proxy';
import { workload } from '../bench/workload';
import { startFaultRig, SteadyProducer, waitForGroupCaughtUp, expectChangelogMatches, type FaultRig } from '../support/broker-faults';
import { createTopic, testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, writeTopologyFile } from '../support/processor-child';
import { transactionMessage, transactionSchemaId } from '../support/processor-harness';

/**
 * One retry policy, keyed on what an error means: coordinator, leadership and connection trouble
 * is retried with backoff (also when kafkajs itself gives up on a coordinator), a partition that
 * keeps failing at one offset stops the processor after taskTimeoutMs with the offset and the
 * cause, and meanwhile the operator sees the lag and a stalled partition.
 */
describe('processor failure policy', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.destroy();
  });

  test('group coordinator lookups that fail (the connection closes under them, as in a broker restart) are retried: the processor joins and applies everything', async () => {
    rig = await startFaultRig({ partitions: 2, proxied: true });
    const current = rig;
    const proxy = current.broker.proxy as NonNullable<FaultRig['broker']['proxy']>;
    let dropped = 0;
    proxy.rule = (request) => {
      if (request.apiKey === apiKeys.findCoordinator && request.coordinatorKey === current.group && dropped < 3) {
        dropped += 1;
        return 'drop';
      }
      return 'pass';
    };
    const producer = new SteadyProducer(current, { seed: 5, intervalMs: 200 });
    const child = ProcessorChild.start('processor', current.topologyFile, join(current.dir, 'coordinator.log'));
    try {
      await child.waitForLog('partition ready', () => true, 120_000);
      const sent = await producer.stop();
      await waitForGroupCaughtUp(current);
      expect(dropped).toBe(3);
      expect(child.logged('processor failed')).toEqual([]);
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      await expectChangelogMatches(current, sent);
    } catch (error) {
      await producer.stop();
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- processor\n${await child.tail(60)}`, { cause: error });
    }
  }, 300_000);

  test('a partition that cannot commit (its rejections topic was deleted under it) backs off, is reported stalled with its true lag, and past taskTimeoutMs stops the processor naming the offset and the cause', async () => {
    const kafka = testKafka();
    const [input, diffs, rejections] = await Promise.all([
      createTopic(kafka, { prefix: 'instructions' }),
      createTopic(kafka, { prefix: 'diffs', config: { 'cleanup.policy': 'delete', 'retention.ms': '-1' } }),
      createTopic(kafka, { prefix: 'rejections' }),
    ]);
    const schemaId = await transactionSchemaId(input);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-budget-'));
    const file = await writeTopologyFile(dir, { input, diffs, rejections, partitions: 1 }, { application: uniqueName('budget'), stateDir: join(dir, 'state'), processorLines: ['taskTimeoutMs: 40000'] });
    const child = ProcessorChild.start('processor', file, join(dir, 'processor.log'));
    await child.waitForLog('partition ready');

    // Every batch from now on holds a rejection, which cannot be written (retriably: the topic
    // might be coming back), so the partition fails at offset 0 again and again.
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [rejections] });
    await admin.disconnect();
    const stream = workload({ seed: 8, graphs: 2 });
    const txs = Array.from({ length: 39 }, () => stream.next().value as GraphTransaction);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: input, messages: [{ key: 'g', value: Buffer.from('not a transaction') }, ...txs.map((tx) => transactionMessage(tx, schemaId))] });
    await producer.disconnect();
    const started = Date.now();
    const code = await Promise.race([child.exited, sleep(150_000, 'late' as const)]);
    if (code === 'late') child.kill('SIGKILL');
    const log = await child.tail(60);
    expect({ code, log: code === 1 ? '' : log }).toEqual({ code: 1, log: '' });
    expect((Date.now() - started) / 1000).toBeLessThan(150);
    // The stop names the partition, the offset and the cause (reopening the task fails too, as it
    // reads the rejections topic for the rejected txIds: still the same offset).
    const failed = child.logged('processor failed')[0];
    expect(failed?.['detail']).toMatch(/gave up at partition 0 offset 0( \(reopening its task\))? after \d+ failures in \d+ s \(taskTimeoutMs is 40000\)/);
    expect(JSON.stringify(failed)).toMatch(/UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition/);
    // Retries were spaced out, each failure reported with its cause.
    const failures = child.logged('partition task failed; opening it again');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(failures[0])).toMatch(/UNKNOWN_TOPIC_OR_PARTITION|does not host this topic-partition/);
    // Meanwhile the operator saw the partition stall with its real lag, not lag=0.
    const stalled = child.logged('partition stalled: input waits but nothing was committed');
    expect(stalled[0]).toMatchObject({ partition: 0, lag: 40 });
    expect(child.logged('progress').some((line) => line['lag'] === 40)).toBe(true);
    expect(child.logged('progress').some((line) => line['lag'] === 0)).toBe(false);
  }, 240_000);
});
