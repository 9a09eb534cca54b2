import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Message } from 'kafkajs';
import type { Instruction } from '../../processors/engine/model';
import { applyErrors, applyTopology, formatApplyReport } from '../../processors/admin/apply';
import { prettyRecord } from '../../processors/cli/pretty';
import { RecordDecoder, type GraphfoldRecord } from '../../processors/cli/record-decoder';
import { avroTypes } from '../../processors/codec/avro';
import { frame } from '../../processors/codec/framing';
import { jsonContentType } from '../../processors/codec/input';
import { transactionToAvro } from '../../processors/codec/transaction';
import { describeContext, GraphfoldError } from '../../processors/errors';
import { Instrumentation } from '../../processors/instrumentation/events';
import { attachLog } from '../../processors/instrumentation/log';
import { runTopology, type RunningTopology } from '../../processors/runtime/host';
import { kafkaClient } from '../../processors/runtime/kafka-client';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import type { Topology } from '../../processors/runtime/topology';
import { QueryClient } from '../../processors/query/client';
import { loadTopology } from '../../topology/loader';
import { startLocalCluster, stopLocalCluster } from '../broker/local-cluster';
import { demoRecords, type DemoRecord } from './data';

/**
 * `npm run demo`: graphfold end to end. Uses the cluster named by KAFKA_BROKERS and
 * SCHEMA_REGISTRY_URL, or starts the local broker and registry (and stops them at the end if it
 * started them). Applies `topology/demo.yaml`, runs its processor, sends a few hundred CRM
 * transactions over several graphs (some wrong on purpose), prints every diff and rejection as it
 * arrives, checks each record did what it should, reads a graph back as of earlier slices, and
 * stops. `npm run demo -- --serve` then keeps serving the live page (it prints `page: <url>` once
 * the page answers), sending a small transaction now and then, until Ctrl-C.
 */
const say = (line = ''): void => {
  process.stdout.write(`${line}\n`);
};

function demoTopologyFile(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'topology', 'demo.yaml');
    if (existsSync(file)) return file;
  }
  throw new Error('topology/demo.yaml not found above this module');
}

async function demo(args: readonly string[]): Promise<number> {
  const unknown = args.filter((a) => a !== '--serve');
  if (unknown.length > 0) {
    process.stderr.write(`graphfold: the demo takes one option, --serve (keep serving the live page until Ctrl-C); got ${unknown.join(' ')}\n`);
    return 2;
  }
  const serve = args.includes('--serve');
  const env = process.env;
  let started = false;
  let brokers = env['KAFKA_BROKERS'];
  let registryUrl = env['SCHEMA_REGISTRY_URL'];
  if (brokers === undefined || registryUrl === undefined) {
    say('== No KAFKA_BROKERS and SCHEMA_REGISTRY_URL: starting the local Kafka broker and schema registry');
    const cluster = await startLocalCluster({ onProgress: (line) => say(`   ${line}`) });
    started = !cluster.reused;
    brokers = cluster.brokers.join(',');
    registryUrl = cluster.registryUrl;
  }
  const stateDir = await mkdtemp(join(tmpdir(), 'graphfold-demo-'));
  let running: RunningTopology | undefined;
  try {
    // The query API on a free loopback port (the demo topology's default, 7070, may be taken here).
    const topology = loadTopology(demoTopologyFile(), { env: { GRAPHFOLD_QUERY_LISTEN: '127.0.0.1:0', ...env, KAFKA_BROKERS: brokers, SCHEMA_REGISTRY_URL: registryUrl, GRAPHFOLD_STATE_DIR: stateDir } });
    say(`\n== graphfold topology apply --topology ${topology.origin}`);
    const report = await applyTopology(topology);
    say(formatApplyReport(report));
    if (applyErrors(report) > 0) return 1;

    say('\n== graphfold run (in this process; its log goes to stderr)');
    const instrumentation = new Instrumentation();
    const detach = attachLog(instrumentation, { summaryMs: 5_000 });
    running = await runTopology(topology, instrumentation);
    let ok = await feedAndWatch(topology);
    if (ok && running.query !== undefined) ok = await queryTour(topology, running.query.url);
    if (ok && serve && running.query !== undefined) await servePage(topology, running.query.url);
    await running.stop();
    await running.done;
    detach();
    running = undefined;
    return ok ? 0 : 1;
  } finally {
    await running?.stop();
    await rm(stateDir, { recursive: true, force: true });
    if (started) {
      say('\n== Stopping the local cluster this demo started');
      await stopLocalCluster();
    }
  }
}

