import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import type { Topology } from '../../processors/runtime/topology';
import { loadTopology } from '../../topology/loader';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { runCli } from '../support/cli';
import { testKafka, transactionalProducer, uniqueName } from '../support/kafka';
import { readAll, writeTopologyFile } from '../support/processor-child';
import { byGraph, createProcessorTopics, decodeDiff, expectedDiffCount, readDiffs, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { dumpStore } from '../support/store-dump';
import { openTempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';
import { waitFor } from '../support/wait-for';

async function produce(kafka: Kafka, topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const schemaId = await transactionSchemaId(topics.input);
  const producer = await transactionalProducer(kafka);
  const transaction = await producer.transaction();
  await transaction.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
  await transaction.commit();
  await producer.disconnect();
}

/** Runs until the changelog holds `count` diffs, then stops; or until the processor fails, and returns its failure. */
async function runUntil(topology: Topology, topics: ProcessorTopics, count: number): Promise<{ failure?: Error; discarded: GraphfoldEvents['store.discarded'][] }> {
  const instrumentation = new Instrumentation();
  const discarded: GraphfoldEvents['store.discarded'][] = [];
  instrumentation.on('store.discarded', (p) => discarded.push(p));
  const running = await runTopology(topology, instrumentation);
  const failed = running.done.then(
    () => undefined,
    (error: Error) => error,
  );
  const reached = readDiffs(testKafka(), topics.diffs, count, 60_000).then(() => undefined);
  const failure = await Promise.race([failed, reached]);
  await running.stop();
  await failed;
  return failure === undefined ? { discarded } : { failure, discarded };
}

/** Deletes the diffs topic and waits until it is gone (the broker deletes asynchronously). */
async function deleteTopic(kafka: Kafka, topic: string): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    await waitFor(`${topic} to be deleted`, async () => ((await admin.listTopics()).includes(topic) ? undefined : true), { timeoutMs: 30_000 });
    await sleep(1_000);
  } finally {
    await admin.disconnect();
  }
}

/** Runs until every partition is open, then stops; or until the processor fails, and returns its failure. */
async function runUntilReady(topology: Topology, partitions: number): Promise<{ failure?: Error; discarded: GraphfoldEvents['store.discarded'][] }> {
  const instrumentation = new Instrumentation();
  const discarded: GraphfoldEvents['store.discarded'][] = [];
  let ready = 0;
  instrumentation.on('store.discarded', (p) => discarded.push(p));
  instrumentation.on('task.ready', () => (ready += 1));
  const running = await runTopology(topology, instrumentation);
  const failed = running.done.then(
    () => undefined,
    (error: Error) => error,
  );
  const opened = waitFor('every partition to open', () => (ready >= partitions ? true : undefined), { timeoutMs: 90_000 }).then(() => undefined);
  const failure = await Promise.race([failed, opened]);
  await running.stop();
  await failed;
  return failure === undefined ? { discarded } : { failure, discarded };
}

/** The end offset of each partition of `topic`. */
async function endOffsets(kafka: Kafka, topic: string): Promise<number[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((o) => Number(o.offset));
  } finally {
    await admin.disconnect();
  }
}

function txsOf(seed: number, count: number): GraphTransaction[] {
  const stream = workload({ seed, graphs: 4, graphPrefix: `lost${seed}-` });
  return Array.from({ length: count }, () => stream.next().value as GraphTransaction);
}

/** The diffs of the changelog by graph, as [txId, changes] lists in slice order. */
async function changelogByGraph(kafka: Kafka, topic: string): Promise<Map<string, GraphDiff[]>> {
  const diffs = (await readAll(kafka, topic)).map(decodeDiff);
  const graphs = byGraph(diffs);
  for (const list of graphs.values()) list.sort((a, b) => a.slice - b.slice);
  return graphs;
}

