import { avroTypes } from '../../../processors/codec/avro';
import { frame } from '../../../processors/codec/framing';
import { transactionToAvro } from '../../../processors/codec/transaction';
import type { GraphTransaction } from '../../../processors/engine/model';
import { TopologyTestDriver, type TestRecord } from '../../../processors/testing';

/**
 * The processor's side of the wire contract, through its task core (the TopologyTestDriver): a
 * record on another partition than its key's is refused WRONG_PARTITION and changes nothing (the
 * graph's history stays on its own partition); the topology's headers are carried onto diffs
 * and rejections; a JSON content-type is matched as a media type.
 */
describe('processor, the wire contract', () => {
  test("a record off its key's partition is WRONG_PARTITION; headers are carried; content-type is a media type", async () => {
    const driver = await TopologyTestDriver.fromObject({ processors: [{ name: 'graphs', inputs: ['instructions'], partitions: 3 }] });
    try {
      const avro = (tx: GraphTransaction): TestRecord => ({ key: tx.graph, value: frame(driver.registry.register('instructions-value', avroTypes().transaction), avroTypes().transaction.toBuffer(transactionToAvro(tx))) });
      const graph = 'acme';
      const home = driver.partitionOf(graph);
      const away = (home + 1) % 3;
      const trace = (n: number): Record<string, string> => ({ traceparent: `00-${String(n).padStart(32, '0')}-00f067aa0ba902b7-01`, tracestate: `vendor=${n}`, 'x-not-carried': 'no' });
      await driver.pipe('instructions', [
        { ...avro({ graph, txId: 't1', instructions: [{ op: 'CreateEntity', ref: 'ada', type: 'Person' }] }), partition: home, headers: trace(1) },
        // What a librdkafka producer with its default (CRC32) partitioner would do with another key's hash.
        { ...avro({ graph, txId: 't2', instructions: [{ op: 'CreateEntity', ref: 'bob', type: 'Person' }] }), partition: away, headers: trace(2) },
        { key: graph, value: JSON.stringify({ graph, txId: 't3', instructions: [{ op: 'CreateEntity', ref: 'eve', type: 'Person' }] }), partition: home, headers: { 'Content-Type': 'Application/JSON; charset=utf-8', ...trace(3) } },
      ]);

      const diffs = driver.readDiffs('graphs-diffs');
      expect(diffs.map((r) => [r.diff.txId, r.diff.slice, r.partition])).toEqual([
        ['t1', 1, home],
        ['t3', 2, home],
      ]);
      expect(diffs.map((r) => r.headers)).toEqual([1, 3].map((n) => ({ traceparent: trace(n)['traceparent'], tracestate: `vendor=${n}` })));

      const [rejection] = driver.readRejections('graphs-rejections');
      expect(rejection?.rejection.code).toBe('WRONG_PARTITION');
      expect(rejection?.rejection.txId).toBe('t2');
      expect(rejection?.rejection.source.partition).toBe(away);
      expect(rejection?.rejection.message).toContain(`belongs on partition ${home} of instructions`);
      expect(rejection?.rejection.message).toContain('partitioner=murmur2_random');
      expect(rejection?.headers['traceparent']).toBe(trace(2)['traceparent']);
      expect(rejection?.headers['x-not-carried']).toBeUndefined();
      expect(rejection?.headers['graphfold-rejection-code']).toBe('WRONG_PARTITION');
      expect(await driver.store(away).head(graph)).toBe(0);
    } finally {
      await driver.close();
    }
  });
});
