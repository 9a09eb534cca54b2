import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { waitForLeaders } from '../../processors/admin/topics';
import { avroTypes } from '../../processors/codec/avro';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { startLocalCluster, stopLocalCluster } from '../broker/local-cluster';
import { measureFailover, measureFollowerLag, measureSnapshotRestore, type Failover, type FollowerLag, type SnapshotRestore } from './availability';
import type { Contender, ContenderRun, ContenderSetup } from './contenders/contender';
import { ceiling, graphfold, graphfoldStoreDirs, kafkaStreams } from './contenders/index';
import { benchGraphPrefix, encodeWorkload, produceInput, type BenchInput } from './input';
import { measureLatency, measureThroughput, type Latency, type Throughput } from './measure';
import { printTable } from './table';
import { measureQueries, type QueryBench } from './query';
import { measureTraversal, type Traversal } from './traversal';

/**
 * `npm run bench [-- --quick] [--out <file>]`: graphfold side by side with what a user would pick
 * otherwise, on the same broker, the same input bytes, in one run (see README, Performance).
 * Contenders run one at a time, each as one process. Only ratios measured in the same run count:
 * these machines are noisy.
 */
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const outIndex = args.indexOf('--out');
const size = quick
  ? { transactions: 40_000, warmup: 5_000, latencyRate: 200, latencySeconds: 6, traversalQueries: 30, queryRate: 500, querySeconds: 5, snapshotTail: 400, followSeconds: 5, failoverRate: 100 }
  : { transactions: 440_000, warmup: 40_000, latencyRate: 1_000, latencySeconds: 30, traversalQueries: 300, queryRate: 1_000, querySeconds: 20, snapshotTail: 4_400, followSeconds: 20, failoverRate: 200 };
/** The failover measure's group session timeout: how long the group waits for a SIGKILLed member. */
const failoverSessionTimeoutMs = 10_000;
const partitions = 4;
const graphs = 32;

const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

interface ContenderResult {
  readonly name: string;
  readonly description: string;
  readonly throughput: Throughput;
  readonly latency: Latency;
  readonly restore?: { readonly records: number; readonly seconds: number; readonly recordsPerSecond: number };
}

async function createTopics(admin: Admin, topics: readonly string[], config: Record<string, string> = {}): Promise<void> {
  await admin.createTopics({
    waitForLeaders: false,
    topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1, configEntries: Object.entries(config).map(([name, value]) => ({ name, value })) })),
  });
  await waitForLeaders(admin, topics);
}

