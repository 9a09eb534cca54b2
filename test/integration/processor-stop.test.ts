import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { apiKeys } from '../broker/kafka-proxy';
import { startFaultRig, waitForGroupCaughtUp, SteadyProducer, type FaultRig } from '../support/broker-faults';
import { ProcessorChild } from '../support/processor-child';

/** How long `graphfold run` took to exit after `signal`, or Infinity past `withinMs` (then it is killed). */
async function exitAfter(child: ProcessorChild, signal: NodeJS.Signals, withinMs: number): Promise<{ seconds: number; code: number | null }> {
  const sent = Date.now();
  child.kill(signal);
  const code = await Promise.race([child.exited, sleep(withinMs, 'late' as const)]);
  if (code === 'late') {
    child.kill('SIGKILL');
    return { seconds: Number.POSITIVE_INFINITY, code: await child.exited };
  }
  return { seconds: (Date.now() - sent) / 1000, code };
}

/**
 * A stop is honoured within a bounded time in every state, as Kubernetes needs (SIGTERM, then
 * SIGKILL 30 s later): while joining the group, while the first connection is retried, and with
 * the broker gone; a second signal exits at once; a broker that is down at start is one line.
 */
describe('graphfold run, stopped in every state', () => {
  let rig: FaultRig | undefined;
  beforeAll(async () => {
    rig = await startFaultRig({ partitions: 1, proxied: true });
  }, 240_000);
  afterAll(async () => {
    await rig?.destroy();
  });
  const current = (): FaultRig => rig as FaultRig;
  const proxy = (): NonNullable<FaultRig['broker']['proxy']> => current().broker.proxy as NonNullable<FaultRig['broker']['proxy']>;
  afterEach(async () => {
    proxy().rule = () => 'pass';
    await proxy().refuse(false);
  });

  test('SIGTERM while it joins the group (the coordinator sits on the JoinGroup) exits within 25 s, code 0', async () => {
    proxy().rule = (request) => (request.apiKey === apiKeys.joinGroup ? 'hold' : 'pass');
    const joins = joinsSeen(current());
    const child = ProcessorChild.start('joining', current().topologyFile, join(current().dir, 'joining.log'));
    expect(await waitForJoin(current(), joins, 60_000)).toBe(true);
    const { seconds, code } = await exitAfter(child, 'SIGTERM', 40_000);
    expect({ seconds: seconds < 25, code, log: seconds < 25 ? '' : await child.tail() }).toEqual({ seconds: true, code: 0, log: '' });
  });

  test('SIGTERM while it retries the first connection (the broker refuses it) exits within 25 s, code 0', async () => {
    await proxy().refuse(true);
    const child = ProcessorChild.start('connecting', current().topologyFile, join(current().dir, 'connecting.log'));
    await sleep(4_000);
    const { seconds, code } = await exitAfter(child, 'SIGTERM', 40_000);
    expect({ seconds: seconds < 25, code }).toEqual({ seconds: true, code: 0 });
  });

  test('with the broker down at start, graphfold run gives up with one graphfold: line naming the cluster, no stack trace, exit code 1', async () => {
    await proxy().refuse(true);
    const child = ProcessorChild.start('down', current().topologyFile, join(current().dir, 'down.log'));
    const code = await Promise.race([child.exited, sleep(120_000, 'late' as const)]);
    if (code === 'late') child.kill('SIGKILL');
    expect(code).toBe(1);
    const plain = child.lines.filter((line) => typeof line['time'] !== 'string').map((line) => String(line['message']));
    expect(plain).toHaveLength(1);
    expect(plain[0]).toMatch(new RegExp(`^graphfold: Kafka cluster at ${proxy().bootstrap.replace(/\./g, '\\.')}: cannot start processor graphs: .*ECONNREFUSED`));
    expect(plain[0]).not.toMatch(/\n\s+at /);
  }, 180_000);

  test('a second signal exits at once', async () => {
    proxy().rule = (request) => (request.apiKey === apiKeys.joinGroup ? 'hold' : 'pass');
    const joins = joinsSeen(current());
    const child = ProcessorChild.start('twice', current().topologyFile, join(current().dir, 'twice.log'));
    expect(await waitForJoin(current(), joins, 60_000)).toBe(true);
    child.kill('SIGTERM');
    await sleep(300);
    const { seconds } = await exitAfter(child, 'SIGINT', 10_000);
    expect(seconds).toBeLessThan(3);
  });

  test('SIGTERM after the broker died stops within 25 s, code 0', async () => {
    const child = ProcessorChild.start('orphaned', current().topologyFile, join(current().dir, 'orphaned.log'));
    const producer = new SteadyProducer(current(), { seed: 21 });
    try {
      await child.waitForLog('partition ready', () => true, 120_000);
      await sleep(2_000);
      await producer.stop();
      await waitForGroupCaughtUp(current());
      await current().broker.kill('SIGKILL');
      // Long enough for kafkajs to be deep in its reconnect timers (which, before the stop was
      // bounded, kept the process up long after "processor stopped"; 3 s did not show it).
      await sleep(40_000);
      const { seconds, code } = await exitAfter(child, 'SIGTERM', 60_000);
      expect({ seconds: seconds < 25, code, seconds_: seconds }).toEqual({ seconds: true, code: 0, seconds_: seconds });
    } finally {
      await producer.stop();
      if (!current().broker.running) await current().broker.restart();
    }
  }, 300_000);
});

function joinsSeen(rig: FaultRig): number {
  return rig.broker.proxy?.seen.filter((r) => r.apiKey === apiKeys.joinGroup).length ?? 0;
}

/** True once a JoinGroup request beyond the `before` seen so far has reached the proxy (and is being held). */
async function waitForJoin(rig: FaultRig, before: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (joinsSeen(rig) > before) return true;
    await sleep(100);
  }
  return false;
}