/** The run's id: in graph ids, so that each run folds new graphs, even on a reused cluster. */
const runId = randomBytes(2).toString('hex');
let records: DemoRecord[] = [];

async function feedAndWatch(topology: Topology): Promise<boolean> {
  const processor = topology.processors[0];
  if (processor === undefined) throw new Error('the demo topology has no processor');
  records = demoRecords(runId);
  const graphs = new Set(records.map((r) => r.graph));
  const catalog = new SchemaCatalog(topology.registry);
  const schemaId = await catalog.register(processor.inputs[0] as string, avroTypes().transaction);
  const kafka = kafkaClient(topology.kafka, 'demo');

  const expectedDiffs = records.filter((r) => r.expect === 'applied').length;
  const expectedRejections = records.filter((r) => r.expect !== 'applied' && r.expect !== 'duplicate').length;
  const diffs: GraphfoldRecord[] = [];
  const rejections: GraphfoldRecord[] = [];
  let arrived: () => void = () => undefined;
  const allArrived = new Promise<void>((resolve) => {
    arrived = resolve;
  });
  const consumer = kafka.consumer({ groupId: `${topology.application}-demo-${runId}`, maxWaitTimeInMs: 200 });
  const decoder = new RecordDecoder();
  await consumer.connect();
  await consumer.subscribe({ topics: [processor.diffs, processor.rejections], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value === null) return;
      const id = RecordDecoder.schemaIdOf(message.value, undefined);
      if (id !== undefined) await catalog.fetch([id]);
      const record = decoder.decode(message.value, undefined, catalog.known);
      const graph = record.kind === 'diff' ? record.diff.graph : record.kind === 'rejection' ? record.rejection.graph : record.transaction.graph;
      if (graph === undefined || !graphs.has(graph)) return;
      (record.kind === 'diff' ? diffs : rejections).push(record);
      say(prettyRecord(record));
      if (diffs.length >= expectedDiffs && rejections.length >= expectedRejections) arrived();
    },
  });

  say(`\n== Sending ${records.length} records to ${processor.inputs[0]} over ${graphs.size} graphs (run ${runId}), some wrong on purpose\n`);
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const messages: Message[] = records.map((r) =>
    r.tx !== undefined
      ? { key: r.tx.graph, value: frame(schemaId, avroTypes().transaction.toBuffer(transactionToAvro(r.tx))) }
      : { key: r.raw?.key ?? null, value: Buffer.from(r.raw?.json ?? ''), headers: { 'content-type': jsonContentType } },
  );
  for (let i = 0; i < messages.length; i += 50) await producer.send({ topic: processor.inputs[0] as string, messages: messages.slice(i, i + 50) });
  await producer.disconnect();

  const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 120_000).unref());
  const outcome = await Promise.race([allArrived.then(() => 'arrived' as const), timeout]);
  await consumer.disconnect();
  return summarize(outcome === 'arrived', diffs, rejections);
}

function summarize(complete: boolean, diffs: readonly GraphfoldRecord[], rejections: readonly GraphfoldRecord[]): boolean {
  const expectedCodes = new Map<string, string>();
  for (const r of records) if (r.expect !== 'applied' && r.expect !== 'duplicate') expectedCodes.set(r.tx?.txId ?? `${r.graph}:${r.raw?.json.slice(0, 40)}`, r.expect);
  const byCode = new Map<string, number>();
  for (const r of rejections) if (r.kind === 'rejection') byCode.set(r.rejection.code, (byCode.get(r.rejection.code) ?? 0) + 1);
  const wanted = new Map<string, number>();
  for (const code of expectedCodes.values()) wanted.set(code, (wanted.get(code) ?? 0) + 1);
  const applied = records.filter((r) => r.expect === 'applied').length;
  const duplicates = records.filter((r) => r.expect === 'duplicate').length;
  const slices = new Map<string, number>();
  for (const d of diffs) if (d.kind === 'diff') slices.set(d.diff.graph, Math.max(slices.get(d.diff.graph) ?? 0, d.diff.slice));

  say(`\n== Summary of run ${runId}`);
  say(`   ${records.length} records sent over ${slices.size} graphs`);
  say(`   ${diffs.length} diffs (expected ${applied}): ${[...slices].map(([g, s]) => `${g} at slice ${s}`).join(', ')}`);
  say(`   ${rejections.length} rejections (expected ${expectedCodes.size}): ${[...byCode].map(([c, n]) => `${c} ${n}`).join(', ')}`);
  say(`   ${duplicates} duplicates skipped (a txId already applied to its graph changes nothing)`);
  const codesMatch = [...wanted].every(([code, n]) => byCode.get(code) === n) && byCode.size === wanted.size;
  const ok = complete && diffs.length === applied && rejections.length === expectedCodes.size && codesMatch;
  say(ok ? '   Every record did what it should.' : '   MISMATCH: the outputs differ from what the records should produce (see above).');
  return ok;
}