const changelogConfig = { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' };

/** Restore of a contender that has state: delete it, start again, read how long its restore took from its events. */
async function measureRestore(contender: Contender, setup: ContenderSetup): Promise<ContenderResult['restore']> {
  if (contender.resetState === undefined) return undefined;
  await contender.resetState(setup);
  const run = await contender.start(setup);
  try {
    await run.ready();
    const deadline = Date.now() + 600_000;
    for (;;) {
      const restore = restoreOf(run);
      if (restore !== undefined) return restore;
      if (Date.now() > deadline) throw new Error(`${contender.name} did not finish restoring within 10 minutes`);
      await sleep(200);
    }
  } finally {
    await run.stop();
  }
}

/** Restored records and the wall time from the first restore start to the last end, once every partition has finished. */
function restoreOf(run: ContenderRun): ContenderResult['restore'] {
  const time = (e: Record<string, unknown>): number => (typeof e['time'] === 'string' ? Date.parse(e['time']) : Number(e['time']));
  const started = run.events.filter((e) => e['message'] === 'restore started' || e['event'] === 'restore.start');
  const finished = run.events.filter((e) => e['message'] === 'restore finished' || e['event'] === 'restore.end');
  const ready = run.events.filter((e) => e['message'] === 'partition ready' || e['event'] === 'running');
  if (started.length === 0 || finished.length < started.length || ready.length === 0) return undefined;
  const records = finished.reduce((n, e) => n + Number(e['records'] ?? e['restored'] ?? 0), 0);
  const seconds = (Math.max(...finished.map(time)) - Math.min(...started.map(time))) / 1000;
  return { records, seconds, recordsPerSecond: records / Math.max(seconds, 1e-3) };
}

async function main(): Promise<void> {
  const started = Date.now();
  const env = process.env;
  let brokers = env['KAFKA_BROKERS']?.split(',');
  let registryUrl = env['SCHEMA_REGISTRY_URL'];
  let ownCluster = false;
  if (brokers === undefined || registryUrl === undefined) {
    say('bench: starting the local Kafka broker and schema registry');
    const cluster = await startLocalCluster({ name: 'bench-cluster' });
    ownCluster = !cluster.reused;
    brokers = cluster.brokers;
    registryUrl = cluster.registryUrl;
  }
  const work = await mkdtemp(join(tmpdir(), 'graphfold-bench-'));
  const kafka = new Kafka({ clientId: 'bench', brokers, logLevel: logLevel.NOTHING, retry: { retries: 8 } });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const run = `b${Date.now().toString(36)}`;
    const catalog = new SchemaCatalog({ url: registryUrl });
    const inputTopic = `${run}-input`;
    await createTopics(admin, [inputTopic]);
    const transactionSchemaId = await catalog.register(inputTopic, avroTypes().transaction);
    say(`bench: ${quick ? 'quick' : 'full'} run ${run}: ${size.transactions.toLocaleString()} transactions over ${graphs} graphs and ${partitions} partitions (${size.warmup.toLocaleString()} of them warm-up)`);
    const encoded = encodeWorkload({ seed: 42, graphs, transactions: size.transactions, partitions, schemaId: transactionSchemaId });
    const input: BenchInput = await produceInput(kafka, inputTopic, partitions, encoded);
    say(`bench: input ${input.instructions.toLocaleString()} instructions, ${(input.bytes.total / 2 ** 20).toFixed(1)} MiB; record value p50 ${input.bytes.p50} B, p99 ${input.bytes.p99} B, max ${input.bytes.max} B`);
    const latencyInput = encodeWorkload({ seed: 7, graphs, transactions: size.latencyRate * size.latencySeconds, partitions, schemaId: transactionSchemaId, graphPrefix: 'latency-' });

    const contenders: Contender[] = [ceiling, graphfold, kafkaStreams];
    const results: ContenderResult[] = [];
    let graphfoldStores: string[] = [];
    let queries: QueryBench | undefined;
    let graphfoldRun: { readonly setup: ContenderSetup; readonly ingestRate: number } | undefined;
    for (const contender of contenders) {
      const setup = async (phase: string, topic: string): Promise<ContenderSetup> => {
        const name = `${run}-${contender.name}-${phase}`;
        const dir = join(work, name);
        await mkdir(dir, { recursive: true });
        await createTopics(admin, [`${name}-out`, `${name}-out-rejections`], changelogConfig);
        const diffSchemaId = await catalog.register(`${name}-out`, avroTypes().diff);
        return { brokers: brokers as string[], registryUrl: registryUrl as string, input: topic, partitions, output: `${name}-out`, name, dir, transactionSchemaId, diffSchemaId };
      };
      say(`\nbench: ${contender.name}: throughput`);
      const main = await setup('main', inputTopic);
      const running = await contender.start(main);
      let throughput: Throughput;
      try {
        await running.ready();
        throughput = await measureThroughput(admin, running, input, size.warmup, (line) => say(`bench: ${contender.name}: ${line}`));
      } finally {
        await running.stop();
      }
      say(`bench: ${contender.name}: ${Math.round(throughput.transactionsPerSecond).toLocaleString()} tx/s, ${Math.round(throughput.instructionsPerSecond).toLocaleString()} instructions/s`);
      let restore: ContenderResult['restore'];
      if (contender.resetState !== undefined) {
        say(`bench: ${contender.name}: cold restore from its changelog`);
        restore = await measureRestore(contender, main);
      }
      if (contender === graphfold) graphfoldRun = { setup: main, ingestRate: Math.max(1, Math.round(throughput.transactionsPerSecond / 2)) };
      say(`bench: ${contender.name}: latency at ${size.latencyRate} tx/s`);
      const latencyTopic = `${run}-${contender.name}-latency-input`;
      await createTopics(admin, [latencyTopic]);
      const latencySetup = await setup('latency', latencyTopic);
      const latencyRun = await contender.start(latencySetup);
      let latency: Latency;
      try {
        await latencyRun.ready();
        await sleep(2_000);
        latency = await measureLatency(kafka, latencySetup.output, latencyInput.messages as { key: string; value: Buffer; partition: number }[], latencyTopic, size.latencyRate, size.latencySeconds);
      } finally {
        await latencyRun.stop();
      }
      results.push({ name: contender.name, description: contender.description, throughput, latency, ...(restore === undefined ? {} : { restore }) });
      if (contender === graphfold) graphfoldStores = graphfoldStoreDirs(main);
    }
    say('\nbench: traversal: graphfold\'s stores (as the throughput run and its restore left them) against PostgreSQL');
    const traversal = await measureTraversal(graphfoldStores, size.traversalQueries, (line) => say(`bench: traversal: ${line}`));
    if (graphfoldRun !== undefined) {
      say(`\nbench: query API: graphfold on its stores again, at ${size.queryRate} requests/s while it ingests ${graphfoldRun.ingestRate.toLocaleString()} tx/s (half its maximum)`);
      queries = await measureQueryPhase(kafka, graphfold, graphfoldRun.setup, graphfoldRun.ingestRate, transactionSchemaId);
    }
    let availability: Availability | undefined;
    if (graphfoldRun !== undefined) {
      say(`\nbench: availability: graphfold on its stores again: snapshots, a follower at ${graphfoldRun.ingestRate.toLocaleString()} tx/s, failover`);
      availability = await measureAvailability(kafka, admin, graphfoldRun.setup, graphfoldRun.ingestRate, transactionSchemaId, join(work, 'snapshots'));
    }
    report(results, traversal, queries, availability, input, Date.now() - started);
  } finally {
    await admin.disconnect();
    await rm(work, { recursive: true, force: true });
    if (ownCluster) await stopLocalCluster({ name: 'bench-cluster' });
  }
}

