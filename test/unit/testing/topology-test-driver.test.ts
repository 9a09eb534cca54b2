import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from 'avsc';
import { frame } from '../../../processors/codec/framing';
import type { GraphTransaction } from '../../../processors/engine/model';
import { Instrumentation } from '../../../processors/instrumentation/events';
import { diffMessage } from '../../../processors/task/outputs';
import { InMemorySchemaRegistry, TopologyTestDriver } from '../../../processors/testing';
import { avroTypes } from '../../../processors/codec/avro';
import { transactionToAvro } from '../../../processors/codec/transaction';

const root = join(__dirname, '../../..');

/** One processor over `orders`, 3 partitions, a small graph schema. */
function orders(extra: Record<string, unknown> = {}): Parameters<typeof TopologyTestDriver.fromObject>[0] {
  return {
    processors: [
      {
        name: 'orders',
        inputs: ['orders'],
        partitions: 3,
        maxInstructions: 20,
        maxRecordBytes: 4096,
        schema: { entities: ['Customer', 'Order'], relations: { Placed: { source: ['Customer'], target: ['Order'] }, Name: { source: ['Customer'], target: ['String'], cardinality: 'one' } } },
        ...extra,
      },
    ],
  };
}

const customer = (graph: string, txId: string, name: string): GraphTransaction => ({
  graph,
  txId,
  instructions: [
    { op: 'CreateEntity', ref: 'c', type: 'Customer' },
    { op: 'SetField', subject: { ref: 'c' }, relation: 'Name', value: { type: 'String', value: name } },
  ],
});

