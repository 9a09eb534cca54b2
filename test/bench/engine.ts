import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FoldOptions } from '../../processors/engine/fold';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { GraphStore, type GraphStoreOptions } from '../../processors/store/graph-store';
import { topologyDefaults } from '../../topology/defaults';
import { printTable, quantile } from './table';
import { workload, workloadUid } from './workload';
import { foldInto } from '../support/fold-loop';

/**
 * `npm run bench:engine [-- --quick | --instructions N]`: the engine alone, no Kafka. Folds a
 * CRM/social workload into a RocksDB store in batches, then, as the baseline measured in the same
 * run, replays the resulting diffs into a second store (the restore path: apply without
 * validating), then times point reads at the latest slice against reads as of an old slice.
 */
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const targetInstructions = args.includes('--quick') ? 300_000 : Number(flag('--instructions') ?? 10_000_000);
const batchSize = Number(flag('--batch') ?? 500);
const graphs = Number(flag('--graphs') ?? 16);
/** The topology's defaults for one partition's store. */
const storeOptions: GraphStoreOptions = { rocks: { cacheBytes: topologyDefaults.cacheBytes, writeBufferBytes: topologyDefaults.writeBufferBytes }, cachedAtoms: topologyDefaults.cachedAtoms };

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const rssMiB = (): number => process.resourceUsage().maxRSS / 1024;

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    total += entry.isDirectory() ? await directoryBytes(path) : (await stat(path)).size;
  }
  return total;
}

async function foldPhase(store: GraphStore): Promise<{ transactions: number; instructions: number; seconds: number; batchMs: number[]; refused: number }> {
  const stream = workload({ seed: 42, graphs, peoplePerGraph: 1 << 16 });
  const batchMs: number[] = [];
  let instructions = 0;
  let transactions = 0;
  let refused = 0;
  let offset = 0;
  let written = Promise.resolve();
  const start = now();
  while (instructions < targetInstructions) {
    const batch: GraphTransaction[] = [];
    for (let i = 0; i < batchSize; i += 1) {
      const tx = stream.next().value as GraphTransaction;
      batch.push(tx);
      instructions += tx.instructions.length;
    }
    const t0 = now();
    await store.prefetch(batch);
    for (const tx of batch) {
      const options: FoldOptions = { source: { topic: 'instructions', partition: 0, offset }, recordTime: 1_700_000_000_000_000 + offset, maxInstructions: 10_000 };
      offset += 1;
      const result = await foldInto(store, tx, options);
      if (result.outcome === 'refused') {
        refused += 1;
        if (refused <= 3) process.stderr.write(`refused: ${result.error.message}\n`);
      }
    }
    await written;
    written = store.commit({ inputs: { instructions: offset } });
    batchMs.push(now() - t0);
    transactions += batch.length;
    if (batchMs.length % 200 === 0) process.stderr.write(`  folded ${instructions.toLocaleString()} instructions (${Math.round(instructions / ((now() - start) / 1000)).toLocaleString()}/s, peak RSS ${rssMiB().toFixed(0)} MiB)\n`);
  }
  await written;
  return { transactions, instructions, seconds: (now() - start) / 1000, batchMs, refused };
}

async function replayPhase(source: GraphStore, target: GraphStore): Promise<{ diffs: number; seconds: number }> {
  let diffs = 0;
  let seconds = 0;
  for await (const graph of source.graphs()) {
    const head = await source.head(graph);
    let chunk: GraphDiff[] = [];
    const flush = async (): Promise<void> => {
      const t0 = now();
      await target.replay(chunk);
      await target.commit({ changelog: diffs });
      seconds += (now() - t0) / 1000;
      chunk = [];
    };
    for await (const diff of source.diffs(graph, 1, head)) {
      chunk.push(diff);
      diffs += 1;
      if (chunk.length === batchSize) await flush();
    }
    if (chunk.length > 0) await flush();
  }
  return { diffs, seconds };
}