interface Availability {
  readonly snapshotRestore: SnapshotRestore;
  readonly followerLag: FollowerLag;
  readonly failover: Failover;
}

/** The availability phase (availability.ts), on the throughput run's topics and stores. */
async function measureAvailability(kafka: Kafka, admin: Admin, setup: ContenderSetup, ingestRate: number, schemaId: number, snapshotsDir: string): Promise<Availability> {
  const line = (prefix: string) => (text: string): void => say(`bench: ${prefix}: ${text}`);
  const tail = encodeWorkload({ seed: 11, graphs, transactions: size.snapshotTail, partitions, schemaId, graphPrefix: 'tail-' });
  const snapshotRestore = await measureSnapshotRestore(admin, kafka, setup, snapshotsDir, tail.messages, line('snapshots'));
  const followInput = encodeWorkload({ seed: 12, graphs, transactions: Math.ceil(ingestRate * (size.followSeconds + 10)), partitions, schemaId, graphPrefix: 'follow-' });
  const followerLag = await measureFollowerLag(kafka, setup, snapshotsDir, followInput.messages, Array.from({ length: graphs }, (_, i) => `follow-${i}`), ingestRate, size.followSeconds, line('follower'));
  const failoverInput = encodeWorkload({ seed: 13, graphs, transactions: size.failoverRate * 180, partitions, schemaId, graphPrefix: 'failover-' });
  const failover = await measureFailover(kafka, setup, snapshotsDir, failoverInput.messages, size.failoverRate, { sessionTimeoutMs: failoverSessionTimeoutMs, standbys: 1 }, line('failover'));
  return { snapshotRestore, followerLag, failover };
}

/**
 * The query phase: graphfold again on its throughput run's stores (restored already), with its
 * query API, fed new transactions of other graphs at `ingestRate` while autocannon reads the
 * throughput run's graphs as of an old slice.
 */
async function measureQueryPhase(kafka: Kafka, contender: Contender, setup: ContenderSetup, ingestRate: number, schemaId: number): Promise<QueryBench> {
  const run = await contender.start(setup);
  try {
    await run.ready();
    const deadline = Date.now() + 60_000;
    let url: string | undefined;
    while (url === undefined) {
      url = run.events.find((e) => e['message'] === 'query API listening')?.['url'] as string | undefined;
      if (url === undefined && Date.now() > deadline) throw new Error('graphfold did not log its query API address');
      if (url === undefined) await sleep(100);
    }
    const feedInput = encodeWorkload({ seed: 9, graphs, transactions: Math.ceil(ingestRate * (size.querySeconds * 2 + 20)), partitions, schemaId, graphPrefix: 'query-load-' });
    const feed = async (client: Kafka, rate: number, signal: AbortSignal): Promise<void> => {
      const producer = client.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      try {
        const begun = Date.now();
        const perTick = Math.max(1, Math.round(rate / 20));
        for (let sent = 0; sent < feedInput.messages.length && !signal.aborted; sent += perTick) {
          const due = begun + (sent / rate) * 1000;
          if (due > Date.now()) await sleep(due - Date.now());
          await producer.send({ topic: setup.input, messages: feedInput.messages.slice(sent, sent + perTick) });
        }
      } finally {
        await producer.disconnect();
      }
    };
    return await measureQueries({ url, graphs: Array.from({ length: graphs }, (_, i) => `${benchGraphPrefix}${i}`), rate: size.queryRate, connections: 8, seconds: size.querySeconds, ingestRate, feed, kafka });
  } finally {
    await run.stop();
  }
}

