import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import type { GraphTransaction } from '../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import type { Topology } from '../../processors/runtime/topology';
import { GraphStore } from '../../processors/store/graph-store';
import { workload } from '../bench/workload';
import { testCluster, testKafka, transactionalProducer } from '../support/kafka';
import { createProcessorTopics, expectedDiffCount, readDiffs, testTopology, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { waitFor } from '../support/wait-for';

async function produce(kafka: Kafka, topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const schemaId = await transactionSchemaId(topics.input);
  const producer = await transactionalProducer(kafka);
  const transaction = await producer.transaction();
  await transaction.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
  await transaction.commit();
  await producer.disconnect();
}

type Seen = { [E in keyof GraphfoldEvents]?: GraphfoldEvents[E][] };

function watch(instrumentation: Instrumentation): Seen {
  const seen: Seen = {};
  for (const event of ['task.failed', 'task.ready', 'store.discarded', 'restore.finished'] as const) {
    instrumentation.on(event, (payload) => {
      (seen[event] ??= [] as never[]).push(payload as never);
    });
  }
  return seen;
}

const storeOptions = (topology: Topology): Parameters<typeof GraphStore.open>[1] => ({ rocks: { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 }, cachedAtoms: topology.store.cachedAtoms });

function txsOf(seed: number, count: number): GraphTransaction[] {
  const stream = workload({ seed, graphs: 2, graphPrefix: `lock${seed}-` });
  return Array.from({ length: count }, () => stream.next().value as GraphTransaction);
}

describe('processor, a store that will not open', () => {
  test('a store another process holds (its RocksDB LOCK) is waited for, never discarded: "another process holds <dir>; each instance needs its own store.dir", then it opens and processing goes on', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const topology = await testTopology(topics);
    const first = txsOf(1, 40);
    await produce(kafka, topics, first);
    const firstCount = await expectedDiffCount(first);
    let running = await runTopology(topology, new Instrumentation());
    await readDiffs(kafka, topics.diffs, firstCount);
    await running.stop();

    const dir = join(topology.store.dir, 'graphs', '0');
    const holder = await GraphStore.open(dir, storeOptions(topology));
    const instrumentation = new Instrumentation();
    const seen = watch(instrumentation);
    running = await runTopology(topology, instrumentation);
    try {
      const failed = await waitFor('the locked store to be reported', () => seen['task.failed']?.[0], { timeoutMs: 30_000 });
      expect(failed.error.message).toContain(`another process holds the store ${dir}`);
      expect(failed.error.message).toContain('each instance needs its own store.dir');
      expect(failed.retryInMs).toBeGreaterThan(0);
      const second = txsOf(1, 60).slice(40);
      await produce(kafka, topics, second);
      await holder.close();
      await readDiffs(kafka, topics.diffs, await expectedDiffCount([...first, ...second]), 90_000);
      expect(seen['store.discarded'] ?? []).toEqual([]);
      // The store was kept: opening it restored nothing.
      expect((seen['restore.finished'] ?? []).reduce((n, r) => n + r.records, 0)).toBe(0);
    } finally {
      await holder.close();
      await running.stop();
      await running.done.catch(() => undefined);
    }
  }, 180_000);

  test('a restore that fails after it replaced a diverged store closes the replacement: the store opens again in the same process', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 1);
    const topology = await testTopology(topics);

    // A committed diff that does not follow its graph's head, in a changelog a new store replays
    // from its start: the store is discarded (it holds no history of its own) and the changelog
    // replayed from its start again, which meets the same diff again and fails. (A store that
    // holds history is kept instead: processor-lost-changelog.test.ts.)
    const graph = 'strayed';
    const diffSchema = await new SchemaCatalog({ url: testCluster().registryUrl }).register(topics.diffs, avroTypes().diff);
    const intruder = await transactionalProducer(kafka);
    const transaction = await intruder.transaction();
    const stray = { graph, slice: 999, txId: 'stray', time: 0, source: { topic: topics.input, partition: 0, offset: 0 }, changes: [{ op: 'Created' as const, uid: 'e'.repeat(32), kind: 'entity' as const, type: 'Stray' }] };
    await transaction.send({ topic: topics.diffs, messages: [{ key: graph, partition: 0, value: frame(diffSchema, avroTypes().diff.toBuffer(diffToAvro(stray))) }] });
    await transaction.commit();
    await intruder.disconnect();

    const instrumentation = new Instrumentation();
    const seen = watch(instrumentation);
    const failing = await runTopology(topology, instrumentation);
    const outcome = await Promise.race([failing.done.then(() => 'stopped', (error: Error) => error), sleep(60_000, 'still running')]);
    if (typeof outcome === 'string') await failing.stop();
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(/slice 999/);
    expect(seen['store.discarded']?.length).toBe(1);
    const reopened = await GraphStore.open(join(topology.store.dir, 'graphs', '0'), storeOptions(topology));
    await reopened.close();
  }, 180_000);
});
