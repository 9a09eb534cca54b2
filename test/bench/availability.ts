import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka, Message } from 'kafkajs';
import { QueryClient } from '../../processors/query/client';
import type { ChildRun, ContenderSetup } from './contenders/contender';
import { graphfold, startGraphfold, type GraphfoldExtras } from './contenders/index';
import { benchGraphPrefix, partitionOf } from './input';
import { quantile } from './table';

/**
 * The availability phase of the bench (README, "Standbys, snapshots and followers"): a cold
 * restore from a snapshot plus the changelog's tail against a full replay; a follower's lag
 * behind its owner while the owner ingests; failover from a SIGKILLed owner to another
 * instance. Every measure runs graphfold's CLI as child processes on the throughput run's
 * topics and stores.
 */

export interface SnapshotRestore {
  /** The first partition's restore start to the last partition ready, from the changelog alone. */
  readonly fullSeconds: number;
  /** Process start to every partition ready (start-up and group join included), from the changelog alone. */
  readonly fullProcessSeconds: number;
  readonly fullRecords: number;
  /** The first snapshot's fetch start to the last partition ready, from the newest snapshots plus the changelog after them. */
  readonly snapshotSeconds: number;
  readonly snapshotProcessSeconds: number;
  readonly tailRecords: number;
  readonly snapshotMiB: number;
}

export interface FollowerLag {
  readonly seconds: number;
  readonly ingestRate: number;
  readonly samples: number;
  readonly slicesP50: number;
  readonly slicesP99: number;
  readonly batches: number;
  readonly msP50: number;
  readonly msP99: number;
  /** Process start to every partition ready, from the owner's snapshots plus the tail. */
  readonly catchUpSeconds: number;
}

export interface Failover {
  readonly sessionTimeoutMs: number;
  readonly standbys: number;
  /** SIGKILL of the owner to the first diff another instance committed on one of its partitions. */
  readonly firstDiffMs: number | undefined;
  /** SIGKILL to the first read of a graph on one of its partitions answered 200 (through the other instance). */
  readonly firstReadMs: number | undefined;
  /** Reads of the dead owner's graphs between the kill and the first diff: answered, and not. */
  readonly gapReadsAnswered: number;
  readonly gapReadsRefused: number;
}

type Say = (line: string) => void;

const count = (run: ChildRun, message: string): number => run.events.filter((e) => e['message'] === message).length;

async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 900_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}

function times(run: ChildRun, message: string): number[] {
  return run.events.filter((e) => e['message'] === message).map((e) => Date.parse(String(e['time'])));
}

function lastReady(run: ChildRun): number {
  return Math.max(...times(run, 'partition ready'));
}

async function started(setup: ContenderSetup, extras: GraphfoldExtras): Promise<ChildRun> {
  const run = await startGraphfold(setup, extras);
  await run.ready(600_000);
  return run;
}

/** Waits until `run` has opened `partitions` partitions (its 'partition ready' lines). */
function allReady(run: ChildRun, partitions: number): Promise<void> {
  return until(`${partitions} partitions ready`, () => count(run, 'partition ready') >= partitions);
}

function queryUrl(run: ChildRun): Promise<string> {
  let url: string | undefined;
  return until('the query API address', () => (url = run.events.find((e) => e['message'] === 'query API listening')?.['url'] as string | undefined) !== undefined, 60_000).then(() => url as string);
}

/** Input offsets the run's group committed, summed. */
async function committedInput(admin: Admin, run: ChildRun, setup: ContenderSetup): Promise<number> {
  const [offsets] = await admin.fetchOffsets({ groupId: run.group, topics: [setup.input] });
  return (offsets?.partitions ?? []).reduce((n, p) => n + Math.max(0, Number(p.offset)), 0);
}

async function inputEnd(admin: Admin, topic: string): Promise<number> {
  return (await admin.fetchTopicOffsets(topic)).reduce((n, o) => n + Number(o.offset), 0);
}

