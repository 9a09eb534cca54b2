import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Kafka } from 'kafkajs';
import { applyErrors, applyTopology } from '../../processors/admin/apply';
import { avroTypes } from '../../processors/codec/avro';
import type { AvroRejection } from '../../processors/codec/avro-wire.generated';
import { unframe } from '../../processors/codec/framing';
import { partitionOf } from '../../processors/codec/partitioner';
import type { Change, GraphDiff } from '../../processors/engine/model';
import { deriveUid } from '../../processors/engine/uid';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology, type RunningTopology } from '../../processors/runtime/host';
import type { Topology } from '../../processors/runtime/topology';
import { testCluster, testKafka, uniqueName, type ReceivedMessage } from '../support/kafka';
import { createProcessorTopics, decodeDiff, testTopology, type ProcessorTopics } from '../support/processor-harness';
import { interopPython, kcatVersion, pythonPackageVersion, readmeRecipe, runProcess, type ProcessRun } from './foreign-clients';

/**
 * graphfold with clients nobody here wrote, against the real broker and registry: Debian's kcat
 * (librdkafka, JSON with keys and headers) and confluent-kafka-python from PyPI (fastavro, its
 * AvroSerializer with the registered schema, a transactional producer, its AvroDeserializer on the
 * diffs). The README's "Producing from other languages" recipes are run as written there.
 */

const clients = join(__dirname, 'clients');
const repo = resolve(__dirname, '../..');

interface Decoded {
  readonly diffs: readonly (GraphDiff & { readonly headers: ReceivedMessage['headers']; readonly partition: number })[];
  readonly rejections: readonly (AvroRejection & { readonly headers: ReceivedMessage['headers'] })[];
}

/**
 * Reads the diffs and rejections topics from the start (read_committed, a fresh group) until
 * `done` holds for what has arrived; fails after `timeoutMs` with what did arrive.
 */
async function readUntil(kafka: Kafka, topics: ProcessorTopics, done: (decoded: Decoded) => boolean, timeoutMs = 90_000): Promise<Decoded> {
  const consumer = kafka.consumer({ groupId: uniqueName('interop-read') });
  const diffs: Decoded['diffs'][number][] = [];
  const rejections: Decoded['rejections'][number][] = [];
  const decoded: Decoded = { diffs, rejections };
  await consumer.connect();
  try {
    let finished: () => void = () => undefined;
    const reached = new Promise<void>((resolvePromise) => (finished = resolvePromise));
    await consumer.subscribe({ topics: [topics.diffs, topics.rejections], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, partition, message }) => {
        const received: ReceivedMessage = { topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} };
        if (topic === topics.diffs) diffs.push({ ...decodeDiff(received), headers: received.headers, partition });
        else rejections.push({ ...(avroTypes().rejection.fromBuffer(unframe(message.value as Buffer).body) as AvroRejection), headers: received.headers });
        if (done(decoded)) finished();
      },
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolvePromise) => (timer = setTimeout(() => resolvePromise('timeout'), timeoutMs)));
    const outcome = await Promise.race([reached, timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      throw new Error(`waited ${timeoutMs} ms; diffs: ${diffs.map((d) => `${d.graph}/${d.slice}/${d.txId}`).join(', ') || 'none'}; rejections: ${rejections.map((r) => `${r.code}:${r.txId ?? '?'}`).join(', ') || 'none'}`);
    }
    return decoded;
  } finally {
    await consumer.disconnect();
  }
}