async function readPhase(store: GraphStore): Promise<{ latestUs: number; oldUs: number; reads: number }> {
  const samples: { graph: string; uid: string; old: number }[] = [];
  for (let g = 0; g < graphs && samples.length < 4000; g += 1) {
    const graph = `graph-${g}`;
    const head = await store.head(graph);
    for (let p = 0; p < 4000 && samples.length < (g + 1) * (4000 / graphs); p += 1) {
      const [score] = await store.relationsAt(graph, workloadUid('person', g, p), 'out', { type: 'score' });
      if (score !== undefined) samples.push({ graph, uid: score.other, old: Math.max(1, Math.floor(head / 4)) });
    }
  }
  const time = async (slice: (s: (typeof samples)[number]) => number | undefined): Promise<number> => {
    const t0 = now();
    for (const s of samples) await store.atomAt(s.graph, s.uid, slice(s));
    return ((now() - t0) * 1000) / samples.length;
  };
  let latestUs = 0;
  let oldUs = 0;
  for (let round = 0; round < 3; round += 1) {
    latestUs += await time(() => undefined);
    oldUs += await time((s) => s.old);
  }
  return { latestUs: latestUs / 3, oldUs: oldUs / 3, reads: samples.length };
}

async function main(): Promise<void> {
  const dirA = await mkdtemp(join(tmpdir(), 'graphfold-bench-fold-'));
  const dirB = await mkdtemp(join(tmpdir(), 'graphfold-bench-replay-'));
  try {
    process.stderr.write(`bench:engine: folding ${targetInstructions.toLocaleString()} instructions over ${graphs} graphs in batches of ${batchSize}\n`);
    const a = await GraphStore.open(dirA, storeOptions);
    const fold = await foldPhase(a);
    const foldRss = rssMiB();
    process.stderr.write('bench:engine: replaying the diffs into a fresh store (baseline)\n');
    const b = await GraphStore.open(dirB, storeOptions);
    const replay = await replayPhase(a, b);
    const replayWrites = { ...b.metrics.writes };
    await b.close();
    process.stderr.write('bench:engine: point reads, latest slice against an old slice\n');
    const reads = await readPhase(a);
    await a.close();
    const bytes = await directoryBytes(dirA);

    const instructionsPerSecond = fold.instructions / fold.seconds;
    const replayPerSecond = replay.diffs / replay.seconds;
    const foldPerSecond = fold.transactions / fold.seconds;
    printTable(
      ['measure', 'value', 'target'],
      [
        ['instructions folded', fold.instructions.toLocaleString(), ''],
        ['transactions folded', `${fold.transactions.toLocaleString()} (${fold.refused} refused)`, ''],
        ['fold: transactions/s', Math.round(foldPerSecond).toLocaleString(), ''],
        ['fold: instructions/s', Math.round(instructionsPerSecond).toLocaleString(), '>= 100,000'],
        ['fold: batch latency p50 / p99', `${quantile(fold.batchMs, 0.5).toFixed(1)} / ${quantile(fold.batchMs, 0.99).toFixed(1)} ms (${batchSize} tx)`, ''],
        ['fold: peak RSS', `${foldRss.toFixed(0)} MiB`, '< 1024 MiB'],
        ['store size on disk', `${(bytes / 2 ** 20).toFixed(0)} MiB`, ''],
        ['fold: store writes per transaction', `${(a.metrics.writes.operations / fold.transactions).toFixed(1)} (${((a.metrics.writes.seconds * 1e6) / a.metrics.writes.operations).toFixed(2)} µs each)`, ''],
        ['baseline, replay (restore) of the diffs: diffs/s', Math.round(replayPerSecond).toLocaleString(), ''],
        ['replay: store writes per diff', `${(replayWrites.operations / replay.diffs).toFixed(1)} (${((replayWrites.seconds * 1e6) / replayWrites.operations).toFixed(2)} µs each)`, ''],
        ['ratio fold/replay (transactions/s)', (foldPerSecond / replayPerSecond).toFixed(2), ''],
        ['point read, latest slice', `${reads.latestUs.toFixed(1)} µs (${reads.reads} attributes)`, ''],
        ['point read, as of slice head/4', `${reads.oldUs.toFixed(1)} µs`, ''],
        ['ratio old/latest read', (reads.oldUs / reads.latestUs).toFixed(2), '<= 2'],
      ],
    );
    process.stdout.write(`engine: ${Math.round(instructionsPerSecond)} instructions/s\n`);
  } finally {
    await rm(dirA, { recursive: true, force: true });
    await rm(dirB, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:engine failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
