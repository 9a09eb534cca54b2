import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import type { GraphTransaction } from '../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import type { Topology } from '../../processors/runtime/topology';
import { layoutKey } from '../../processors/store/format/keys';
import { Rocks } from '../../processors/store/rocks';
import { workload } from '../bench/workload';
import { testCluster, testKafka, transactionalProducer } from '../support/kafka';
import { createProcessorTopics, expectedDiffCount, readDiffs, testTopology, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { dumpStore } from '../support/store-dump';
import { waitFor } from '../support/wait-for';

type Seen = { [E in keyof GraphfoldEvents]?: GraphfoldEvents[E][] };

async function produce(topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const kafka = testKafka();
  const schemaId = await transactionSchemaId(topics.input);
  const producer = await transactionalProducer(kafka);
  const transaction = await producer.transaction();
  await transaction.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
  await transaction.commit();
  await producer.disconnect();
}

/**
 * Runs the topology until every partition is open (restored) and the changelog holds `diffs`
 * diffs, then stops it (which waits for the stores' writes). Returns the events it emitted.
 */
async function runUntil(topology: Topology, topics: ProcessorTopics, diffs: number): Promise<Seen> {
  const instrumentation = new Instrumentation();
  const seen: Seen = {};
  for (const event of ['task.ready', 'store.discarded', 'restore.started', 'restore.finished'] as const) {
    instrumentation.on(event, (payload) => {
      (seen[event] ??= [] as never[]).push(payload as never);
    });
  }
  const running = await runTopology(topology, instrumentation);
  try {
    await waitFor('every partition open', () => ((seen['task.ready']?.length ?? 0) >= topics.partitions ? true : undefined), { timeoutMs: 60_000 });
    await readDiffs(testKafka(), topics.diffs, diffs);
  } finally {
    await running.stop();
    await running.done;
  }
  return seen;
}

async function partitionDumps(topology: Topology, partitions: number): Promise<[string, string][][]> {
  const dumps: [string, string][][] = [];
  for (let p = 0; p < partitions; p += 1) dumps.push(await dumpStore(join(topology.store.dir, 'graphs', String(p))));
  return dumps;
}

function txsOf(seed: number, count: number): GraphTransaction[] {
  const stream = workload({ seed, graphs: 4, graphPrefix: `g${seed}-` });
  return Array.from({ length: count }, () => stream.next().value as GraphTransaction);
}

describe('processor restore', () => {
  test('a deleted state directory is rebuilt from the changelog on assignment, identical, and processing goes on', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const topology = await testTopology(topics);
    const first = txsOf(1, 120);
    await produce(topics, first);
    const count = await expectedDiffCount(first);
    await runUntil(topology, topics, count);
    const before = await partitionDumps(topology, 2);

    await rm(join(topology.store.dir, 'graphs', '1'), { recursive: true, force: true });
    const seen = await runUntil(topology, topics, count);
    expect(seen['restore.finished']?.map((r) => r.partition)).toEqual([1]);
    expect(await partitionDumps(topology, 2)).toEqual(before);

    const second = txsOf(1, 160).slice(120);
    await produce(topics, second);
    const total = await expectedDiffCount([...first, ...second]);
    await runUntil(topology, topics, total);
    const perGraph = new Map<string, number[]>();
    for (const d of await readDiffs(kafka, topics.diffs, total)) perGraph.set(d.graph, [...(perGraph.get(d.graph) ?? []), d.slice]);
    for (const slices of perGraph.values()) expect(slices).toEqual(slices.map((_, i) => i + 1));
  });

  test('a store written in the old layout (version 1) is rebuilt from the changelog, with the reason in the log', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const topology = await testTopology(topics);
    const txs = txsOf(3, 80);
    await produce(topics, txs);
    const count = await expectedDiffCount(txs);
    await runUntil(topology, topics, count);
    const before = await partitionDumps(topology, 2);

    // What graphfold before layout version 2 wrote under the layout key: version 1, 64 inline relations, buckets of 16 and 64 slices.
    const rocks = await Rocks.open(join(topology.store.dir, 'graphs', '1'), { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 });
    const batch = rocks.batch();
    batch.put(layoutKey, Buffer.from([1, 64, 16, 64]));
    await batch.write();
    await rocks.close();

    const seen = await runUntil(topology, topics, count);
    expect(seen['store.discarded']?.map((d) => d.partition)).toEqual([1]);
    expect(seen['store.discarded']?.[0]?.reason).toMatch(/written in layout version 1; this graphfold reads layout version 2/);
    expect(seen['restore.finished']?.map((r) => r.partition)).toEqual([1]);
    expect(await partitionDumps(topology, 2)).toEqual(before);
  });

  test('an aborted transaction in the changelog is never restored', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const topology = await testTopology(topics);
    const txs = txsOf(3, 60);
    await produce(topics, txs);
    const count = await expectedDiffCount(txs);
    await runUntil(topology, topics, count);
    const before = await partitionDumps(topology, 1);

    const diffSchema = await new SchemaCatalog({ url: testCluster().registryUrl }).register(topics.diffs, avroTypes().diff);
    const intruder = await transactionalProducer(kafka);
    const aborted = await intruder.transaction();
    const ghost = { graph: 'g3-0', slice: 1, txId: 'intruder', time: 0, source: { topic: 'x', partition: 0, offset: 0 }, changes: [{ op: 'Created' as const, uid: 'f'.repeat(32), kind: 'entity' as const, type: 'Ghost' }] };
    await aborted.send({ topic: topics.diffs, messages: [{ key: ghost.graph, partition: 0, value: frame(diffSchema, avroTypes().diff.toBuffer(diffToAvro(ghost))) }] });
    await aborted.abort();
    await intruder.disconnect();

    await rm(join(topology.store.dir, 'graphs', '0'), { recursive: true, force: true });
    const seen = await runUntil(topology, topics, count);
    expect(seen['restore.finished']?.[0]?.records).toBe(count);
    const graphData = (dumps: [string, string][][]): [string, string][][] => dumps.map((dump) => dump.filter(([key]) => !key.startsWith('01')));
    const after = await partitionDumps(topology, 1);
    expect(graphData(after)).toEqual(graphData(before));
    expect(JSON.stringify(after)).not.toContain(Buffer.from('Ghost').toString('hex'));
  });
});
