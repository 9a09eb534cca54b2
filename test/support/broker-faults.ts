import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { startRestartableBroker, type RestartableBroker } from '../broker/restartable-broker';
import { workload } from '../bench/workload';
import { canonical } from './canonical';
import { testCluster, uniqueName } from './kafka';
import { readAll } from './processor-child';
import { byGraph, createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId, type ProcessorTopics } from './processor-harness';
import { openTempStore } from './temp-store';
import { foldInto } from './fold-loop';
import { waitFor } from './wait-for';

/**
 * A processor's world with a broker the test may kill: a {@link RestartableBroker} of its own (the
 * shared test cluster's registry), a processor's topics on it, a topology file for `graphfold run`
 * (a {@link ProcessorChild}), a producer that keeps input coming through outages, and probes of
 * the group's progress that do not depend on a consumer group of their own.
 */
export interface FaultRig {
  readonly broker: RestartableBroker;
  readonly kafka: Kafka;
  readonly topics: ProcessorTopics;
  readonly application: string;
  readonly group: string;
  readonly dir: string;
  readonly stateDir: string;
  readonly topologyFile: string;
  /** Stops the broker and deletes its data. */
  destroy(): Promise<void>;
}

export interface FaultRigOptions {
  readonly partitions?: number;
  /** The processor's session timeout. @default 30000 (graphfold's default) */
  readonly sessionTimeoutMs?: number;
  /** Extra lines under the processor in the topology file. */
  readonly processorLines?: readonly string[];
  /** Extra top-level lines of the topology file. */
  readonly topologyLines?: readonly string[];
  /** The processor reaches the broker through the broker's {@link KafkaProxy} (the test's own clients do not). */
  readonly proxied?: boolean;
}

export async function startFaultRig(options: FaultRigOptions = {}): Promise<FaultRig> {
  const broker = await startRestartableBroker({ proxied: options.proxied === true });
  try {
    const kafka = brokerKafka(broker);
    const topics = await createProcessorTopics(kafka, options.partitions ?? 2);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-faults-'));
    const application = uniqueName('faults');
    const stateDir = join(dir, 'state');
    const topologyFile = join(dir, 'topology.yaml');
    const yaml = [
      `application: ${application}`,
      'kafka:',
      `  brokers: [${broker.proxy === undefined ? broker.bootstrap : broker.proxy.bootstrap}]`,
      '  connectionTimeoutMs: 3000',
      'registry:',
      `  url: ${testCluster().registryUrl}`,
      'store:',
      `  dir: ${stateDir}`,
      '  cachedAtoms: 10000',
      'processors:',
      '  - name: graphs',
      `    inputs: [${topics.input}]`,
      `    diffs: ${topics.diffs}`,
      `    rejections: ${topics.rejections}`,
      `    partitions: ${topics.partitions}`,
      '    replicationFactor: 1',
      `    concurrency: ${topics.partitions}`,
      `    sessionTimeoutMs: ${options.sessionTimeoutMs ?? 30_000}`,
      ...(options.processorLines ?? []).map((line) => `    ${line}`),
      ...(options.topologyLines ?? []),
    ].join('\n');
    await writeFile(topologyFile, `${yaml}\n`);
    return { broker, kafka, topics, application, group: `${application}-graphs`, dir, stateDir, topologyFile, destroy: () => broker.destroy() };
  } catch (error) {
    await broker.destroy();
    throw error;
  }
}

/** A quiet kafkajs client for a restartable broker, retrying through restarts. */
export function brokerKafka(broker: RestartableBroker): Kafka {
  return new Kafka({ clientId: uniqueName('faults'), brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 2_000, retry: { retries: 30, initialRetryTime: 200, maxRetryTime: 2_000 } });
}

/**
 * Produces workload transactions in batches while it runs, through broker outages: a batch that
 * fails is sent again until it is acknowledged (so a batch may land twice, right after itself:
 * the processor skips a txId it applied, and order per graph is kept).
 */
export class SteadyProducer {
  readonly sent: GraphTransaction[] = [];
  private running = true;
  private readonly done: Promise<void>;