/** Produces `messages` to `topic` at `rate` per second until they run out or `signal` aborts. */
export async function feed(kafka: Kafka, topic: string, messages: readonly Message[], rate: number, signal: AbortSignal): Promise<number> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  let sent = 0;
  try {
    const begun = Date.now();
    const perTick = Math.max(1, Math.round(rate / 20));
    for (; sent < messages.length && !signal.aborted; sent += perTick) {
      const due = begun + (sent / rate) * 1000;
      if (due > Date.now()) await sleep(due - Date.now());
      await producer.send({ topic, messages: messages.slice(sent, sent + perTick) });
    }
  } finally {
    await producer.disconnect();
  }
  return sent;
}

/**
 * Cold restore, two ways, on the throughput run's changelog: (1) a run with snapshots every 2 s
 * takes one per partition (a store that did not change is not taken again); (2) a run without snapshots folds `tail` more
 * transactions, so the changelog holds history the snapshots lack; (3) the state deleted, a run
 * without snapshots replays the whole changelog; (4) deleted again, a run with snapshots fetches
 * them and replays only the tail. Both restores are timed the same way: process start to every
 * partition ready.
 */
export async function measureSnapshotRestore(admin: Admin, kafka: Kafka, setup: ContenderSetup, snapshotsDir: string, tail: readonly Message[], say: Say): Promise<SnapshotRestore> {
  const snapshots = { snapshotsDir };
  let run = await started(setup, { ...snapshots, snapshotsEvery: '2s' });
  await allReady(run, setup.partitions);
  const taken = (): Record<string, unknown>[] => run.events.filter((e) => e['message'] === 'snapshot taken');
  await until(`a snapshot of each of the ${setup.partitions} partitions`, () => new Set(taken().map((e) => e['partition'])).size >= setup.partitions);
  await run.stop();
  const newest = new Map(taken().map((e) => [e['partition'], e]));
  const snapshotMiB = [...newest.values()].reduce((n, e) => n + Number(e['mib'] ?? 0), 0);
  say(`${taken().length} snapshots taken on the schedule (every 2 s while ingesting nothing: one per partition), ${snapshotMiB.toFixed(1)} MiB, the longest copy step held the thread ${Math.max(...taken().map((e) => Number(e['longestStepMs'] ?? 0))).toFixed(2)} ms`);

  run = await started(setup, {});
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  for (let i = 0; i < tail.length; i += 500) await producer.send({ topic: setup.input, messages: tail.slice(i, i + 500) });
  await producer.disconnect();
  const end = await inputEnd(admin, setup.input);
  await until('the tail folded', async () => (await committedInput(admin, run, setup)) >= end);
  await run.stop();

  await graphfold.resetState?.(setup);
  let begun = Date.now();
  run = await started(setup, {});
  await allReady(run, setup.partitions);
  const fullProcessSeconds = (Date.now() - begun) / 1000;
  const fullSeconds = (lastReady(run) - Math.min(...times(run, 'restore started'))) / 1000;
  const fullRecords = run.events.filter((e) => e['message'] === 'restore finished').reduce((n, e) => n + Number(e['records'] ?? 0), 0);
  await run.stop();
  say(`full replay: ${fullRecords.toLocaleString()} diffs in ${fullSeconds.toFixed(2)} s (first restore start to last partition ready); ${fullProcessSeconds.toFixed(1)} s from the process start`);

  await graphfold.resetState?.(setup);
  begun = Date.now();
  run = await started(setup, snapshots);
  await allReady(run, setup.partitions);
  const snapshotProcessSeconds = (Date.now() - begun) / 1000;
  const fetchStarts = run.events.filter((e) => e['message'] === 'snapshot restored').map((e) => Date.parse(String(e['time'])) - Number(e['seconds']) * 1000);
  const snapshotSeconds = (lastReady(run) - Math.min(...fetchStarts)) / 1000;
  const restored = run.events.filter((e) => e['message'] === 'snapshot restored').length;
  const tailRecords = run.events.filter((e) => e['message'] === 'restore finished').reduce((n, e) => n + Number(e['records'] ?? 0), 0);
  await run.stop();
  if (restored < setup.partitions) throw new Error(`bench: ${restored} of ${setup.partitions} partitions restored a snapshot`);
  say(`snapshot restore: ${restored} snapshots and a tail of ${tailRecords.toLocaleString()} diffs in ${snapshotSeconds.toFixed(2)} s (first snapshot fetch to last partition ready); ${snapshotProcessSeconds.toFixed(1)} s from the process start`);
  return { fullSeconds, fullProcessSeconds, fullRecords, snapshotSeconds, snapshotProcessSeconds, tailRecords, snapshotMiB };
}

