import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { partitionOf } from '../../processors/codec/partitioner';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { QueryClient } from '../../processors/query/client';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { foldInto } from '../support/fold-loop';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, readAll, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { byGraph, createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { openTempStore } from '../support/temp-store';
import { waitFor } from '../support/wait-for';

/** An instance's topology: the harness's, with one standby per partition and a query API. */
function topologyFile(dir: string, name: string, topics: ProcessorTopics, application: string): Promise<string> {
  return writeTopologyFile(dir, topics, { application, stateDir: join(dir, name), file: `${name}.yaml`, processorLines: ['standbys: 1'], query: { listen: '127.0.0.1:0' } });
}

const assignedOf = (child: ProcessorChild): number[] => {
  const last = child.logged('partitions assigned').at(-1)?.['partitions'];
  return typeof last === 'string' && last !== 'none' ? last.split(',').map(Number) : [];
};

describe('standby replicas', () => {
  test('a standby takes over a SIGKILLed owner\'s partitions restoring only the tail, exactly once, and reads keep answering through the failover', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const schemaId = await transactionSchemaId(topics.input);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-standby-'));
    const application = uniqueName('standby');
    const stream = workload({ seed: 17, graphs: 6, graphPrefix: 'sb-' });
    const txs: GraphTransaction[] = Array.from({ length: 900 }, (_, i) => {
      const tx = stream.next().value as GraphTransaction;
      return i % 11 === 10 ? { graph: tx.graph, txId: `refused-${i}`, instructions: [{ op: 'Terminate' as const, target: { uid: 'f'.repeat(32) } }] } : tx;
    });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: topics.input, messages: txs.slice(0, 500).map((tx) => transactionMessage(tx, schemaId)) });

    const a = ProcessorChild.start('instance a', await topologyFile(dir, 'a', topics, application), join(dir, 'a.log'));
    const b = ProcessorChild.start('instance b', await topologyFile(dir, 'b', topics, application), join(dir, 'b.log'));
    const children = [a, b];
    try {
      // Each instance owns one partition and keeps a standby of the other, caught up.
      await waitFor('one partition each, and a standby of the other', () => {
        const [mine, theirs] = [assignedOf(a), assignedOf(b)];
        return mine.length === 1 && theirs.length === 1 && a.logged('standby replica following').length > 0 && b.logged('standby replica following').length > 0 ? true : undefined;
      }, { timeoutMs: 90_000 });
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);
      const [victim, survivor] = assignedOf(a).includes(0) ? [a, b] : [b, a];
      const lost = assignedOf(victim);
      const survivorUrl = (await survivor.waitForLog('query API listening'))['url'] as string;
      const client = new QueryClient(survivorUrl);
      const graphsThere = [...new Set(txs.map((tx) => tx.graph))].filter((g) => lost.includes(partitionOf(g, topics.partitions, 'murmur2')));
      expect(graphsThere.length).toBeGreaterThan(0);
      const graph = graphsThere[0] as string;
      // The survivor's /readyz lists its standby of the partitions it is to take; readiness does not
      // wait for them (it waits for the partitions it owns, which may still be opening: the group's
      // offsets were caught up by the first instance before the second joined).
      type Readiness = { ok: boolean; partitions: Record<string, { state: string; behind?: number }> };
      const ready = await waitFor('the survivor to be ready', async () => {
        const answer = (await (await fetch(`${survivorUrl}/readyz`)).json()) as Readiness;
        return answer.ok ? answer : undefined;
      }, { timeoutMs: 60_000 });
      expect(ready.ok).toBe(true);
      for (const partition of lost) expect(ready.partitions[`graphs/${partition}`]).toMatchObject({ state: 'standby' });
      // Through the survivor, forwarded to the owner.
      const before = await client.get(`/v1/graphs/${graph}`);
      expect(before.status).toBe(200);
      expect(before.body['standby']).toBeUndefined();

      // More input while the owner is killed; reads through the survivor all the while.
      const producing = (async () => {
        for (let i = 500; i < txs.length; i += 40) {
          await producer.send({ topic: topics.input, messages: txs.slice(i, i + 40).map((tx) => transactionMessage(tx, schemaId)) });
          await sleep(250);
        }
      })();
      const answers: { status: number; standby: boolean; at: number }[] = [];
      let killedAt = Number.POSITIVE_INFINITY;
      let reading = true;
      const reads = (async () => {
        while (reading) {
          const asked = Date.now();
          const answer = await client.get(`/v1/graphs/${graph}`).catch(() => ({ status: 0, body: {} as Record<string, unknown> }));
          if (asked > killedAt) answers.push({ status: answer.status, standby: answer.body['standby'] !== undefined, at: asked });
          await sleep(100);
        }
      })();
      await sleep(1_000);
      killedAt = Date.now();
      victim.kill('SIGKILL');
      await victim.exited;
      await producing;
      await waitFor('the survivor to own every partition', () => (assignedOf(survivor).length === topics.partitions ? true : undefined), { timeoutMs: 90_000 });
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);
      await sleep(1_000);
      reading = false;
      await reads;

      // The survivor took the standby's store over and restored only the tail.
      for (const partition of lost) {
        const taken = survivor.logged('standby replica taken over by the partition\'s task').filter((l) => l['partition'] === partition);
        expect(taken.length).toBeGreaterThan(0);
        const restores = survivor.logged('restore started').filter((l) => l['partition'] === partition && Date.parse(String(l['time'])) > killedAt);
        for (const restore of restores) expect(Number(restore['from'])).toBeGreaterThan(0);
      }
      // Reads kept answering: every one after the kill was answered, some by the standby.
      expect(answers.length).toBeGreaterThan(10);
      expect(answers.filter((x) => x.status !== 200)).toEqual([]);
      expect(answers.some((x) => x.standby)).toBe(true);

      survivor.kill('SIGTERM');
      expect(await survivor.exited).toBe(0);
    } catch (error) {
      const tails = await Promise.all(children.map(async (c) => `--- ${c.name}\n${await c.tail(80)}`));
      throw new Error(`${(error as Error).message}\n${tails.join('\n')}`, { cause: error });
    } finally {
      await producer.disconnect();
      for (const child of children) child.kill('SIGKILL');
    }

    // Exactly once: the changelog holds every valid transaction's diff once, in order, gapless per graph.
    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [offset, tx] of txs.entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();
    const diffs = (await readAll(kafka, topics.diffs)).map((m) => decodeDiff(m));
    const graphs = byGraph(diffs);
    expect([...graphs.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [graph, list] of graphs) {
      const want = expected.get(graph) ?? [];
      expect(list.map((d) => d.slice)).toEqual(want.map((_, i) => i + 1));
      expect(canonical(list.map((d) => [d.txId, d.changes]))).toBe(canonical(want.map((d) => [d.txId, d.changes])));
    }
  }, 600_000);
});
