import { join } from 'node:path';
import { frame } from '../../processors/codec/framing';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { GraphStore, defaultLayout } from '../../processors/store/graph-store';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { testKafka, transactionalProducer } from '../support/kafka';
import { byGraph, createProcessorTopics, readDiffs, readRejections, testTopology, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { dumpStore } from '../support/store-dump';
import { openTempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

/**
 * The dump a store rebuilt from diffs must equal: without the checkpoint, no-op txId markers and
 * the record of rejected txIds (tags 16 and 18: rejections are not in the changelog).
 */
function comparable(dump: [string, string][]): [string, string][] {
  return dump.filter(([key, value]) => !['01', '16', '18'].some((tag) => key.startsWith(tag)) && !(key.startsWith('17') && value === '00'));
}

describe('processor, end to end on a real broker', () => {
  test('transactions over several graphs and partitions give gapless slices per graph, rejections for poison, and a changelog that rebuilds the stores', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 3);
    const schemaId = await transactionSchemaId(topics.input);
    const stream = workload({ seed: 7, graphs: 6 });
    const txs: GraphTransaction[] = Array.from({ length: 300 }, () => stream.next().value as GraphTransaction);

    const poison = [
      { key: Buffer.from('graph-1'), value: Buffer.from('not avro at all') },
      { key: Buffer.from('graph-2'), value: frame(987_654, Buffer.from([1, 2, 3])) },
      transactionMessage({ graph: 'graph-3', txId: 'bad-uid', instructions: [{ op: 'Terminate', target: { uid: 'XYZ' } }] }, schemaId),
      transactionMessage({ graph: 'graph-4', txId: 'stale', expectSlice: 99_999, instructions: [{ op: 'CreateEntity', type: 'Person' }] }, schemaId),
    ];
    const producer = await transactionalProducer(kafka);
    const messages = txs.map((tx) => transactionMessage(tx, schemaId));
    messages.splice(50, 0, poison[0] as never);
    messages.splice(120, 0, poison[1] as never);
    messages.splice(200, 0, poison[2] as never);
    messages.push(poison[3] as never);
    const transaction = await producer.transaction();
    await transaction.send({ topic: topics.input, messages });
    await transaction.commit();
    await producer.disconnect();

    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [i, tx] of txs.entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset: i }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();
    const expectedCount = [...expected.values()].reduce((n, list) => n + list.length, 0);

    const topology = await testTopology(topics);
    const running = await runTopology(topology, new Instrumentation());
    try {
      const diffs = await readDiffs(kafka, topics.diffs, expectedCount);
      const rejections = await readRejections(kafka, topics.rejections, 4);

      for (const [graph, list] of byGraph(diffs)) {
        expect(list.map((d) => d.slice)).toEqual(list.map((_, i) => i + 1));
        const want = expected.get(graph) ?? [];
        expect(canonical(list.map((d) => ({ slice: d.slice, txId: d.txId, changes: d.changes })))).toBe(canonical(want.map((d) => ({ slice: d.slice, txId: d.txId, changes: d.changes }))));
        expect(new Set(list.map((d) => d.partition)).size).toBe(1);
        expect(list.every((d) => d.source.topic === topics.input && d.source.partition === d.partition)).toBe(true);
      }
      expect([...byGraph(diffs).keys()].sort()).toEqual([...expected.keys()].sort());
      expect(rejections.map((r) => r.code).sort()).toEqual(['DECODE_ERROR', 'INVALID_INSTRUCTION', 'STALE_SLICE', 'UNKNOWN_SCHEMA']);
      for (const rejection of rejections) {
        expect(rejection.headers['graphfold-origin-topic']).toBe(topics.input);
        expect(rejection.headers['graphfold-rejection-code']).toBe(rejection.code);
        expect(Number(rejection.headers['graphfold-origin-offset'])).toBe(Number(rejection.source.offset));
      }
      expect(rejections.find((r) => r.code === 'DECODE_ERROR')?.payload.toString()).toBe('not avro at all');
    } finally {
      await running.stop();
      await running.done;
    }

    const all = await readDiffs(kafka, topics.diffs, expectedCount);
    for (let partition = 0; partition < topics.partitions; partition += 1) {
      const rebuilt = await openTempStore(10_000, defaultLayout);
      await rebuilt.store.replay(all.filter((d) => d.partition === partition).sort((a, b) => a.offset - b.offset));
      await rebuilt.store.commit({});
      const live = comparable(await dumpStore(join(topology.store.dir, 'graphs', String(partition))));
      expect(comparable(await rebuilt.dump())).toEqual(live);
      await rebuilt.close();
    }
    expect(await GraphStore.open(join(topology.store.dir, 'graphs', '0'), { rocks: { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 }, cachedAtoms: 10 }).then(async (s) => {
      const checkpoint = s.checkpoint();
      await s.close();
      return [...Object.keys(checkpoint).filter((key) => key !== 'inputs'), ...Object.keys(checkpoint.inputs ?? {}).map((topic) => `input:${topic}`)].sort();
    })).toEqual(['changelog', `input:${topics.input}`, 'rejections']);
  });
});
