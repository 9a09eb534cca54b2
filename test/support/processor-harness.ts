import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import { avroTypes } from '../../processors/codec/avro';
import type { AvroGraphDiff, AvroRejection } from '../../processors/codec/avro-wire.generated';
import { diffFromAvro } from '../../processors/codec/diff';
import { frame, unframe } from '../../processors/codec/framing';
import { transactionToAvro } from '../../processors/codec/transaction';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import type { GraphSchema } from '../../processors/engine/schema';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { Secret } from '../../processors/runtime/secret';
import type { ProcessorSpec, Topology } from '../../processors/runtime/topology';
import { createTopic, testCluster, uniqueName, waitForMessages, type ReceivedMessage } from './kafka';
import { openTempStore } from './temp-store';
import { foldInto } from './fold-loop';

/**
 * Helpers for tests of the processor against the real broker: fresh topics and a topology over
 * them, transactions produced as the processor expects them, diffs and rejections read back.
 */
export interface ProcessorTopics {
  readonly input: string;
  readonly diffs: string;
  readonly rejections: string;
  readonly partitions: number;
}

/** Fresh input, changelog (all history kept) and rejections topics with `partitions` each. */
export async function createProcessorTopics(kafka: Kafka, partitions: number): Promise<ProcessorTopics> {
  const [input, diffs, rejections] = await Promise.all([
    createTopic(kafka, { prefix: 'instructions', partitions }),
    createTopic(kafka, { prefix: 'diffs', partitions, config: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' } }),
    createTopic(kafka, { prefix: 'rejections', partitions }),
  ]);
  return { input, diffs, rejections, partitions };
}

export interface TestTopologyOptions {
  readonly application?: string;
  readonly stateDir?: string;
  readonly schema?: GraphSchema;
  readonly maxInstructions?: number;
  readonly maxRecordBytes?: number;
  readonly concurrency?: number;
  readonly taskTimeoutMs?: number;
  /** Serve the query API (on a free loopback port unless `port` says otherwise). */
  readonly query?: { readonly port?: number; readonly token?: string };
}

/** A compiled topology with one processor over `topics`, on the test cluster. */
export async function testTopology(topics: ProcessorTopics, options: TestTopologyOptions = {}): Promise<Topology> {
  const cluster = testCluster();
  const processor: ProcessorSpec = {
    name: 'graphs',
    inputs: [topics.input],
    diffs: topics.diffs,
    rejections: topics.rejections,
    partitions: topics.partitions,
    replicationFactor: 1,
    maxInstructions: options.maxInstructions ?? 10_000,
    maxRecordBytes: options.maxRecordBytes ?? 1 << 20,
    concurrency: options.concurrency ?? 4,
    sessionTimeoutMs: 10_000,
    standbys: 0,
    taskTimeoutMs: options.taskTimeoutMs ?? 300_000,
    partitioner: 'murmur2',
    carryHeaders: ['traceparent', 'tracestate'],
    ...(options.schema === undefined ? {} : { schema: options.schema }),
  };
  return Object.freeze({
    application: options.application ?? uniqueName('app'),
    kafka: { brokers: [...cluster.brokers], clientId: 'graphfold-test', ssl: false as const, connectionTimeoutMs: 5_000, requestTimeoutMs: 30_000 },
    registry: { url: cluster.registryUrl },
    store: { dir: options.stateDir ?? (await mkdtemp(join(tmpdir(), 'graphfold-state-'))), cachedAtoms: 10_000, cacheBytes: 8 << 20, writeBufferBytes: 4 << 20 },
    processors: [processor],
    followers: [],
    ...(options.query === undefined
      ? {}
      : { query: { host: '127.0.0.1', port: options.query.port ?? 0, maxHops: 4, maxLimit: 10_000, maxStreams: 20, maxWaitMs: 30_000, requestTimeoutMs: 40_000, ...(options.query.token === undefined ? {} : { token: new Secret(options.query.token) }) } }),
    origin: 'test',
  });
}

/** The id of the GraphTransaction schema registered for `topic`. */
export async function transactionSchemaId(topic: string): Promise<number> {
  return new SchemaCatalog({ url: testCluster().registryUrl }).register(topic, avroTypes().transaction);
}

/** A transaction as the processor expects it: Confluent-framed Avro, keyed by graph id. */
export function transactionMessage(tx: GraphTransaction, schemaId: number): Message {
  return { key: tx.graph, value: frame(schemaId, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
}

/** Waits for exactly `count` diffs on `topic` (read_committed) and decodes them. */
export async function readDiffs(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000): Promise<(GraphDiff & { readonly partition: number; readonly offset: number })[]> {
  const messages = await waitForMessages(kafka, topic, count, { timeoutMs });
  return messages.map((m) => ({ ...decodeDiff(m), partition: m.partition, offset: Number(m.offset) }));
}

export function decodeDiff(message: ReceivedMessage): GraphDiff {
  return diffFromAvro(avroTypes().diff.fromBuffer(unframe(message.value as Buffer).body) as AvroGraphDiff);
}

/** Waits for exactly `count` rejections on `topic` (read_committed) and decodes them, with their headers. */
export async function readRejections(kafka: Kafka, topic: string, count: number, timeoutMs = 60_000): Promise<(AvroRejection & { readonly headers: Record<string, string> })[]> {
  const messages = await waitForMessages(kafka, topic, count, { timeoutMs });
  return messages.map((m) => ({
    ...(avroTypes().rejection.fromBuffer(unframe(m.value as Buffer).body) as AvroRejection),
    headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, String(v)])),
  }));
}

/** Diffs grouped by graph, in the order read. */
export function byGraph<T extends { readonly graph: string }>(diffs: readonly T[]): Map<string, T[]> {
  const graphs = new Map<string, T[]>();
  for (const diff of diffs) {
    const list = graphs.get(diff.graph);
    if (list === undefined) graphs.set(diff.graph, [diff]);
    else list.push(diff);
  }
  return graphs;
}

/** How many diffs folding `txs` in order makes: what the processor must put on the changelog. */
export async function expectedDiffCount(txs: readonly GraphTransaction[]): Promise<number> {
  const reference = await openTempStore();
  let applied = 0;
  for (const [offset, tx] of txs.entries()) {
    const result = await foldInto(reference.store, tx, { source: { topic: 'reference', partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
    if (result.outcome === 'applied') applied += 1;
  }
  await reference.close();
  return applied;
}
