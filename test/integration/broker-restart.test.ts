import { join } from 'node:path';
import { startFaultRig, SteadyProducer, expectChangelogMatches, secondsToResume, waitForGroupCaughtUp, type FaultRig } from '../support/broker-faults';
import { ProcessorChild } from '../support/processor-child';

/**
 * The processor's broker goes away and comes back, as brokers do (a crash, a rolling restart):
 * processing resumes within seconds of the broker answering again, not after a session timeout,
 * the processor survives every restart, and nothing is lost or applied twice.
 */
describe('processor, its broker restarted', () => {
  let rig: FaultRig | undefined;
  afterAll(async () => {
    await rig?.destroy();
  });

  test('after a SIGKILL and three SIGTERM restarts of the broker, processing resumes within 15 s each time (session timeout 30 s), the processor lives on, and every transaction is applied exactly once', async () => {
    rig = await startFaultRig({ partitions: 2, sessionTimeoutMs: 30_000 });
    const current = rig;
    const child = ProcessorChild.start('processor', current.topologyFile, join(current.dir, 'processor.log'));
    const producer = new SteadyProducer(current, { seed: 11 });
    const resumed: { fault: string; seconds: number }[] = [];
    try {
      await child.waitForLog('partition ready', () => true, 120_000);
      await waitForGroupCaughtUp(current);
      resumed.push({ fault: 'SIGKILL', seconds: await secondsToResume(current, async () => {
        await current.broker.kill('SIGKILL');
        await current.broker.restart();
      }) });
      for (let i = 0; i < 3; i += 1) {
        resumed.push({ fault: 'SIGTERM', seconds: await secondsToResume(current, async () => {
          await current.broker.kill('SIGTERM');
          await current.broker.restart();
        }) });
      }
      process.stderr.write(`resumed after broker restarts: ${resumed.map((r) => `${r.fault} ${r.seconds.toFixed(1)} s`).join(', ')}\n`);
      const sent = await producer.stop();
      await waitForGroupCaughtUp(current);
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
      expect(child.logged('processor failed')).toEqual([]);
      for (const { seconds } of resumed) expect(seconds).toBeLessThan(15);
      expect(await expectChangelogMatches(current, sent)).toBeGreaterThan(0);
    } catch (error) {
      await producer.stop();
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\nresumed: ${JSON.stringify(resumed)}\n--- processor\n${await child.tail(80)}`, { cause: error });
    }
  }, 900_000);
});
