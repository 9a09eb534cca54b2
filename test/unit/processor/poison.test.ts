import { avroTypes } from '../../../processors/codec/avro';
import { frame } from '../../../processors/codec/framing';
import { transactionToAvro } from '../../../processors/codec/transaction';
import type { GraphTransaction } from '../../../processors/engine/model';
import { TopologyTestDriver, type TestRecord } from '../../../processors/testing';

/**
 * Poison input through the processor's task core (the TopologyTestDriver: no broker): every kind
 * of bad record becomes a rejection with its code and its original bytes, and the partition goes
 * on. The real-broker suites keep what needs Kafka (transactions, rebalances, crashes, restore).
 */
async function driverWith(limits: { maxInstructions?: number; maxRecordBytes: number }): Promise<TopologyTestDriver> {
  return TopologyTestDriver.fromObject({ processors: [{ name: 'graphs', inputs: ['instructions'], partitions: 1, ...limits }] });
}

function transactionRecord(driver: TopologyTestDriver, tx: GraphTransaction): TestRecord {
  const id = driver.registry.register('instructions-value', avroTypes().transaction);
  return { key: tx.graph, value: frame(id, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
}

describe('processor, poison input', () => {
  test('every kind of bad record becomes a rejection with its code and original bytes, and the partition keeps flowing', async () => {
    const driver = await driverWith({ maxInstructions: 10, maxRecordBytes: 4_096 });
    try {
      const schemaId = driver.registry.versions('instructions-value')[0] as number;
      const uid = 'a'.repeat(32);
      let n = 0;
      const valid = (): TestRecord => transactionRecord(driver, { graph: 'g', txId: `ok-${n}`, instructions: [{ op: 'CreateEntity', type: 'Person', ref: `p${n++}` }] });
      const poison: { readonly code: string; readonly record: TestRecord }[] = [
        { code: 'DECODE_ERROR', record: { key: 'g', value: Buffer.from('{"graph": "g", "txId": "not json') } },
        { code: 'DECODE_ERROR', record: { key: 'g', value: Buffer.from([0x07, 0, 0, 0, 1, 2, 3]) } },
        { code: 'DECODE_ERROR', record: { key: 'g', value: frame(schemaId, Buffer.from([0xff, 0xff, 0xff])) } },
        { code: 'DECODE_ERROR', record: { key: 'g', value: Buffer.from('{"graph":"g"}'), headers: { 'content-type': 'application/json' } } },
        { code: 'UNKNOWN_SCHEMA', record: { key: 'g', value: frame(2_000_000_000, Buffer.from([0])) } },
        { code: 'INVALID_INSTRUCTION', record: transactionRecord(driver, { graph: 'g', txId: 'bad-uid', instructions: [{ op: 'Assign', target: { uid: 'not-a-uid' }, value: { type: 'Int', value: 1n } }] }) },
        { code: 'INVALID_INSTRUCTION', record: { ...transactionRecord(driver, { graph: 'g', txId: 'no-key', instructions: [{ op: 'CreateEntity', type: 'Person' }] }), key: null } },
        { code: 'CONFLICT', record: transactionRecord(driver, { graph: 'g', txId: 'conflict', instructions: [{ op: 'CreateEntity', uid, type: 'Person' }, { op: 'CreateEntity', uid, type: 'Person' }] }) },
        { code: 'NOT_FOUND', record: transactionRecord(driver, { graph: 'g', txId: 'missing', instructions: [{ op: 'Terminate', target: { uid } }] }) },
        { code: 'TOO_LARGE', record: transactionRecord(driver, { graph: 'g', txId: 'large', instructions: Array.from({ length: 20 }, () => ({ op: 'CreateEntity' as const, type: 'Person' })) }) },
        { code: 'TOO_LARGE', record: { key: 'g', value: Buffer.alloc(5_000, 0x20), headers: { 'content-type': 'application/json' } } },
      ];
      const records: TestRecord[] = [valid()];
      for (const { record } of poison) records.push(record, valid());
      // A record without a key goes to partition 0 like any other here: one partition.
      await driver.pipe('instructions', records);

      const diffs = driver.readDiffs('graphs-diffs').map((r) => r.diff);
      expect(diffs.map((d) => d.slice)).toEqual(diffs.map((_, i) => i + 1));
      expect(diffs.map((d) => d.txId)).toEqual(Array.from({ length: poison.length + 1 }, (_, i) => `ok-${i}`));

      const rejections = driver.readRejections('graphs-rejections');
      expect(rejections.map((r) => r.rejection.code)).toEqual(poison.map((p) => p.code));
      rejections.forEach(({ rejection, headers }, i) => {
        const original = poison[i]?.record.value as Buffer;
        // Whole: the rejections topic as topology apply makes it keeps room for a record a little
        // over maxRecordBytes (the 5,000-byte one here, at 4,096).
        expect(Buffer.compare(rejection.payload, original)).toBe(0);
        expect(headers['graphfold-payload-truncated']).toBeUndefined();
        expect(headers['graphfold-rejection-code']).toBe(rejection.code);
        expect(Number(headers['graphfold-origin-offset'])).toBe(2 * i + 1);
        expect(rejection.message.length).toBeGreaterThan(10);
      });
    } finally {
      await driver.close();
    }
  });

  test('a transaction whose diff would exceed maxRecordBytes is rejected TOO_LARGE before anything of it is applied', async () => {
    const driver = await driverWith({ maxRecordBytes: 4_096 });
    try {
      const uid = 'b'.repeat(32);
      const text = (c: string): { type: 'String'; value: string } => ({ type: 'String', value: c.repeat(2_500) });
      // The second assignment's diff holds the previous value and the new one: 5,000 bytes from a 2,600-byte record.
      const txs: GraphTransaction[] = [
        { graph: 'g', txId: 'create', instructions: [{ op: 'CreateAttribute', uid, valueType: 'String', value: text('x') }] },
        { graph: 'g', txId: 'replace', instructions: [{ op: 'Assign', target: { uid }, value: text('y') }] },
        { graph: 'g', txId: 'after', instructions: [{ op: 'Assign', target: { uid }, value: { type: 'String', value: 'short' } }] },
      ];
      const records = txs.map((tx) => transactionRecord(driver, tx));
      expect(records.every((r) => (r.value as Buffer).length < 4_096)).toBe(true);
      await driver.pipe('instructions', records);

      const diffs = driver.readDiffs('graphs-diffs').map((r) => r.diff);
      expect(diffs.map((d) => [d.txId, d.slice])).toEqual([
        ['create', 1],
        ['after', 2],
      ]);
      expect(diffs[1]?.changes).toEqual([{ op: 'Assigned', uid, previous: text('x'), value: { type: 'String', value: 'short' } }]);
      const [rejection] = driver.readRejections('graphs-rejections');
      expect(rejection?.rejection.code).toBe('TOO_LARGE');
      expect(rejection?.rejection.txId).toBe('replace');
      expect(rejection?.rejection.message).toMatch(/diff would be a changelog record of \d+ bytes; the limit \(maxRecordBytes\) is 4096/);
      expect(await driver.reads('g').transaction('g', 'replace')).toMatchObject({ status: 'rejected', rejection: { code: 'TOO_LARGE' } });
    } finally {
      await driver.close();
    }
  });
});