function report(results: readonly ContenderResult[], traversal: Traversal, queries: QueryBench | undefined, availability: Availability | undefined, input: BenchInput, elapsedMs: number): void {
  const byName = new Map(results.map((r) => [r.name, r]));
  const fixed = (n: number | undefined, digits = 0): string => (n === undefined || !Number.isFinite(n) ? '-' : n.toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits }));
  say('');
  printTable(
    ['contender', 'tx/s', 'instructions/s', 'CPU s / 1000 tx', 'peak RSS MiB', 'latency p50 / p99 ms', 'restore records', 'restore s', 'restore records/s'],
    results.map((r) => [
      r.name,
      fixed(r.throughput.transactionsPerSecond),
      fixed(r.throughput.instructionsPerSecond),
      fixed(r.throughput.cpuSecondsPer1000Transactions, 3),
      fixed(r.throughput.peakRssMiB),
      `${fixed(r.latency.p50Ms)} / ${fixed(r.latency.p99Ms)}`,
      fixed(r.restore?.records),
      fixed(r.restore?.seconds, 1),
      fixed(r.restore?.recordsPerSecond),
    ]),
  );
  say('');
  say(`traversal: ${traversal.graphs} graphs, ${traversal.edges.toLocaleString()} relations; ${traversal.timings[0]?.queries ?? 0} queries per row, either direction`);
  printTable(
    ['hops', 'as of slice', 'atoms reached', 'graphfold p50 / p99 ms', 'postgres p50 / p99 ms', 'postgres/graphfold p50'],
    traversal.timings.map((t) => [
      String(t.hops),
      t.slice,
      fixed(t.meanReached),
      `${fixed(t.graphfold.p50Ms, 2)} / ${fixed(t.graphfold.p99Ms, 2)}`,
      `${fixed(t.postgres.p50Ms, 2)} / ${fixed(t.postgres.p99Ms, 2)}`,
      fixed(t.postgres.p50Ms / t.graphfold.p50Ms, 1),
    ]),
  );
  if (queries !== undefined) {
    say('');
    say(`query API: latency at ${queries.rate.toLocaleString()} requests/s over ${queries.connections} connections, capacity closed-loop (autocannon), as of an old slice, graphfold idle and ingesting ${queries.ingestRate.toLocaleString()} tx/s; in-process = the server's own read time`);
    printTable(
      ['query', 'graphfold', 'requests timed', 'capacity requests/s', 'errors', 'HTTP p50 / p99 ms', 'in-process p50 / p99 ms', 'overhead p50 ms'],
      queries.timings.map((t) => [t.kind, t.ingesting ? 'ingesting' : 'idle', fixed(t.requests), fixed(t.requestsPerSecond), fixed(t.errors), `${fixed(t.http.p50Ms, 2)} / ${fixed(t.http.p99Ms, 2)}`, `${fixed(t.inProcess.p50Ms, 3)} / ${fixed(t.inProcess.p99Ms, 3)}`, fixed(t.http.p50Ms - t.inProcess.p50Ms, 3)]),
    );
  }
  if (availability !== undefined) {
    const { snapshotRestore: r, followerLag: f, failover: o } = availability;
    say('');
    say(`availability: cold restore of the throughput run's ${partitions} stores (first restore start to last partition ready; process start to ready in brackets), a follower at ${f.ingestRate.toLocaleString()} tx/s, failover with ${o.standbys} standbys and sessionTimeoutMs ${o.sessionTimeoutMs}`);
    printTable(
      ['measure', 'value'],
      [
        ['full replay', `${fixed(r.fullRecords)} diffs, ${fixed(r.fullSeconds, 2)} s (${fixed(r.fullProcessSeconds, 1)} s)`],
        ['snapshot + tail', `${fixed(r.snapshotMiB, 1)} MiB + ${fixed(r.tailRecords)} diffs, ${fixed(r.snapshotSeconds, 2)} s (${fixed(r.snapshotProcessSeconds, 1)} s)`],
        ['follower catch-up from snapshots', `${fixed(f.catchUpSeconds, 1)} s (process start to ready)`],
        ['follower lag slices p50 / p99', `${fixed(f.slicesP50)} / ${fixed(f.slicesP99)} (${fixed(f.samples)} samples)`],
        ['follower lag ms p50 / p99', `${fixed(f.msP50)} / ${fixed(f.msP99)} (${fixed(f.batches)} batches)`],
        ['failover first diff ms', fixed(o.firstDiffMs)],
        ['failover first read ms', fixed(o.firstReadMs)],
        ['reads in the gap answered / not', `${fixed(o.gapReadsAnswered)} / ${fixed(o.gapReadsRefused)}`],
      ],
    );
  }
  const ratio = (a: number | undefined, b: number | undefined): string => (a === undefined || b === undefined || b === 0 ? 'n/a' : (a / b).toFixed(2));
  const gf = byName.get('graphfold');
  // 3-hop medians as of the latest and an old slice, taken together.
  const threeHop = traversal.timings.filter((t) => t.hops === 3);
  const sum = (values: readonly number[]): number | undefined => (values.length === 0 ? undefined : values.reduce((a, b) => a + b, 0));
  const ks = byName.get('kafka-streams');
  const lines = {
    'graphfold/ceiling': ratio(gf?.throughput.transactionsPerSecond, byName.get('ceiling')?.throughput.transactionsPerSecond),
    'graphfold/kafka-streams': ratio(gf?.throughput.transactionsPerSecond, ks?.throughput.transactionsPerSecond),
    'restore graphfold/kafka-streams': ratio(gf?.restore?.recordsPerSecond, ks?.restore?.recordsPerSecond),
    // Wall time of the cold restore of the same transactions (Kafka Streams restores ten records per diff).
    'restore-seconds graphfold/kafka-streams': ratio(gf?.restore?.seconds, ks?.restore?.seconds),
    '3-hop postgres/graphfold': ratio(sum(threeHop.map((t) => t.postgres.p50Ms)), sum(threeHop.map((t) => t.graphfold.p50Ms))),
  };
  const file = outIndex >= 0 ? resolve(args[outIndex + 1] as string) : resolve(__dirname, '../../../.cache/bench', `report-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  void mkdir(dirname(file), { recursive: true })
    .then(() => writeFile(file, `${JSON.stringify({ quick, input: { ...input, instructionsBefore: undefined }, results, traversal, queries, availability, ratios: lines, elapsedMs }, null, 2)}\n`))
    .then(() => {
      say(`\nbench: report written to ${file} (${Math.round(elapsedMs / 1000)} s)`);
      for (const [name, value] of Object.entries(lines)) say(`ratio ${name}: ${value}`);
      const twoHop = queries?.timings.find((t) => t.kind === '2-hop' && t.ingesting);
      const point = queries?.timings.find((t) => t.kind === 'point read' && t.ingesting);
      say(`query 2-hop p99 ms: ${twoHop === undefined ? 'n/a' : twoHop.http.p99Ms.toFixed(2)}`);
      say(`query overhead p50 ms: ${point === undefined ? 'n/a' : (point.http.p50Ms - point.inProcess.p50Ms).toFixed(3)}`);
      const a = availability;
      const ms = (n: number | undefined): string => (n === undefined ? 'n/a' : String(Math.round(n)));
      say(`follower lag slices p50/p99: ${a === undefined ? 'n/a' : `${a.followerLag.slicesP50}/${a.followerLag.slicesP99}`}`);
      say(`follower lag ms p50/p99: ${a === undefined ? 'n/a' : `${ms(a.followerLag.msP50)}/${ms(a.followerLag.msP99)}`}`);
      say(`ratio snapshot-restore/full-restore: ${a === undefined ? 'n/a' : ratio(a.snapshotRestore.snapshotSeconds, a.snapshotRestore.fullSeconds)}`);
      say(`failover first diff ms: ${ms(a?.failover.firstDiffMs)}`);
      say(`failover first read ms: ${ms(a?.failover.firstReadMs)}`);
    });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
