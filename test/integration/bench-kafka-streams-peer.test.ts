import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kafka, Message } from 'kafkajs';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { deriveUid } from '../../processors/engine/uid';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { buildKafkaStreamsPeer, startKafkaStreamsPeer, type KafkaStreamsPeer } from '../bench/peers/kafka-streams';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { testCluster, testKafka, transactionalProducer, uniqueName, waitForMessages } from '../support/kafka';
import { createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId, type ProcessorTopics } from '../support/processor-harness';
import { openTempStore, type TempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

/**
 * The Kafka Streams contender of the benchmark must be a fair one: it has to do graphfold's work.
 * Fed the same records, it must write byte for byte the diffs graphfold's engine makes (same
 * slices, changes, times and sources), refuse what graphfold refuses with the same code, and
 * rebuild its stores from its changelogs after losing its state directory.
 */

/**
 * Record timestamps (and so slice times) count from now: the broker's retention (7 days) deletes
 * input records stamped older, at its next check, even in the active segment.
 */
const timestampBase = Date.now();

/** Hand-written transactions for what the workload never does: duplicates, no-ops, refusals, Assign, Merge, odd values. */
function extras(graph: string): GraphTransaction[] {
  const person = deriveUid(graph, 'x1', { ref: 'a' });
  const name = deriveUid(graph, 'x1', { ref: 'n' });
  const company = 'c0'.repeat(16);
  const tx = (txId: string, instructions: GraphTransaction['instructions']): GraphTransaction => ({ graph, txId, instructions });
  const x1 = tx('x1', [
    { op: 'CreateEntity', ref: 'a', type: 'Person' },
    { op: 'CreateAttribute', ref: 'n', valueType: 'String', value: { type: 'String', value: 'Ada' } },
    { op: 'CreateRelation', type: 'name', source: { ref: 'a' }, target: { ref: 'n' } },
  ]);
  const x5 = tx('x5', [{ op: 'Assign', target: { uid: name }, value: { type: 'String', value: 'Ada Lovelace' } }]);
  return [
    x1,
    tx('x2', [
      { op: 'Assign', target: { uid: name }, value: { type: 'String', value: 'Ada Lovelace' } },
      { op: 'SetField', subject: { uid: person }, relation: 'born', value: { type: 'Int', value: 1815n } },
      { op: 'SetField', subject: { uid: person }, relation: 'height', value: { type: 'Quantity', unit: 'm', value: 1.65 } },
      { op: 'SetField', subject: { uid: person }, relation: 'photo', value: { type: 'Bytes', value: Buffer.from([0, 1, 2, 255]) } },
      { op: 'SetField', subject: { uid: person }, relation: 'ratio', value: { type: 'Float', value: -0 } },
    ]),
    x1,
    tx('x3', [{ op: 'Assign', target: { uid: name }, value: { type: 'Int', value: 5n } }]),
    tx('x4', [
      { op: 'Terminate', target: { uid: person } },
      { op: 'SetField', subject: { uid: person }, relation: 'born', value: { type: 'Int', value: 1816n } },
    ]),
    x5,
    x5,
    tx('x5b', [{ op: 'SetField', subject: { uid: person }, relation: 'ratio', value: { type: 'Float', value: 0 } }]),
    tx('x6', [
      { op: 'Merge', uid: company, kind: 'entity', type: 'Company' },
      { op: 'Merge', uid: person, kind: 'entity', type: 'Person' },
      { op: 'CreateRelation', type: 'WorksAt', source: { uid: person }, target: { uid: company } },
    ]),
    tx('x7', [{ op: 'SetField', subject: { uid: 'f'.repeat(32) }, relation: 'name', value: { type: 'String', value: 'nobody' } }]),
    tx('x8', [{ op: 'Terminate', target: { uid: person } }]),
    tx('x9', [{ op: 'CreateEntity', uid: person, type: 'Person' }]),
    tx('x10', [{ op: 'Terminate', target: { uid: person } }]),
    tx('x11', [
      { op: 'CreateEntity', ref: 'b', type: 'Person' },
      { op: 'CreateRelation', type: 'Knows', source: { ref: 'b' }, target: { uid: company } },
      { op: 'Assign', target: { uid: company }, value: { type: 'Int', value: 1n } },
    ]),
    tx('x12', [{ op: 'CreateEntity', type: 'Robot' }]),
  ];
}

/** Records as the peer and graphfold expect them, each with a known timestamp and an index header. */
function messages(txs: readonly GraphTransaction[], schemaId: number, first: number): Message[] {
  return txs.map((tx, i) => ({ ...transactionMessage(tx, schemaId), timestamp: String(timestampBase + first + i), headers: { index: String(first + i) } }));
}

async function produce(kafka: Kafka, topic: string, batch: Message[]): Promise<void> {
  const producer = await transactionalProducer(kafka);
  try {
    const transaction = await producer.transaction();
    await transaction.send({ topic, messages: batch });
    await transaction.commit();
  } finally {
    await producer.disconnect();
  }
}

interface Expected {
  /** Diffs per graph, in slice order. */
  readonly diffs: Map<string, GraphDiff[]>;
  /** Refusal code and message per txId. */
  readonly refused: Map<string, string>;
}

/**
 * What graphfold's engine makes of the records produced so far, folded into `reference` (which
 * keeps the state for later records): each record's source is where it landed in the input topic,
 * its time its timestamp.
 */
async function foldReference(reference: TempStore, kafka: Kafka, topics: ProcessorTopics, txs: readonly GraphTransaction[], expected: Expected, from: number): Promise<void> {
  const landed = new Map<number, { partition: number; offset: number }>();
  for (const message of await waitForMessages(kafka, topics.input, txs.length)) {
    landed.set(Number(String(message.headers['index'])), { partition: message.partition, offset: Number(message.offset) });
  }
  for (let i = from; i < txs.length; i += 1) {
    const tx = txs[i] as GraphTransaction;
    const at = landed.get(i) as { partition: number; offset: number };
    const result = await foldInto(reference.store, tx, { source: { topic: topics.input, ...at }, recordTime: (timestampBase + i) * 1000, maxInstructions: 10_000 });
    if (result.outcome === 'applied') expected.diffs.set(tx.graph, [...(expected.diffs.get(tx.graph) ?? []), result.diff]);
    if (result.outcome === 'refused') expected.refused.set(tx.txId, `${result.error.code}: ${result.error.message}`);
  }
}

/** Reads exactly the expected number of diffs and checks them against graphfold's, byte for byte. */
async function expectDiffs(kafka: Kafka, topics: ProcessorTopics, expected: Expected, diffSchemaId: number): Promise<void> {
  const count = [...expected.diffs.values()].reduce((n, list) => n + list.length, 0);
  const received = await waitForMessages(kafka, topics.diffs, count, { timeoutMs: 60_000 });
  const actual = new Map<string, { diff: GraphDiff; value: Buffer; partition: number }[]>();
  for (const message of received) {
    const diff = decodeDiff(message);
    expect(message.key?.toString('utf8')).toBe(diff.graph);
    actual.set(diff.graph, [...(actual.get(diff.graph) ?? []), { diff, value: message.value as Buffer, partition: message.partition }]);
  }
  expect([...actual.keys()].sort()).toEqual([...expected.diffs.keys()].sort());
  for (const [graph, want] of expected.diffs) {
    const got = actual.get(graph) ?? [];
    expect(got.map((d) => d.diff.slice)).toEqual(want.map((_, i) => i + 1));
    expect(canonical(got.map((d) => d.diff))).toBe(canonical(want));
    expect(got.map((d) => d.value.toString('hex'))).toEqual(want.map((d) => frame(diffSchemaId, avroTypes().diff.toBuffer(diffToAvro(d))).toString('hex')));
    expect(got.every((d) => d.partition === d.diff.source.partition)).toBe(true);
  }
}

describe('Kafka Streams peer of the benchmark, on a real broker', () => {
  let jar: string;

  beforeAll(async () => {
    // A cold ~/.m2 downloads Kafka Streams, Avro, RocksDB and the Maven plugins first.
    jar = await buildKafkaStreamsPeer({ timeoutMs: 600_000 });
  }, 660_000);

  test('folds the workload into the diffs graphfold makes, refuses what graphfold refuses, and restores its stores from the changelogs', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 3);
    const schemaId = await transactionSchemaId(topics.input);
    const diffSchemaId = await new SchemaCatalog({ url: testCluster().registryUrl }).register(topics.diffs, avroTypes().diff);
    const stream = workload({ seed: 11, graphs: 6 });
    const next = (n: number): GraphTransaction[] => Array.from({ length: n }, () => stream.next().value as GraphTransaction);
    const txs = [...next(300), ...extras('extras')];

    const stateDir = await mkdtemp(join(tmpdir(), 'graphfold-kafka-streams-peer-'));
    const applicationId = uniqueName('kafka-streams-peer');
    const start = (cacheBytes: number): KafkaStreamsPeer =>
      startKafkaStreamsPeer({ jar, brokers: testCluster().brokers, applicationId, inputTopic: topics.input, outputTopic: topics.diffs, stateDir, diffSchemaId, commitIntervalMs: 100, cacheBytes, closeTimeoutMs: 20_000 });
    const reference = await openTempStore();
    const expected: Expected = { diffs: new Map(), refused: new Map() };
    let peer: KafkaStreamsPeer | undefined;
    try {
      await produce(kafka, topics.input, messages(txs, schemaId, 0));
      await foldReference(reference, kafka, topics, txs, expected, 0);
      expect(expected.refused.size).toBe(5);

      peer = start(0);
      await peer.waitFor('running');
      await expectDiffs(kafka, topics, expected, diffSchemaId);
      await peer.waitFor('refused', { where: (e) => e.txId === 'x11' });
      const refused = peer.events.flatMap((e) => (e.event === 'refused' ? [[e.txId, `${e.code}: ${e.message}`] as const] : []));
      expect(new Map(refused)).toEqual(expected.refused);
      const exit = await peer.stop();
      expect(peer.events.at(-1)).toMatchObject({ event: 'stopped', clean: true });
      expect(exit).toEqual({ code: 143, signal: null });

      // Lose every store; the peer must rebuild them from its changelog topics, then go on folding,
      // this time with its stores behind Kafka Streams' record cache.
      await rm(stateDir, { recursive: true, force: true });
      peer = start(8 << 20);
      await peer.waitFor('running', { timeoutMs: 90_000 });
      const restored = peer.events.flatMap((e) => (e.event === 'restore.end' ? [e] : []));
      expect(new Set(restored.map((e) => e.store))).toEqual(new Set(['atoms', 'edges', 'heads', 'txids']));
      expect(restored.reduce((n, e) => n + e.records, 0)).toBeGreaterThan(0);
      expect(peer.events.some((e) => e.event === 'restore.start' && e.end > e.start)).toBe(true);

      const more = [...next(40), txs[7] as GraphTransaction, txs[120] as GraphTransaction];
      const all = [...txs, ...more];
      await produce(kafka, topics.input, messages(more, schemaId, txs.length));
      await foldReference(reference, kafka, topics, all, expected, txs.length);
      await expectDiffs(kafka, topics, expected, diffSchemaId);
      await peer.stop();
    } finally {
      await peer?.kill();
      await reference.close();
      await rm(stateDir, { recursive: true, force: true });
    }
  }, 240_000);
});
