import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GraphTransaction } from '../../processors/engine/model';
import { Instrumentation, type GraphfoldEvents } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import type { Topology } from '../../processors/runtime/topology';
import { workload } from '../bench/workload';
import { testKafka, transactionalProducer } from '../support/kafka';
import { createProcessorTopics, expectedDiffCount, readDiffs, testTopology, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { dumpStore } from '../support/store-dump';
import { waitFor } from '../support/wait-for';

type Seen = { [E in keyof GraphfoldEvents]?: GraphfoldEvents[E][] };

async function produce(topics: ProcessorTopics, txs: readonly GraphTransaction[]): Promise<void> {
  const schemaId = await transactionSchemaId(topics.input);
  const producer = await transactionalProducer(testKafka());
  const transaction = await producer.transaction();
  await transaction.send({ topic: topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
  await transaction.commit();
  await producer.disconnect();
}

/** Runs the topology until every partition is open and the changelog holds `diffs` diffs, then stops it cleanly. */
async function runUntil(topology: Topology, topics: ProcessorTopics, diffs: number): Promise<Seen> {
  const instrumentation = new Instrumentation();
  const seen: Seen = {};
  for (const event of ['task.ready', 'restore.started', 'restore.finished', 'snapshot.taken', 'snapshot.restored', 'snapshot.skipped', 'snapshot.failed'] as const) {
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

/** Valid CRM transactions, with every tenth one refused (NOT_FOUND), so the stores hold rejected txIds too. */
function txsOf(seed: number, count: number): GraphTransaction[] {
  const stream = workload({ seed, graphs: 4, graphPrefix: `s${seed}-` });
  return Array.from({ length: count }, (_, i) => {
    const tx = stream.next().value as GraphTransaction;
    return i % 10 === 9 ? { graph: tx.graph, txId: `refused-${i}`, instructions: [{ op: 'Terminate' as const, target: { uid: 'f'.repeat(32) } }] } : tx;
  });
}

describe('snapshots', () => {
  test('an emptied instance restores the newest snapshot and replays only the tail: equal, key for key, to a full replay; a damaged snapshot is skipped', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 2);
    const base = await testTopology(topics);
    const snapshotDir = await mkdtemp(join(tmpdir(), 'graphfold-snapshot-store-'));
    const topology: Topology = { ...base, snapshots: { dir: snapshotDir, everyMs: 3_600_000, retain: 3, minSavedRecords: 1 } };

    // 1. History, then a clean stop: it snapshots both partitions.
    const first = txsOf(5, 300);
    await produce(topics, first);
    const firstCount = await expectedDiffCount(first);
    const started = await runUntil(topology, topics, firstCount);
    expect(started['snapshot.taken']?.map((s) => s.partition).sort()).toEqual([0, 1]);
    const offsets = new Map(started['snapshot.taken']?.map((s) => [s.partition, s.changelogOffset]));

    // 2. A tail of the changelog the snapshots do not hold (folded by a run that takes none); then the state directory is lost.
    const tail = txsOf(5, 360).slice(300);
    await produce(topics, tail);
    const total = await expectedDiffCount([...first, ...tail]);
    await runUntil(base, topics, total);
    await rm(topology.store.dir, { recursive: true, force: true });
    const restored = await runUntil(topology, topics, total);
    expect(restored['snapshot.restored']?.map((s) => [s.partition, s.changelogOffset]).sort()).toEqual([...offsets].sort());
    expect(restored['snapshot.skipped'] ?? []).toEqual([]);
    // The replay starts at each snapshot's offset: only the tail is read from the changelog.
    for (const replay of restored['restore.started'] ?? []) expect(replay.from).toBe(offsets.get(replay.partition));
    const replayed = (restored['restore.finished'] ?? []).reduce((n, r) => n + r.records, 0);
    expect(replayed).toBeGreaterThan(0);
    expect(replayed).toBeLessThanOrEqual(total - firstCount);
    const fromSnapshots = await partitionDumps(topology, 2);

    // 3. The same changelog replayed whole, without snapshots: the same stores, key for key.
    await rm(topology.store.dir, { recursive: true, force: true });
    const full = await runUntil(base, topics, total);
    expect(full['snapshot.restored']).toBeUndefined();
    expect((full['restore.finished'] ?? []).reduce((n, r) => n + r.records, 0)).toBe(total);
    // Key for key, but for one thing the changelog never held: the txIds of transactions that
    // changed nothing (tag 0x17, value 00) make no diff, so a full replay cannot know them, while
    // a snapshot keeps what the store had. Every other key and value is the same.
    const replayedWhole = await partitionDumps(base, 2);
    const isNoOpTx = ([key, value]: [string, string]): boolean => key.startsWith('17') && value === '00';
    expect(replayedWhole.map((dump) => dump.filter((e) => !isNoOpTx(e)))).toEqual(fromSnapshots.map((dump) => dump.filter((e) => !isNoOpTx(e))));
    expect(replayedWhole.flat().filter(isNoOpTx)).toEqual([]);

    // 4. The newest snapshot of partition 0 damaged (a byte of its largest file flipped): skipped with the reason, the older one restored instead.
    const newest = restored['snapshot.taken']?.find((s) => s.partition === 0);
    expect(newest).toBeDefined();
    const dir = join(snapshotDir, topics.diffs, '0', newest?.id as string);
    const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as { manifest: { files: { name: string; bytes: number }[] } };
    const largest = [...manifest.manifest.files].sort((a, b) => b.bytes - a.bytes)[0]?.name as string;
    const bytes = await readFile(join(dir, largest));
    const at = Math.floor(bytes.length / 3);
    bytes[at] = (bytes[at] as number) ^ 0x5a;
    await writeFile(join(dir, largest), bytes);
    await rm(topology.store.dir, { recursive: true, force: true });
    const damaged = await runUntil(topology, topics, total);
    expect(damaged['snapshot.skipped']).toEqual([expect.objectContaining({ partition: 0, id: newest?.id, reason: expect.stringMatching(new RegExp(`^its file ${largest.replace('.', '\\.')} is damaged`)) })]);
    expect(damaged['snapshot.restored']?.find((s) => s.partition === 0)?.changelogOffset).toBe(offsets.get(0));
    expect(await partitionDumps(topology, 2)).toEqual(fromSnapshots);
    expect(await readdir(join(snapshotDir, topics.diffs, '0'))).toContain(newest?.id);
    await rm(snapshotDir, { recursive: true, force: true });
  });
});