/**
 * A follower of the throughput run's diffs topic (started from the owner's snapshots) while the
 * owner ingests `messages` at `rate`: every 50 ms the owner's and the follower's head of one
 * graph (round robin), the follower's read second (slices behind); per batch the follower writes,
 * the age of its oldest diff (ms from the owner's send to the follower's write).
 */
export async function measureFollowerLag(kafka: Kafka, setup: ContenderSetup, snapshotsDir: string, messages: readonly Message[], graphs: readonly string[], rate: number, seconds: number, say: Say): Promise<FollowerLag> {
  const owner = await started(setup, {});
  await allReady(owner, setup.partitions);
  const followerSetup: ContenderSetup = { ...setup, name: `${setup.name}-copy`, dir: join(setup.dir, 'follower') };
  await mkdir(followerSetup.dir, { recursive: true });
  const begun = Date.now();
  const follower = await started(followerSetup, { follow: true, verbose: true, snapshotsDir });
  try {
    await allReady(follower, setup.partitions);
    const catchUpSeconds = (Date.now() - begun) / 1000;
    say(`follower caught up ${catchUpSeconds.toFixed(1)} s after its process started (from the owner's snapshots and the tail)`);
    const ownerClient = new QueryClient(await queryUrl(owner));
    const followerClient = new QueryClient(await queryUrl(follower));
    const stop = new AbortController();
    const feeding = feed(kafka, setup.input, messages, rate, stop.signal);
    const batchesBefore = follower.events.length;
    const slices: number[] = [];
    const windowStart = Date.now();
    await sleep(2_000);
    for (let i = 0; Date.now() - windowStart < seconds * 1000; i += 1) {
      const graph = graphs[i % graphs.length] as string;
      const mine = await ownerClient.get(`/v1/graphs/${graph}`);
      const theirs = await followerClient.get(`/v1/graphs/${graph}`, { processor: 'copy' });
      if (mine.status === 200 && theirs.status === 200) slices.push(Math.max(0, (mine.body['head'] as number) - (theirs.body['head'] as number)));
      await sleep(50);
    }
    stop.abort();
    await feeding;
    const lags = follower.events.slice(batchesBefore).flatMap((e) => (e['message'] === 'follower batch written' ? [Number(e['lagMs'])] : []));
    return { seconds, ingestRate: rate, samples: slices.length, slicesP50: quantile(slices, 0.5), slicesP99: quantile(slices, 0.99), batches: lags.length, msP50: quantile(lags, 0.5), msP99: quantile(lags, 0.99), catchUpSeconds };
  } finally {
    await follower.stop();
    await owner.stop();
  }
}

/**
 * Failover: two instances of the throughput run's processor (the second with stores of its own,
 * both with the snapshots and `standbys`), fed at `rate`; the one that owns partition 0 is
 * SIGKILLed. Measured from the kill: the first diff the survivor commits on a partition of the
 * dead one (a diff whose record time is after the kill: the dead one sent nothing since), and the
 * first read of a graph there answered 200 by the survivor, which is asked every 50 ms.
 */