describe('TopologyTestDriver', () => {
  test('pipes transactions to their key\'s partition and writes each diff as the processor writes it, byte for byte', async () => {
    const driver = await TopologyTestDriver.fromObject(orders());
    try {
      const outcomes = await driver.pipe('orders', [customer('acme', 't1', 'Ada'), customer('globex', 't2', 'Bob'), customer('acme', 't3', 'Eve')]);
      expect(outcomes.map((o) => [o.outcome, o.partition])).toEqual(
        expect.arrayContaining([
          ['applied', driver.partitionOf('acme')],
          ['applied', driver.partitionOf('globex')],
        ]),
      );
      expect(outcomes).toHaveLength(3);
      const diffs = driver.readDiffs('orders-diffs');
      expect(diffs.map((d) => [d.diff.graph, d.diff.slice, d.diff.txId]).sort()).toEqual([
        ['acme', 1, 't1'],
        ['acme', 2, 't3'],
        ['globex', 1, 't2'],
      ]);
      const diffId = driver.registry.versions('orders-diffs-value')[0] as number;
      for (const record of diffs) {
        expect(record.partition).toBe(driver.partitionOf(record.diff.graph));
        expect(record.diff.source).toEqual({ topic: 'orders', partition: record.partition, offset: expect.any(Number) });
        expect(record.key).toBe(record.diff.graph);
        expect(Buffer.compare(record.value, diffMessage(record.diff, diffId, record.partition).value)).toBe(0);
        expect(record.timestamp).toBe(Math.floor(record.diff.time / 1000));
      }
      expect(driver.readDiffs('orders-diffs')).toEqual([]);
      await driver.pipe('orders', customer('acme', 't4', 'Zed'));
      expect(driver.readDiffs('orders-diffs').map((d) => d.diff.txId)).toEqual(['t4']);
    } finally {
      await driver.close();
    }
  });

  test('refused records become rejections with their code, headers and original bytes; the carried headers go onto diffs and rejections', async () => {
    const driver = await TopologyTestDriver.fromObject(orders({ partitions: 1 }));
    try {
      const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const poison = Buffer.from('{"graph": "acme", "txId": "not json');
      const outcomes = await driver.pipe(
        'orders',
        [
          customer('acme', 't1', 'Ada'),
          { key: 'acme', value: poison, headers: { 'content-type': 'Application/JSON; charset=utf-8' } },
          { graph: 'acme', txId: 'robot', instructions: [{ op: 'CreateEntity', type: 'Robot' }] },
          customer('acme', 't1', 'Ada again'),
        ],
        { headers: { traceparent, 'x-private': 'not carried' } },
      );
      expect(outcomes.map((o) => (o.outcome === 'refused' ? o.error.code : o.outcome))).toEqual(['applied', 'DECODE_ERROR', 'SCHEMA_VIOLATION', 'duplicate']);

      const [diff] = driver.readDiffs('orders-diffs');
      expect(diff?.headers).toEqual({ traceparent });
      const rejections = driver.readRejections('orders-rejections');
      expect(rejections.map((r) => r.rejection.code)).toEqual(['DECODE_ERROR', 'SCHEMA_VIOLATION']);
      expect(Buffer.compare(rejections[0]?.rejection.payload ?? Buffer.alloc(0), poison)).toBe(0);
      expect(rejections[1]?.rejection).toMatchObject({ graph: 'acme', txId: 'robot', instructionIndex: 0, source: { topic: 'orders', partition: 0, offset: 2 } });
      expect(rejections[1]?.headers).toEqual({
        traceparent,
        'graphfold-origin-topic': 'orders',
        'graphfold-origin-partition': '0',
        'graphfold-origin-offset': '2',
        'graphfold-rejection-code': 'SCHEMA_VIOLATION',
      });
    } finally {
      await driver.close();
    }
  });

  test('a record off its key\'s partition is WRONG_PARTITION and changes nothing', async () => {
    const driver = await TopologyTestDriver.fromObject(orders());
    try {
      const home = driver.partitionOf('acme');
      const away = (home + 1) % 3;
      await driver.pipe('orders', [{ ...(await avroRecord(driver, customer('acme', 't1', 'Ada'))), partition: away }]);
      const [rejection] = driver.readRejections('orders-rejections');
      expect(rejection?.rejection.code).toBe('WRONG_PARTITION');
      expect(rejection?.rejection.message).toContain(`belongs on partition ${home} of orders`);
      expect(await driver.store(home).head('acme')).toBe(0);
      expect(await driver.store(away).head('acme')).toBe(0);
    } finally {
      await driver.close();
    }
  });

  test('each partition\'s store answers the query service\'s reads, and its checkpoint is what the runtime would write', async () => {
    const driver = await TopologyTestDriver.fromObject(orders());
    try {
      await driver.pipe('orders', [customer('acme', 't1', 'Ada'), { graph: 'acme', txId: 'bad', instructions: [{ op: 'CreateEntity', type: 'Robot' }] }, customer('acme', 't2', 'Bob')]);
      const reads = driver.reads('acme');
      const at = await reads.at('acme', {});
      expect(at).toEqual({ slice: 2, head: 2 });
      const page = await reads.atoms('acme', at, { type: 'Customer', limit: 10 });
      expect(page.atoms).toHaveLength(2);
      expect((await reads.transaction('acme', 't2')).status).toBe('applied');
      expect(await reads.transaction('acme', 'bad')).toMatchObject({ status: 'rejected', rejection: { code: 'SCHEMA_VIOLATION' } });
      await expect(reads.at('acme', { asOf: 3 })).rejects.toMatchObject({ status: 400, details: { parameter: 'asOf' } });

      const partition = driver.partitionOf('acme');
      // Kafka's offsets: two diffs and the transaction's commit marker on the changelog, one rejection.
      expect(driver.store(partition).checkpoint()).toEqual({ changelog: 3, inputs: { orders: 3 }, rejections: 1 });
    } finally {
      await driver.close();
    }
  });

  test('a processor reading another\'s diffs topic folds them as they come (chained processors)', async () => {
    const driver = await TopologyTestDriver.fromObject({
      processors: [
        { name: 'orders', inputs: ['orders'], partitions: 2 },
        { name: 'mirror', inputs: ['orders-diffs'], partitions: 2 },
      ],
    });
    try {
      const outcomes = await driver.pipe('orders', [customer('acme', 't1', 'Ada'), customer('acme', 't2', 'Bob')]);
      expect(outcomes.map((o) => [o.processor, o.outcome])).toEqual([
        ['orders', 'applied'],
        ['orders', 'applied'],
        ['mirror', 'applied'],
        ['mirror', 'applied'],
      ]);
      const upstream = driver.readDiffs('orders-diffs');
      const mirrored = driver.readDiffs('mirror-diffs');
      expect(mirrored.map((d) => [d.diff.slice, d.diff.txId])).toEqual([
        [1, 'diff:acme:1'],
        [2, 'diff:acme:2'],
      ]);
      expect(mirrored.map((d) => d.diff.changes)).toEqual(upstream.map((d) => d.diff.changes));
      expect(await driver.reads('acme', 'mirror').head('acme')).toBe(2);
    } finally {
      await driver.close();
    }
  });

  test('the in-memory registry: a record framed with an id nobody registered is UNKNOWN_SCHEMA; one with a registered writer schema decodes through it', async () => {
    const registry = new InMemorySchemaRegistry();
    const driver = await TopologyTestDriver.fromObject(orders({ partitions: 1 }), { registry });
    try {
      // A writer that adds a field (with a default) to GraphTransaction: graphfold reads it through a resolver.
      const schema = avroTypes().transaction.schema() as { fields: unknown[] };
      const evolved = Type.forSchema({ ...schema, fields: [...schema.fields, { name: 'origin', type: 'string', default: '' }] } as never, { registry: {} });
      const id = registry.register('orders-value', evolved);
      expect(registry.versions('orders-value')).toEqual([1, id]);
      const value = frame(id, evolved.toBuffer({ ...transactionToAvro(customer('acme', 't1', 'Ada')), origin: 'crm' }));
      const outcomes = await driver.pipe('orders', [
        { key: 'acme', value },
        { key: 'acme', value: frame(4242, Buffer.from([0])) },
      ]);
      expect(outcomes.map((o) => (o.outcome === 'refused' ? o.error.code : o.outcome))).toEqual(['applied', 'UNKNOWN_SCHEMA']);
    } finally {
      await driver.close();
    }
  });

  test('a crash that loses the state directory is restored from the driver\'s changelog: the same slices, the same rejected txIds, nothing applied twice', async () => {
    const driver = await TopologyTestDriver.fromObject(orders({ partitions: 1 }));
    try {
      const txs = Array.from({ length: 30 }, (_, i) => customer(`g${i % 4}`, `t${i}`, `n${i}`));
      await driver.pipe('orders', [...txs.slice(0, 20), { graph: 'g1', txId: 'refused', instructions: [{ op: 'CreateEntity', type: 'Robot' }] }]);
      const before = await history(driver);
      expect(await driver.restart({ partition: 0 })).toEqual({ processor: 'orders', partition: 0, replayed: 0, rejections: 0 });

      const report = await driver.restart({ partition: 0, dropStore: true });
      expect(report).toEqual({ processor: 'orders', partition: 0, replayed: 20, rejections: 1 });
      expect(await history(driver)).toEqual(before);
      // The rejections topic's end, past the commit marker, as the runtime's restore records it.
      expect(driver.store(0).checkpoint()).toEqual({ changelog: 21, inputs: { orders: 21 }, rejections: 2 });

      const outcomes = await driver.pipe('orders', txs.slice(15));
      expect(outcomes.map((o) => o.outcome)).toEqual([...Array.from({ length: 5 }, () => 'duplicate'), ...Array.from({ length: 10 }, () => 'applied')]);
      const slices = driver.readDiffs('orders-diffs').filter((d) => d.diff.graph === 'g0').map((d) => d.diff.slice);
      expect(slices).toEqual(slices.map((_, i) => i + 1));
    } finally {
      await driver.close();
    }
  });

  test('a state directory of its own is kept after close, and refused by a second driver, whose changelog does not hold what its stores claim', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'graphfold-driver-state-'));
    try {
      const first = await TopologyTestDriver.fromObject(orders({ partitions: 1 }), { stateDir });
      await first.pipe('orders', customer('acme', 't1', 'Ada'));
      await first.close();
      expect(existsSync(join(stateDir, 'orders', '0'))).toBe(true);
      await expect(TopologyTestDriver.fromObject(orders({ partitions: 1 }), { stateDir })).rejects.toThrow(/up to offset 2, but the driver's changelog ends at 0/);
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  test('built from a topology file, whose cluster variables need not be set; events go to its instrumentation', async () => {
    const instrumentation = new Instrumentation();
    const rejected: string[] = [];
    instrumentation.on('record.rejected', (event) => rejected.push(event.code));
    const driver = await TopologyTestDriver.fromFile(join(root, 'topology/demo.yaml'), { env: {}, instrumentation });
    try {
      expect(driver.topology.processors.map((p) => p.name)).toEqual(['crm']);
      await driver.pipe('crm-instructions', { graph: 'acme', txId: 't1', instructions: [{ op: 'CreateEntity', type: 'Planet' }] }, { as: 'json' });
      expect(rejected).toEqual(['SCHEMA_VIOLATION']);
      expect(() => driver.readDiffs('crm-rejections')).toThrow(/not the diffs topic/);
      expect(() => driver.store(7)).toThrow(/no partition 7/);
      await expect(driver.pipe('crm-diffs', { key: 'acme', value: 'x' })).rejects.toThrow(/written by processor crm alone/);
    } finally {
      await driver.close();
    }
  });
});

async function avroRecord(driver: TopologyTestDriver, tx: GraphTransaction): Promise<{ key: string; value: Buffer }> {
  const id = driver.registry.versions('orders-value')[0] as number;
  return { key: tx.graph, value: frame(id, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
}

/** Every graph's slices (the diffs as the store holds them) and kept rejections, from partition 0's store. */
async function history(driver: TopologyTestDriver): Promise<unknown> {
  const store = driver.store(0);
  const graphs: Record<string, unknown> = {};
  for await (const graph of store.graphs()) {
    const diffs = [];
    for await (const diff of store.diffs(graph, 1, await store.head(graph))) diffs.push(diff);
    const rejections = [];
    for await (const rejection of store.rejections(graph)) rejections.push(rejection);
    graphs[graph] = { diffs, rejections };
  }
  return graphs;
}

describe('TopologyTestDriver, output limits', () => {
  test('a record is rejected with a prefix of its payload, its size and SHA-256, when the rejections topic is smaller than the record', async () => {
    const driver = await TopologyTestDriver.fromObject(orders({ partitions: 1, maxRecordBytes: 60_000 }), { maxMessageBytes: { rejections: 80 * 1024 } });
    try {
      const huge = Buffer.alloc(50_000, 0x7b);
      await driver.pipe('orders', [{ key: 'acme', value: huge, headers: { 'content-type': 'application/json' } }, customer('acme', 't1', 'Ada')]);
      const [rejection] = driver.readRejections('orders-rejections');
      const payload = rejection?.rejection.payload as Buffer;
      // 80 KiB, less a record's overhead (1 KiB) and the room the rest of a rejection takes (48 KiB).
      expect(payload.length).toBe(31 * 1024);
      expect(Buffer.compare(payload, huge.subarray(0, payload.length))).toBe(0);
      expect(rejection?.headers).toMatchObject({ 'graphfold-payload-truncated': 'true', 'graphfold-payload-bytes': '50000', 'graphfold-payload-sha256': createHash('sha256').update(huge).digest('hex') });
      expect(rejection?.rejection.code).toBe('DECODE_ERROR');
      expect(driver.readDiffs('orders-diffs').map((d) => d.diff.txId)).toEqual(['t1']);
    } finally {
      await driver.close();
    }
  });

  test('a diff over what the changelog accepts is refused TOO_LARGE, the limit being the smaller of maxRecordBytes and the topic\'s', async () => {
    const driver = await TopologyTestDriver.fromObject(orders({ partitions: 1 }), { maxMessageBytes: { diffs: 1024 + 300 } });
    try {
      await driver.pipe('orders', [customer('acme', 't1', 'x'.repeat(400)), customer('acme', 't2', 'Ada')]);
      const [rejection] = driver.readRejections('orders-rejections');
      expect(rejection?.rejection).toMatchObject({ code: 'TOO_LARGE', txId: 't1' });
      expect(rejection?.rejection.message).toMatch(/the limit \(maxRecordBytes\) is 300/);
      expect(driver.readDiffs('orders-diffs').map((d) => d.diff.txId)).toEqual(['t2']);
    } finally {
      await driver.close();
    }
  });
});
