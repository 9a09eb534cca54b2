import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphTransaction } from '../../processors/engine/model';
import { workload } from '../bench/workload';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { createProcessorTopics, expectedDiffCount, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { waitFor } from '../support/wait-for';

/** A sample of a metric with these labels, from Prometheus text. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of body.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const have = (match[2] as string).split(',');
    if (wanted.every((w) => have.includes(w))) return Number(match[3]);
  }
  return undefined;
}

describe('graphfold run with ops.listen', () => {
  test('serves /metrics (Prometheus: records by outcome and code, lag per partition, batch and commit latency, rebalances, connection, store size), /healthz and /readyz', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const schemaId = await transactionSchemaId(topics.input);
    const stream = workload({ seed: 31, graphs: 4 });
    const txs = Array.from({ length: 60 }, () => stream.next().value as GraphTransaction);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: topics.input, messages: [...txs.map((tx) => transactionMessage(tx, schemaId)), { key: 'g', value: Buffer.from('not json'), headers: { 'content-type': 'application/json' } }] });
    await producer.disconnect();
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-ops-'));
    const application = uniqueName('ops');
    const file = await writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state'), topologyLines: ['ops:', '  listen: 127.0.0.1:0'] });
    const child = ProcessorChild.start('processor', file, join(dir, 'ops.log'));
    try {
      const listening = await child.waitForLog('ops endpoints listening');
      const url = String(listening['url']);
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);

      const ready = await waitFor('readyz to answer 200', async () => {
        const response = await fetch(`${url}/readyz`);
        return response.status === 200 ? ((await response.json()) as unknown) : undefined;
      });
      expect(ready).toEqual({ ok: true, processors: { graphs: 'running' }, partitions: { 'graphs/0': { state: 'ready' }, 'graphs/1': { state: 'ready' } } });
      const live = await fetch(`${url}/healthz`);
      expect(live.status).toBe(200);
      expect(await live.json()).toEqual({ ok: true, processors: { graphs: 'running' } });

      const applied = await expectedDiffCount(txs);
      // Lag comes from a 5 s measurement, store sizes from a 30 s one.
      const body = await waitFor(
        'the metrics to show lag 0 and the store sizes',
        async () => {
          const response = await fetch(`${url}/metrics`);
          const text = await response.text();
          expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
          const lagged = [0, 1].every((p) => sample(text, 'graphfold_partition_lag', { processor: 'graphs', partition: String(p) }) === 0);
          const sized = [0, 1].every((p) => (sample(text, 'graphfold_store_size_bytes', { processor: 'graphs', partition: String(p) }) ?? 0) > 0);
          return lagged && sized ? text : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 1_000 },
      );
      expect(sample(body, 'graphfold_records_total', { processor: 'graphs', outcome: 'applied' })).toBe(applied);
      expect(sample(body, 'graphfold_records_total', { processor: 'graphs', outcome: 'rejected' })).toBe(1);
      expect(sample(body, 'graphfold_rejections_total', { processor: 'graphs', code: 'DECODE_ERROR' })).toBe(1);
      expect(sample(body, 'graphfold_batch_duration_seconds_count', { processor: 'graphs' })).toBeGreaterThan(0);
      expect(sample(body, 'graphfold_commit_duration_seconds_count', { processor: 'graphs' })).toBeGreaterThan(0);
      expect(sample(body, 'graphfold_rebalances_total', { processor: 'graphs' })).toBeGreaterThanOrEqual(1);
      expect(sample(body, 'graphfold_assigned_partitions', { processor: 'graphs' })).toBe(2);
      expect(sample(body, 'graphfold_connected', { processor: 'graphs' })).toBe(1);
      expect(sample(body, 'graphfold_processor_up', { processor: 'graphs' })).toBe(1);
      expect(body).toMatch(/^process_resident_memory_bytes \d+/m);

      expect((await fetch(`${url}/nowhere`)).status).toBe(404);
      expect((await fetch(`${url}/metrics`, { method: 'POST' })).status).toBe(405);
      child.kill('SIGTERM');
      expect(await child.exited).toBe(0);
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n${await child.tail()}`, { cause: error });
    }
  }, 180_000);
});
