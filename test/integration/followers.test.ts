import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Admin } from 'kafkajs';
import type { GraphTransaction } from '../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../processors/instrumentation/events';
import { QueryClient } from '../../processors/query/client';
import { runTopology, type RunningTopology } from '../../processors/runtime/host';
import type { Topology } from '../../processors/runtime/topology';
import { workload } from '../bench/workload';
import { testKafka } from '../support/kafka';
import { waitForCaughtUp } from '../support/processor-child';
import { createProcessorTopics, testTopology, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { waitFor } from '../support/wait-for';

/** Valid CRM transactions, every seventh one refused (NOT_FOUND): the owner rejects them, the diffs topic never holds them. */
function txsOf(seed: number, count: number): GraphTransaction[] {
  const stream = workload({ seed, graphs: 4, graphPrefix: `f${seed}-` });
  return Array.from({ length: count }, (_, i) => {
    const tx = stream.next().value as GraphTransaction;
    return i % 7 === 6 ? { graph: tx.graph, txId: `refused-${seed}-${i}`, instructions: [{ op: 'Terminate' as const, target: { uid: 'f'.repeat(32) } }] } : tx;
  });
}

async function produce(topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const schemaId = await transactionSchemaId(topics.input);
  const producer = testKafka().producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  await producer.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
  await producer.disconnect();
}

/** Every topic's end offsets, and every consumer group's committed offsets of the test's topics. */
async function kafkaState(admin: Admin, topics: ProcessorTopics): Promise<string> {
  const names = [topics.input, topics.diffs, topics.rejections];
  const ends = await Promise.all(names.map(async (topic) => [topic, (await admin.fetchTopicOffsets(topic)).map((o) => `${o.partition}:${o.offset}`).sort()]));
  const { groups } = await admin.listGroups();
  const committed = await Promise.all(groups.map(async ({ groupId }) => [groupId, (await admin.fetchOffsets({ groupId, topics: names })).flatMap((t) => t.partitions.filter((p) => Number(p.offset) >= 0).map((p) => `${t.topic}/${p.partition}:${p.offset}`)).sort()]));
  return JSON.stringify({ ends, committed: committed.filter(([, offsets]) => (offsets as string[]).length > 0).sort() });
}

/** Reads of a graph at slice `s` that must answer the same on the owner and the follower. */
function readsAt(graph: string, s: number): [string, Record<string, string | number>][] {
  return [
    [`/v1/graphs/${graph}`, { asOf: s }],
    [`/v1/graphs/${graph}/atoms`, { asOf: s, limit: 10_000 }],
    [`/v1/graphs/${graph}/atoms`, { asOf: s, type: 'Person', limit: 10_000 }],
    [`/v1/graphs/${graph}/slices`, { limit: 10_000 }],
    [`/v1/graphs/${graph}/diff`, { from: Math.max(0, s - 5), to: s }],
  ];
}

/** An answer without who served it: the graph endpoint names its processor (the follower's name) and the instance serving it. */
function answer(body: Record<string, unknown>): Record<string, unknown> {
  const { processor: _processor, owner: _owner, ...rest } = body;
  return rest;
}

async function expectSameAnswers(owner: QueryClient, follower: QueryClient, graphs: readonly string[]): Promise<number> {
  let compared = 0;
  for (const graph of graphs) {
    const head = (await owner.get(`/v1/graphs/${graph}`)).body['head'] as number;
    expect(head).toBeGreaterThan(0);
    for (const s of new Set([1, Math.ceil(head / 2), head])) {
      for (const [path, params] of readsAt(graph, s)) {
        const [mine, theirs] = await Promise.all([owner.get(path, params), follower.get(path, { ...params, processor: 'copy' })]);
        expect({ path, params, status: theirs.status, body: answer(theirs.body) }).toEqual({ path, params, status: mine.status, body: answer(mine.body) });
        expect(mine.status).toBe(200);
        compared += 1;
      }
    }
  }
  return compared;
}

describe('followers', () => {
  test("a follower of a diffs topic answers every read as the owner does at the same slice, keeps following, resumes from its store, and writes nothing to Kafka", async () => {
    const kafka = testKafka();
    const admin = kafka.admin();
    await admin.connect();
    const topics = await createProcessorTopics(kafka, 3);
    const first = txsOf(3, 400);
    await produce(topics, first);
    const snapshotDir = await mkdtemp(join(tmpdir(), 'graphfold-follower-snapshots-'));
    const ownerTopology: Topology = { ...(await testTopology(topics, { query: {} })), snapshots: { dir: snapshotDir, everyMs: 3_600_000, retain: 3, minSavedRecords: 1 } };
    const owner = await runTopology(ownerTopology, new Instrumentation());
    let follower: RunningTopology | undefined;
    try {
      await waitForCaughtUp(kafka, `${ownerTopology.application}-graphs`, topics.input);
      const graphs = [...new Set(first.map((tx) => tx.graph))];
      const ownerClient = new QueryClient(owner.query?.url as string);
      const last = first.filter((tx) => !tx.txId.startsWith('refused')).at(-1) as GraphTransaction;
      expect((await ownerClient.get(`/v1/graphs/${last.graph}/transactions/${last.txId}`, { waitForTx: last.txId, wait: '30s' })).status).toBe(200);
      const before = await kafkaState(admin, topics);

      // A follower in a topology of its own: no processors, its own stores.
      const { snapshots: _snapshots, ...withoutSnapshots } = ownerTopology;
      const followerTopology: Topology = {
        ...withoutSnapshots,
        processors: [],
        followers: [{ name: 'copy', diffs: topics.diffs, partitioner: 'murmur2' }],
        store: { ...ownerTopology.store, dir: await mkdtemp(join(tmpdir(), 'graphfold-follower-')) },
        query: { ...(ownerTopology.query as NonNullable<Topology['query']>), port: 0 },
      };
      const events: { [E in keyof GraphfoldEvents]?: GraphfoldEvents[E][] } = {};
      const instrumentation = new Instrumentation();
      for (const event of ['task.ready', 'restore.started', 'follow.batch'] as const) instrumentation.on(event, (p) => (events[event] ??= [] as never[]).push(p as never));
      follower = await runTopology(followerTopology, instrumentation);
      const followerClient = new QueryClient(follower.query?.url as string);
      await waitFor('the follower to catch up', () => ((events['task.ready']?.length ?? 0) >= topics.partitions ? true : undefined), { timeoutMs: 60_000 });
      expect(await expectSameAnswers(ownerClient, followerClient, graphs)).toBeGreaterThan(0);
      // A rejected transaction never reaches the diffs topic: the follower knows nothing of it, and says so.
      const refused = first.find((tx) => tx.txId.startsWith('refused')) as GraphTransaction;
      expect((await ownerClient.get(`/v1/graphs/${refused.graph}/transactions/${refused.txId}`)).body['status']).toBe('rejected');
      expect((await followerClient.get(`/v1/graphs/${refused.graph}/transactions/${refused.txId}`, { processor: 'copy' })).body['status']).toBe('unknown');
      expect(await kafkaState(admin, topics)).toBe(before);

      // It keeps following: new transactions reach it, read-your-writes works against it.
      const second = txsOf(3, 600).slice(400);
      await produce(topics, second);
      await waitForCaughtUp(kafka, `${ownerTopology.application}-graphs`, topics.input);
      for (const graph of graphs) {
        const head = (await ownerClient.get(`/v1/graphs/${graph}`)).body['head'] as number;
        const seen = await followerClient.get(`/v1/graphs/${graph}`, { processor: 'copy', waitForSlice: head, wait: '30s' });
        expect([seen.status, seen.body['head']]).toEqual([200, head]);
      }
      expect(await expectSameAnswers(ownerClient, followerClient, graphs)).toBeGreaterThan(0);
      expect(events['follow.batch']?.length ?? 0).toBeGreaterThan(0);
      await follower.stop();
      await follower.done;

      // Started again on its stores: it fetches from where they are, not from the topic's start.
      const ends = new Map((await admin.fetchTopicOffsets(topics.diffs)).map((o) => [o.partition, Number(o.offset)]));
      const again = new Instrumentation();
      const restarts: GraphfoldEvents['restore.started'][] = [];
      const ready: number[] = [];
      again.on('restore.started', (p) => restarts.push(p));
      again.on('task.ready', (p) => ready.push(p.partition));
      follower = await runTopology(followerTopology, again);
      await waitFor('the follower to be ready again', () => (ready.length >= topics.partitions ? true : undefined), { timeoutMs: 60_000 });
      for (const restart of restarts) expect(restart.from).toBeGreaterThan(0);
      for (const restart of restarts) expect(restart.to).toBe(ends.get(restart.partition));
      const secondClient = new QueryClient(follower.query?.url as string);
      expect(await expectSameAnswers(ownerClient, secondClient, graphs)).toBeGreaterThan(0);

      // The owner stops cleanly (a snapshot of each partition); a new follower with empty stores starts from those snapshots.
      await owner.stop();
      const fromSnapshots = new Instrumentation();
      const restored: GraphfoldEvents['snapshot.restored'][] = [];
      const fresh: number[] = [];
      fromSnapshots.on('snapshot.restored', (p) => restored.push(p));
      fromSnapshots.on('task.ready', (p) => fresh.push(p.partition));
      const third = await runTopology({ ...followerTopology, store: { ...followerTopology.store, dir: await mkdtemp(join(tmpdir(), 'graphfold-follower-')) }, snapshots: { dir: snapshotDir, everyMs: 3_600_000, retain: 3, minSavedRecords: 1 } }, fromSnapshots);
      try {
        await waitFor('the third follower to be ready', () => (fresh.length >= topics.partitions ? true : undefined), { timeoutMs: 60_000 });
        expect(restored.map((r) => r.partition).sort()).toEqual([...ends.keys()].filter((p) => (ends.get(p) ?? 0) > 0).sort());
        expect(await expectSameAnswers(secondClient, new QueryClient(third.query?.url as string), graphs)).toBeGreaterThan(0);
      } finally {
        await third.stop();
      }
    } finally {
      await follower?.stop();
      await owner.stop();
      await admin.disconnect();
    }
  });
});