describe('processor, its changelog lost', () => {
  test('a store holding more than its recreated, empty changelog is refused, not wiped; graphfold repair changelog writes its slices back exactly once, and processing goes on without renumbering or applying a txId twice', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-lost-'));
    const file = await writeTopologyFile(dir, topics, { application: uniqueName('lost'), stateDir: join(dir, 'state') });
    const topology = loadTopology(file);
    const first = txsOf(3, 80);
    await produce(kafka, topics, first);
    const count = await expectedDiffCount(first);
    expect((await runUntil(topology, topics, count)).failure).toBeUndefined();
    const before = await changelogByGraph(kafka, topics.diffs);
    const stores = [await dumpStore(join(topology.store.dir, 'graphs', '0')), await dumpStore(join(topology.store.dir, 'graphs', '1'))];

    // The diffs topic is deleted; topology apply creates it again, empty, and warns.
    await deleteTopic(kafka, topics.diffs);
    const applied = await runCli(['topology', 'apply', '--topology', file]);
    expect(applied.stdout).toMatch(new RegExp(`created +${topics.diffs}`));
    expect(applied.stdout).toContain(`WARNING: consumer group ${topology.application}-graphs has committed offsets`);

    // The processor refuses the partitions, and deletes nothing.
    const refused = await runUntil(topology, topics, 1);
    expect(refused.failure?.name).toBe('StoreAheadOfChangelogError');
    expect(refused.failure?.message).toContain('it lost history (was the diffs topic deleted and recreated?)');
    expect(refused.failure?.message).toContain(`graphfold repair changelog --topology ${file} --processor graphs`);
    expect(refused.discarded).toEqual([]);
    expect([await dumpStore(join(topology.store.dir, 'graphs', '0')), await dumpStore(join(topology.store.dir, 'graphs', '1'))]).toEqual(stores);

    // repair changelog writes the stores' slices back, byte for byte the same diffs.
    const repaired = await runCli(['repair', 'changelog', '--topology', file]);
    expect({ code: repaired.code, ...(repaired.code === 0 ? {} : { stderr: repaired.stderr }) }).toEqual({ code: 0 });
    expect(repaired.stdout).toMatch(/^graphs\/0: wrote \d+ diffs of \d+ graphs? back to the changelog\ngraphs\/1: wrote \d+ diffs of \d+ graphs? back to the changelog\n$/);
    const after = await changelogByGraph(kafka, topics.diffs);
    expect(canonical([...after].sort())).toBe(canonical([...before].sort()));
    // Run again, it writes nothing: exactly once.
    const again = await runCli(['repair', 'changelog', '--topology', file]);
    expect(again.stdout).toBe(['graphs/0', 'graphs/1'].map((p) => `${p}: the changelog holds every slice of the store: nothing to write\n`).join(''));

    // Processing goes on: new slices follow the old ones, and replayed input applies nothing twice.
    const second = txsOf(3, 120).slice(80);
    await produce(kafka, topics, second);
    const total = await expectedDiffCount([...first, ...second]);
    expect((await runUntil(topology, topics, total)).failure).toBeUndefined();
    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [offset, tx] of [...first, ...second].entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();
    const final = await changelogByGraph(kafka, topics.diffs);
    expect([...final.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [graph, list] of final) {
      const want = expected.get(graph) ?? [];
      expect(list.map((d) => d.slice)).toEqual(want.map((_, i) => i + 1));
      expect(canonical(list.map((d) => [d.txId, d.changes]))).toBe(canonical(want.map((d) => [d.txId, d.changes])));
    }
  }, 300_000);

  test('an instance whose store is empty (a new pod, a lost volume) refuses the partitions whose recreated changelog lost history: it names the cause and what to do, renumbers nothing and writes nothing to the new changelog', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-lost-empty-'));
    const application = uniqueName('lostempty');
    const file = await writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state') });
    const topology = loadTopology(file);
    const first = txsOf(5, 60);
    await produce(kafka, topics, first);
    expect((await runUntil(topology, topics, await expectedDiffCount(first))).failure).toBeUndefined();
    const stores = [await dumpStore(join(topology.store.dir, 'graphs', '0')), await dumpStore(join(topology.store.dir, 'graphs', '1'))];

    await deleteTopic(kafka, topics.diffs);
    expect((await runCli(['topology', 'apply', '--topology', file])).code).toBe(0);
    // The same application on another instance, its state directory empty; input waits.
    const otherFile = await writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'other-state') });
    await produce(kafka, topics, txsOf(5, 90).slice(60));

    const refused = await runUntil(loadTopology(otherFile), topics, 1);
    expect(refused.failure?.name).toBe('ChangelogHistoryLostError');
    expect(refused.failure?.message).toContain('it lost history it had (was the diffs topic deleted and recreated?)');
    expect(refused.failure?.message).toMatch(new RegExp(`graphfold repair changelog --topology ${otherFile} --processor graphs --partition [01];`));
    expect(refused.failure?.message).toMatch(new RegExp(`graphfold repair store --topology ${otherFile} --processor graphs --partition [01] --discard`));
    expect(refused.discarded).toEqual([]);
    expect(await endOffsets(kafka, topics.diffs)).toEqual([0, 0]);
    // The stores that hold the history are where they were, and repair changelog from them still works.
    expect([await dumpStore(join(topology.store.dir, 'graphs', '0')), await dumpStore(join(topology.store.dir, 'graphs', '1'))]).toEqual(stores);
    const repaired = await runCli(['repair', 'changelog', '--topology', file]);
    expect({ code: repaired.code, ...(repaired.code === 0 ? {} : { stderr: repaired.stderr }) }).toEqual({ code: 0 });
    const resumed = await runUntilReady(loadTopology(otherFile), 2);
    expect(resumed.failure).toBeUndefined();
  }, 300_000);

  test('a store the changelog no longer continues (recreated, then written by an instance that took it as it is) is kept and its partition refused, not discarded', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-replaced-'));
    const application = uniqueName('replaced');
    const file = await writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state') });
    const topology = loadTopology(file);
    const first = txsOf(6, 30);
    await produce(kafka, topics, first);
    expect((await runUntil(topology, topics, await expectedDiffCount(first))).failure).toBeUndefined();
    const store = await dumpStore(join(topology.store.dir, 'graphs', '0'));

    // The diffs topic is recreated; another instance, with no store, is told to take the changelog
    // as it is and writes a new history there, longer than the store's checkpoint.
    await deleteTopic(kafka, topics.diffs);
    expect((await runCli(['topology', 'apply', '--topology', file])).code).toBe(0);
    const otherFile = await writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'other-state') });
    expect((await runCli(['repair', 'store', '--topology', otherFile, '--partition', '0', '--discard'])).code).toBe(0);
    const fresh: GraphTransaction[] = Array.from({ length: 80 }, (_, i) => ({ graph: 'fresh', txId: `fresh-${i}`, instructions: [{ op: 'CreateEntity', type: 'Person', ref: 'p' }] }));
    await produce(kafka, topics, fresh);
    expect((await runUntil(loadTopology(otherFile), topics, 80)).failure).toBeUndefined();

    // The first instance's store comes back: its checkpoint is within the new changelog, whose
    // diffs do not follow its heads.
    const refused = await runUntilReady(topology, 1);
    expect(refused.failure?.name).toBe('StoreAheadOfChangelogError');
    expect(refused.failure?.message).toContain('the changelog holds another history than the store');
    expect(refused.failure?.message).toContain(`graphfold repair store --topology ${file} --processor graphs --partition 0 --discard`);
    expect(refused.discarded).toEqual([]);
    expect(await dumpStore(join(topology.store.dir, 'graphs', '0'))).toEqual(store);
  }, 300_000);

  test('graphfold repair store --discard is the explicit rebuild: the stores are deleted and rebuilt from the changelog as it is, and new input is processed', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-discard-'));
    const file = await writeTopologyFile(dir, topics, { application: uniqueName('discard'), stateDir: join(dir, 'state') });
    const topology = loadTopology(file);
    const first = txsOf(4, 30);
    await produce(kafka, topics, first);
    expect((await runUntil(topology, topics, await expectedDiffCount(first))).failure).toBeUndefined();
    await deleteTopic(kafka, topics.diffs);
    expect((await runCli(['topology', 'apply', '--topology', file])).code).toBe(0);

    const refusedWithoutFlag = await runCli(['repair', 'store', '--topology', file]);
    expect(refusedWithoutFlag).toMatchObject({ code: 2, stderr: expect.stringContaining('add --discard to say so') as unknown });
    const discarded = await runCli(['repair', 'store', '--topology', file, '--partition', '0', '--discard']);
    expect(discarded.stdout).toMatch(/^graphs\/0: deleted its store \(\d+ graphs?, \d+ slices\): the changelog rebuilds it at the next start; the changelog lost history, and its end \(offset 0\) is now the partition's, so the graphs start again from what it holds\n$/);

    const second: GraphTransaction[] = [{ graph: 'fresh', txId: 'after-discard', instructions: [{ op: 'CreateEntity', type: 'Person', ref: 'p' }] }];
    await produce(kafka, topics, second);
    const { failure, discarded: events } = await runUntil(topology, topics, 1);
    expect(failure).toBeUndefined();
    expect(events).toEqual([]);
    const [diff] = await readDiffs(kafka, topics.diffs, 1);
    expect(diff).toMatchObject({ graph: 'fresh', txId: 'after-discard', slice: 1 });
  }, 300_000);
});