export async function measureFailover(kafka: Kafka, setup: ContenderSetup, snapshotsDir: string, messages: readonly Message[], rate: number, options: { readonly sessionTimeoutMs: number; readonly standbys: number }, say: Say): Promise<Failover> {
  const extras: GraphfoldExtras = { snapshotsDir, sessionTimeoutMs: options.sessionTimeoutMs, standbys: options.standbys };
  const survivorSetup: ContenderSetup = { ...setup, dir: join(setup.dir, 'second') };
  await mkdir(survivorSetup.dir, { recursive: true });
  const first = await started(setup, extras);
  await allReady(first, setup.partitions);
  const second = await started(survivorSetup, extras);
  const assigned = (run: ChildRun): number[] => {
    const last = run.events.filter((e) => e['message'] === 'partitions assigned').at(-1)?.['partitions'];
    return typeof last === 'string' && last !== 'none' ? last.split(',').map(Number) : [];
  };
  await until('the second instance to take and open its share', () => {
    const a = assigned(first);
    const b = assigned(second);
    return a.length > 0 && b.length > 0 && a.length + b.length === setup.partitions && count(second, 'partition ready') >= b.length;
  });
  const [victim, survivor] = assigned(first).includes(0) ? [first, second] : [second, first];
  const lost = assigned(victim);
  if (options.standbys > 0) {
    await until('the survivor\'s standbys of the partitions to lose', () => lost.every((p) => survivor.events.some((e) => e['message'] === 'standby replica following' && e['partition'] === p)));
  }
  say(`two instances; the one owning partitions ${lost.join(',')} is to be killed${options.standbys > 0 ? '; the other keeps standbys of them' : ''}`);
  const survivorClient = new QueryClient(await queryUrl(survivor));
  const graphsThere = Array.from({ length: 32 }, (_, i) => `${benchGraphPrefix}${i}`).filter((g) => lost.includes(partitionOf(g, setup.partitions)));

  let killedAt = Number.POSITIVE_INFINITY;
  let firstDiffAt: number | undefined;
  const watcher = kafka.consumer({ groupId: `failover-watch-${Date.now()}`, maxWaitTimeInMs: 20 });
  await watcher.connect();
  await watcher.subscribe({ topic: setup.output, fromBeginning: false });
  await watcher.run({
    eachMessage: async ({ partition, message }) => {
      if (firstDiffAt === undefined && lost.includes(partition) && Number(message.timestamp) > killedAt) firstDiffAt = Date.now();
    },
  });
  const stop = new AbortController();
  const feeding = feed(kafka, setup.input, messages, rate, stop.signal);
  let firstReadAt: number | undefined;
  let answered = 0;
  let refused = 0;
  const reading = (async () => {
    for (let i = 0; !stop.signal.aborted; i += 1) {
      const asked = Date.now();
      const answer = await survivorClient.get(`/v1/graphs/${graphsThere[i % graphsThere.length] as string}`).catch(() => ({ status: 0 }));
      if (asked > killedAt) {
        if (answer.status === 200 && firstReadAt === undefined) firstReadAt = Date.now();
        if (firstDiffAt === undefined) {
          if (answer.status === 200) answered += 1;
          else refused += 1;
        }
      }
      await sleep(50);
    }
  })();
  try {
    await sleep(5_000);
    killedAt = Date.now();
    await victim.kill();
    await until('the first diff of the new owner', () => firstDiffAt !== undefined && firstReadAt !== undefined, 600_000);
    await sleep(1_000);
  } finally {
    stop.abort();
    await feeding;
    await reading;
    await watcher.disconnect();
    await survivor.stop();
  }
  const firstDiffMs = firstDiffAt === undefined ? undefined : firstDiffAt - killedAt;
  const firstReadMs = firstReadAt === undefined ? undefined : firstReadAt - killedAt;
  say(`failover: first diff ${String(firstDiffMs)} ms, first read ${String(firstReadMs)} ms after the kill; during the gap ${answered} reads answered, ${refused} not`);
  return { ...options, firstDiffMs, firstReadMs, gapReadsAnswered: answered, gapReadsRefused: refused };
}