/**
 * Reads the graphs back through the query API, as a client would: one deal's stage as of each
 * slice that changed it, the diff between an old slice and the head, and a write read back at
 * once with waitForTx (read-your-writes); each with the `graphfold query` and curl that do the same.
 */
async function queryTour(topology: Topology, url: string): Promise<boolean> {
  const processor = topology.processors[0];
  const deal = records.find((r) => r.tx?.instructions.some((i) => i.op === 'CreateEntity' && i.type === 'Deal'));
  const created = deal?.tx?.instructions.find((i) => i.op === 'CreateEntity' && i.type === 'Deal');
  if (processor === undefined || deal === undefined || created?.op !== 'CreateEntity' || created.uid === undefined) return false;
  const dealUid = created.uid;
  const graph = deal.graph;
  const client = new QueryClient(url);
  const get = async (path: string, params: Record<string, string | number> = {}): Promise<Record<string, unknown>> => {
    const answer = await client.get(path, params);
    if (answer.status !== 200) throw new Error(`GET ${path} answered ${answer.status}: ${String(answer.body['message'])}`);
    return answer.body;
  };
  say(`\n== The query API at ${url} (GET ${url}/v1/openapi.json lists every route)`);
  const info = await get(`/v1/graphs/${graph}`);
  say(`   graph ${graph}: head slice ${String(info['head'])}, partition ${String(info['partition'])}, served by ${String(info['owner'])}`);

  say(`\n== Time travel: the stage of deal ${dealUid} as of the slices that changed it`);
  say(`   $ graphfold query relations ${graph} ${dealUid} --type Stage --url ${url}`);
  const relations = await get(`/v1/graphs/${graph}/atoms/${dealUid}/relations`, { direction: 'out', type: 'Stage' });
  const stage = (relations['relations'] as { other: { uid: string } }[])[0]?.other.uid;
  if (stage === undefined) return false;
  const slices = await get(`/v1/graphs/${graph}/slices`, { limit: 1000 });
  let last = '';
  let firstStageSlice = 0;
  for (const { slice } of slices['slices'] as { slice: number }[]) {
    const atom = await client.get(`/v1/graphs/${graph}/atoms/${stage}`, { asOf: slice });
    if (atom.status !== 200) continue;
    firstStageSlice ||= slice;
    const value = (atom.body['atom'] as { value?: { value: string } }).value?.value ?? '(none)';
    if (value !== last) say(`   as of slice ${String(slice).padStart(3)}: ${value}`);
    last = value;
  }
  say(`   $ curl '${url}/v1/graphs/${graph}/atoms/${stage}?asOf=${firstStageSlice}'`);

  const head = info['head'] as number;
  const from = Math.max(0, firstStageSlice);
  say(`\n== What changed in graph ${graph} from slice ${from} to the head (${head}), compacted`);
  say(`   $ graphfold query diff ${graph} ${from} ${head} --url ${url}`);
  const diff = await get(`/v1/graphs/${graph}/diff`, { from, to: head });
  const changes = diff['changes'] as { op: string }[];
  const count = (op: string): number => changes.filter((c) => c.op === op).length;
  say(`   ${changes.length} changes: ${count('Created')} created, ${count('Assigned')} assigned, ${count('Terminated')} terminated`);

  say('\n== Read-your-writes: send a transaction, then read as of the slice it made');
  const txId = `${graph}-demo-ryw`;
  const catalog = new SchemaCatalog(topology.registry);
  const schemaId = await catalog.register(processor.inputs[0] as string, avroTypes().transaction);
  const kafka = kafkaClient(topology.kafka, 'demo');
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const tx = { graph, txId, instructions: [{ op: 'SetField' as const, subject: { uid: dealUid }, relation: 'Stage', value: { type: 'Enum' as const, enum: 'DealStage', value: 'won' } }] };
  await producer.send({ topic: processor.inputs[0] as string, messages: [{ key: graph, value: frame(schemaId, avroTypes().transaction.toBuffer(transactionToAvro(tx))) }] });
  await producer.disconnect();
  say(`   $ curl '${url}/v1/graphs/${graph}/atoms/${stage}?waitForTx=${txId}&wait=10s'`);
  const read = await client.get(`/v1/graphs/${graph}/atoms/${stage}`, { waitForTx: txId, wait: '10s' });
  if (read.status !== 200) {
    say(`   MISMATCH: the read answered ${read.status}: ${String(read.body['message'])}`);
    return false;
  }
  const fate = await get(`/v1/graphs/${graph}/transactions/${txId}`);
  say(`   answered as of slice ${String(read.body['slice'])}: ${(read.body['atom'] as { value?: { value: string } }).value?.value}; transaction ${txId} is ${String(fate['status'])} (slice ${String(fate['appliedSlice'])})`);
  say(`   $ graphfold query tx ${graph} ${txId} --url ${url}`);
  return read.body['slice'] === fate['appliedSlice'];
}