function expectSuccess(run: ProcessRun): void {
  if (run.code !== 0) throw new Error(`exit code ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
}

describe('foreign clients (kcat, confluent-kafka-python)', () => {
  jest.setTimeout(240_000);
  const kafka = testKafka();
  let python: string;
  let topics: ProcessorTopics;
  let topology: Topology;
  let running: RunningTopology;
  let env: Record<string, string>;
  const work = mkdtempSync(join(tmpdir(), 'graphfold-interop-'));

  const diffsWhere = (done: (d: Decoded) => boolean): Promise<Decoded> => readUntil(kafka, topics, done);

  beforeAll(async () => {
    python = await interopPython();
    const versions = {
      kcat: await kcatVersion(),
      'confluent-kafka': await pythonPackageVersion(python, 'confluent-kafka'),
      librdkafka: (await runProcess(python, ['-c', 'import confluent_kafka; print(confluent_kafka.libversion()[0])'])).stdout.trim(),
      fastavro: await pythonPackageVersion(python, 'fastavro'),
    };
    process.stderr.write(`interop clients: ${Object.entries(versions).map(([k, v]) => `${k} ${v}`).join('; ')}\n`);
    topics = await createProcessorTopics(kafka, 3);
    topology = await testTopology(topics);
    const applied = await applyTopology(topology);
    expect(applyErrors(applied)).toBe(0);
    running = await runTopology(topology, new Instrumentation());
    const cluster = testCluster();
    env = { KAFKA_BROKERS: cluster.brokers.join(','), SCHEMA_REGISTRY_URL: cluster.registryUrl, TOPIC: topics.input, DIFFS_TOPIC: topics.diffs, PYTHONPATH: clients };
  }, 600_000); // the first run installs the Python clients from PyPI

  afterAll(async () => {
    await running?.stop();
    await running?.done;
  });

  test('fastavro loads each schema of schemas/bundled alone', async () => {
    const files = readdirSync(join(repo, 'schemas/bundled')).map((f) => join(repo, 'schemas/bundled', f));
    const run = await runProcess(python, ['-c', 'import sys\nfrom fastavro.schema import load_schema\nfor path in sys.argv[1:]: print(load_schema(path)["name"])', ...files]);
    expectSuccess(run);
    expect(run.stdout.trim().split('\n').sort()).toEqual(['graphfold.GraphDiff', 'graphfold.GraphTransaction', 'graphfold.Rejection']);
  });

  test('kcat sends JSON with keys and headers (the README recipe): it folds on the key\'s partition, its trace header carried onto the diffs', async () => {
    const graph = 'acme'; // murmur2 puts it on partition 0 of 3, CRC32 on 2: the recipe's partitioner setting matters
    expect([partitionOf(graph, 3), partitionOf(graph, 3, 'crc32')]).toEqual([0, 2]);
    const lines = [
      { graph, txId: 'kcat-1', instructions: [{ op: 'CreateEntity', ref: 'wile', type: 'Customer' }, { op: 'SetField', subject: { ref: 'wile' }, relation: 'Name', value: { type: 'String', value: 'Wile E. Coyote — 🐺' } }] },
      { graph, txId: 'kcat-2', instructions: [{ op: 'CreateAttribute', ref: 'orders', valueType: 'Int', value: { type: 'Int', value: '9223372036854775807' } }] },
    ].map((tx) => `${graph}\t${JSON.stringify(tx)}`);
    writeFileSync(join(work, 'transactions.tsv'), `${lines.join('\n')}\n`);
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    expectSuccess(await runProcess('bash', ['-c', readmeRecipe('kcat-json')], { cwd: work, env: { ...env, TRACEPARENT: traceparent } }));

    const { diffs } = await diffsWhere((d) => d.diffs.filter((x) => x.graph === graph).length >= 2);
    const acme = diffs.filter((d) => d.graph === graph);
    expect(acme.map((d) => [d.txId, d.slice, d.partition])).toEqual([
      ['kcat-1', 1, 0],
      ['kcat-2', 2, 0],
    ]);
    expect(acme.map((d) => String(d.headers['traceparent']))).toEqual([traceparent, traceparent]);
    expect(acme[0]?.changes).toContainEqual({ op: 'Assigned', uid: deriveUid(graph, 'kcat-1', { index: 1, part: 'attribute' }), value: { type: 'String', value: 'Wile E. Coyote — 🐺' } });
    expect(acme[1]?.changes).toContainEqual({ op: 'Assigned', uid: deriveUid(graph, 'kcat-2', { ref: 'orders' }), value: { type: 'Int', value: 2n ** 63n - 1n } });
  });

  test('kcat with librdkafka\'s default partitioner (CRC32) is refused WRONG_PARTITION, and nothing of it is applied', async () => {
    const graph = 'tyrell';
    const expected = partitionOf(graph, 3);
    const crc = partitionOf(graph, 3, 'crc32');
    expect(crc).not.toBe(expected);
    const tx = { graph, txId: 'kcat-crc32', instructions: [{ op: 'CreateEntity', ref: 'rachael', type: 'Replicant' }] };
    expectSuccess(await runProcess('kcat', ['-P', '-b', env['KAFKA_BROKERS'] as string, '-t', topics.input, '-K', '\t', '-H', 'content-type=application/json'], { input: `${graph}\t${JSON.stringify(tx)}\n` }));
    const { diffs, rejections } = await diffsWhere((d) => d.rejections.some((r) => r.txId === 'kcat-crc32'));
    const rejection = rejections.find((r) => r.txId === 'kcat-crc32');
    expect(rejection?.code).toBe('WRONG_PARTITION');
    expect(rejection?.source.partition).toBe(crc);
    expect(rejection?.message).toContain(`belongs on partition ${expected} of ${topics.input}`);
    expect(rejection?.message).toContain('partitioner=murmur2_random');
    expect(String(rejection?.headers['graphfold-rejection-code'])).toBe('WRONG_PARTITION');
    expect(diffs.filter((d) => d.graph === graph)).toEqual([]);
  });

  test('confluent-kafka-python sends Avro with its AvroSerializer and the registered schema, transactionally (the README recipe): every value type folds exactly', async () => {
    const graph = 'umbrella';
    const run = await runProcess(python, ['-c', readmeRecipe('python-avro-producer')], { cwd: work, env: { ...env, GRAPH: graph } });
    expectSuccess(run);
    expect(run.stdout).toBe(`sent 2 transactions to ${topics.input}\n`);
    const { diffs } = await diffsWhere((d) => d.diffs.filter((x) => x.graph === graph).length >= 2);
    const [onboard, offboard] = diffs.filter((d) => d.graph === graph);
    expect(onboard?.txId).toBe('onboard-ada');
    const assigned = (onboard?.changes ?? []).filter((c): c is Extract<Change, { op: 'Assigned' }> => c.op === 'Assigned').map((c) => c.value);
    expect(assigned).toEqual([
      { type: 'String', value: 'Ada Lovelace, née Byron ✓' },
      { type: 'Time', value: -4728211200000000n },
      { type: 'Int', value: 2n ** 63n - 1n },
      { type: 'Float', value: 1.65 },
      { type: 'Bool', value: true },
      { type: 'Bytes', value: Buffer.from([0x00, 0xff, 0x50, 0x4e, 0x47]) },
      { type: 'Enum', enum: 'Seniority', value: 'principal' },
      { type: 'Quantity', unit: 'EUR', value: 7250.5 },
    ]);
    const ada = deriveUid(graph, 'onboard-ada', { ref: 'ada' });
    expect(offboard?.txId).toBe('offboard-ada');
    expect(offboard?.changes[0]).toEqual({ op: 'Terminated', uid: ada, cascade: false, kind: 'entity', type: 'Person' });
    expect(offboard?.changes.slice(1).every((c) => c.op === 'Terminated' && c.cascade && c.kind === 'relation')).toBe(true);
    expect(offboard?.changes).toHaveLength(9);
  });

  test('confluent-kafka-python reads the diffs with its AvroDeserializer (the README recipe): every change says its kind and type', async () => {
    const { diffs } = await diffsWhere((d) => d.diffs.some((x) => x.txId === 'offboard-ada'));
    const run = await runProcess(python, ['-c', readmeRecipe('python-diffs-consumer')], { env: { ...env, GROUP: uniqueName('dashboard'), MAX_DIFFS: String(diffs.length) } });
    expectSuccess(run);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(diffs.length);
    const offboard = lines.map((line) => JSON.parse(line) as { txId: string; graph: string; slice: number; changes: [string, Record<string, unknown>][] }).find((d) => d.txId === 'offboard-ada');
    expect(offboard?.graph).toBe('umbrella');
    expect(offboard?.changes[0]).toEqual(['graphfold.Terminated', { uid: deriveUid('umbrella', 'onboard-ada', { ref: 'ada' }), cascade: false, kind: 'entity', type: 'Person' }]);
    expect(offboard?.changes.slice(1).every(([name, change]) => name === 'graphfold.Terminated' && change['kind'] === 'relation' && typeof change['type'] === 'string')).toBe(true);
    // 64-bit integers arrive whole in Python (JSON numbers print them exactly).
    expect(run.stdout).toContain('9223372036854775807');
  });

  test('an aborted confluent-kafka-python transaction leaves no trace; the committed one after it folds', async () => {
    const graph = 'hooli';
    expectSuccess(await runProcess(python, [join(clients, 'aborted.py')], { env: { ...env, GRAPH: graph, TRANSACTIONAL_ID: uniqueName('interop-aborted') } }));
    const { diffs, rejections } = await diffsWhere((d) => d.diffs.some((x) => x.txId === 'after-abort'));
    expect(diffs.filter((d) => d.graph === graph).map((d) => [d.txId, d.slice])).toEqual([['after-abort', 1]]);
    expect(rejections.filter((r) => r.graph === graph)).toEqual([]);
  });

  test('confluent-kafka-python with its default partitioner is refused WRONG_PARTITION', async () => {
    const graph = 'gringotts';
    expect(partitionOf(graph, 3, 'crc32')).not.toBe(partitionOf(graph, 3));
    const run = await runProcess(python, [join(clients, 'default_partitioner.py')], { env: { ...env, GRAPH: graph, TXID: 'python-crc32' } });
    expectSuccess(run);
    const { partition } = JSON.parse(run.stdout) as { partition: number };
    expect(partition).toBe(partitionOf(graph, 3, 'crc32'));
    const { rejections, diffs } = await diffsWhere((d) => d.rejections.some((r) => r.txId === 'python-crc32'));
    expect(rejections.find((r) => r.txId === 'python-crc32')?.code).toBe('WRONG_PARTITION');
    expect(diffs.filter((d) => d.graph === graph)).toEqual([]);
  });

  test('evolution through confluent-kafka-python: the registry refuses a new instruction and a version without txId, accepts a field of the producer\'s own, whose records fold', async () => {
    const graph = 'soylent';
    const run = await runProcess(python, [join(clients, 'evolution.py')], { env: { ...env, GRAPH: graph } });
    expectSuccess(run);
    const cases = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { case: string; accepted?: boolean; status?: number });
    expect(cases.map((c) => [c.case, c.accepted, c.status])).toEqual([
      ['new instruction', false, 409],
      ['without txId', false, 409],
      ["a field of the producer's own", true, undefined],
      ['sent with the evolved schema', undefined, undefined],
    ]);
    const { diffs } = await diffsWhere((d) => d.diffs.some((x) => x.txId === 'evolved'));
    expect(diffs.find((d) => d.txId === 'evolved')?.graph).toBe(graph);
  });
});