  constructor(rig: FaultRig, options: { readonly seed: number; readonly batch?: number; readonly intervalMs?: number; readonly graphs?: number }) {
    const stream = workload({ seed: options.seed, graphs: options.graphs ?? 6, graphPrefix: `s${options.seed}-` });
    this.done = (async () => {
      const schemaId = await transactionSchemaId(rig.topics.input);
      const producer = brokerKafka(rig.broker).producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1_000 } });
      while (this.running) {
        const txs = Array.from({ length: options.batch ?? 5 }, () => stream.next().value as GraphTransaction);
        for (;;) {
          try {
            await producer.connect();
            await producer.send({ topic: rig.topics.input, messages: txs.map((tx) => transactionMessage(tx, schemaId)) });
            break;
          } catch {
            await producer.disconnect().catch(() => undefined);
            await sleep(250);
          }
        }
        this.sent.push(...txs);
        await sleep(options.intervalMs ?? 100);
      }
      await producer.disconnect().catch(() => undefined);
    })();
  }

  async stop(): Promise<readonly GraphTransaction[]> {
    this.running = false;
    await this.done;
    return this.sent;
  }
}

/** The sum over partitions of the group's committed input offsets (0 where none); undefined while the broker does not answer. */
export async function committedTotal(admin: Admin, group: string, topic: string): Promise<number | undefined> {
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } catch {
    return undefined;
  }
}

/**
 * Waits until the group commits past what it had committed when the broker answered again, and
 * returns the seconds that took (the time to resume processing). `fault` does the damage and
 * resolves when the broker answers again.
 */
export async function secondsToResume(rig: FaultRig, fault: () => Promise<void>, timeoutMs = 240_000): Promise<number> {
  await fault();
  const back = Date.now();
  const admin = brokerKafka(rig.broker).admin();
  try {
    const baseline = await waitFor('the committed offsets after the fault', async () => {
      await admin.connect();
      return committedTotal(admin, rig.group, rig.topics.input);
    }, { timeoutMs: 60_000, intervalMs: 100 });
    await waitFor('processing to resume', async () => {
      const now = await committedTotal(admin, rig.group, rig.topics.input);
      return now !== undefined && now > baseline ? true : undefined;
    }, { timeoutMs, intervalMs: 100 });
    return (Date.now() - back) / 1000;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** Waits until the group has committed every input partition up to its end. */
export async function waitForGroupCaughtUp(rig: FaultRig, timeoutMs = 180_000): Promise<void> {
  const admin = brokerKafka(rig.broker).admin();
  await admin.connect();
  try {
    await waitFor(`group ${rig.group} to catch up`, async () => {
      const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(rig.topics.input), admin.fetchOffsets({ groupId: rig.group, topics: [rig.topics.input] })]);
      const behind = ends.filter((end) => Math.max(Number(committed?.partitions.find((p) => p.partition === end.partition)?.offset ?? -1), Number(end.low)) < Number(end.offset));
      return behind.length === 0 ? true : undefined;
    }, { timeoutMs, intervalMs: 250 });
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Checks the changelog against an independent fold of `sent`, in order: every valid transaction
 * exactly once, slices 1..n per graph with no gap, the same changes. Returns how many diffs.
 */
export async function expectChangelogMatches(rig: FaultRig, sent: readonly GraphTransaction[]): Promise<number> {
  const expected = new Map<string, GraphDiff[]>();
  const reference = await openTempStore();
  for (const [offset, tx] of sent.entries()) {
    const result = await foldInto(reference.store, tx, { source: { topic: rig.topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
    if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
  }
  await reference.close();
  const diffs = (await readAll(rig.kafka, rig.topics.diffs)).map(decodeDiff);
  const graphs = byGraph(diffs);
  expect([...graphs.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [graph, list] of graphs) {
    const want = expected.get(graph) ?? [];
    expect(list.map((d) => d.slice)).toEqual(want.map((d) => d.slice));
    expect(canonical(list.map((d) => [d.txId, d.changes]))).toBe(canonical(want.map((d) => [d.txId, d.changes])));
  }
  return diffs.length;
}