/**
 * Serves the live page until Ctrl-C (SIGINT or SIGTERM): prints `page: <url>` once `/` answers,
 * then every few seconds sends one transaction to the first graph (a deal changes stage, someone
 * new knows someone), so the page's live mode shows slices arriving.
 */
async function servePage(topology: Topology, url: string): Promise<void> {
  const processor = topology.processors[0];
  const graph = records[0]?.graph;
  if (processor === undefined || graph === undefined) return;
  const answer = await fetch(`${url}/`);
  if (answer.status !== 200) throw new Error(`the live page at ${url}/ answered ${answer.status}: ${(await answer.text()).slice(0, 200)}`);
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  say(`\n== The live page (Ctrl-C stops the demo); a transaction goes to ${graph} every 5 s, for its live mode`);
  say(`page: ${url}/#graph=${encodeURIComponent(graph)}&live=1`);
  const catalog = new SchemaCatalog(topology.registry);
  const schemaId = await catalog.register(processor.inputs[0] as string, avroTypes().transaction);
  const producer = kafkaClient(topology.kafka, 'demo').producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const deals = records.flatMap((r) => (r.graph === graph ? (r.tx?.instructions ?? []) : [])).flatMap((i) => (i.op === 'CreateEntity' && i.type === 'Deal' && i.uid !== undefined ? [i.uid] : []));
  const people = records.flatMap((r) => (r.graph === graph ? (r.tx?.instructions ?? []) : [])).flatMap((i) => (i.op === 'CreateEntity' && i.type === 'Person' && i.uid !== undefined ? [i.uid] : []));
  const stages = ['lead', 'qualified', 'proposal', 'won', 'lost'];
  let n = 0;
  try {
    for (;;) {
      const tick = await Promise.race([stopped.then(() => 'stop' as const), new Promise<'tick'>((resolve) => setTimeout(() => resolve('tick'), 5_000).unref())]);
      if (tick === 'stop') break;
      n += 1;
      const txId = `${graph}-live-${runId}-${n}`;
      const deal = deals[n % deals.length] as string;
      const instructions: Instruction[] =
        n % 3 === 0
          ? [
              { op: 'CreateEntity', ref: 'p', type: 'Person' },
              { op: 'SetField', subject: { ref: 'p' }, relation: 'Name', value: { type: 'String', value: `Visitor ${n}` } },
              { op: 'CreateRelation', type: 'Knows', source: { ref: 'p' }, target: { uid: people[n % people.length] as string } },
            ]
          : [{ op: 'SetField', subject: { uid: deal }, relation: 'Stage', value: { type: 'Enum', enum: 'DealStage', value: stages[n % stages.length] as string } }];
      await producer.send({ topic: processor.inputs[0] as string, messages: [{ key: graph, value: frame(schemaId, avroTypes().transaction.toBuffer(transactionToAvro({ graph, txId, instructions }))) }] });
      say(`   sent ${txId}: ${n % 3 === 0 ? `Visitor ${n} joins and knows someone` : `deal ${deal.slice(0, 8)} moves to ${stages[n % stages.length]}`}`);
    }
  } finally {
    await producer.disconnect();
  }
  say('\n== Stopping');
}

demo(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const context = error instanceof GraphfoldError ? describeContext(error.context) : '';
    process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}${context === '' ? '' : ` (${context})`}\n`);
    process.exitCode = 1;
  },
);
