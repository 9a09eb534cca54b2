import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avroTypes } from '../../processors/codec/avro';
import { diffToAvro } from '../../processors/codec/diff';
import { frame } from '../../processors/codec/framing';
import { partitionOf } from '../../processors/codec/partitioner';
import type { GraphDiff } from '../../processors/engine/model';
import { Instrumentation } from '../../processors/instrumentation/events';
import { runTopology } from '../../processors/runtime/host';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { DiffOrderError, followDiffs, GraphProducer, InMemoryMirror, RocksDbMirror, TransactionBuilder, type FollowedDiff } from '../../processors/sdk';
import { testCluster, testKafka, transactionalProducer, uniqueName } from '../support/kafka';
import { createProcessorTopics, testTopology } from '../support/processor-harness';

/** The SDK against the real broker, registry and processor: GraphProducer in, followDiffs out. */
describe('the TypeScript SDK', () => {
  const kafka = testKafka();
  const registry = (): { url: string } => ({ url: testCluster().registryUrl });

  test('GraphProducer sends builders on their key\'s partition (transactionally); followDiffs mirrors the graphs, in order, with headers', async () => {
    const topics = await createProcessorTopics(kafka, 3);
    const running = await runTopology(await testTopology(topics), new Instrumentation());
    const producer = await GraphProducer.connect({ kafka, registry: registry(), topic: topics.input, transactionalId: uniqueName('sdk') });
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-mirror-'));
    try {
      const graphs = ['acme', 'globex', 'initech', 'tyrell'];
      const first = graphs.map((graph) => {
        const tx = new TransactionBuilder(graph, { txId: `${graph}-1` });
        const ada = tx.create('Person', 'ada');
        tx.set(ada, 'Name', { type: 'String', value: `Ada of ${graph}` });
        return tx;
      });
      const sent = await producer.send(...first);
      expect(sent.map((s) => s.partition)).toEqual(graphs.map((g) => partitionOf(g, 3)));
      const ada = new TransactionBuilder('acme', { txId: 'acme-1' }).create('Person', 'ada').uid;
      // Sending the same transaction again (a retry) cannot apply it twice.
      await producer.send(...first, new TransactionBuilder('acme', { txId: 'acme-2' }).terminate(new TransactionBuilder('acme').existing('Person', ada)));

      const mirror = new InMemoryMirror();
      const changed: string[] = [];
      const seen: FollowedDiff[] = [];
      for await (const diff of followDiffs({ kafka, registry: registry(), topic: topics.diffs, mirror, onChange: (d) => void changed.push(`${d.graph}/${d.slice}`) })) {
        seen.push(diff);
        if (seen.length === 5) break;
      }
      expect(seen.map((d) => `${d.graph}/${d.slice}/${d.txId}`).sort()).toEqual(['acme/1/acme-1', 'acme/2/acme-2', 'globex/1/globex-1', 'initech/1/initech-1', 'tyrell/1/tyrell-1']);
      expect(changed.sort()).toEqual(seen.map((d) => `${d.graph}/${d.slice}`).sort());
      // Terminating ada ended her and her Name relation; the attribute the relation reached lives on.
      expect(mirror.atoms('acme').map((a) => a.kind)).toEqual(['attribute']);
      expect(mirror.atoms('globex').map((a) => [a.kind, a.type])).toEqual([
        ['entity', 'Person'],
        ['attribute', 'String'],
        ['relation', 'Name'],
      ]);
      expect(mirror.atoms('globex').find((a) => a.kind === 'attribute')?.value).toEqual({ type: 'String', value: 'Ada of globex' });
      expect(seen.find((d) => d.txId === 'acme-2')?.changes[0]).toEqual({ op: 'Terminated', uid: ada, cascade: false, kind: 'entity', type: 'Person' });

      // A RocksDB mirror survives a restart: following again resumes after its heads, nothing applied twice.
      const rocks = await RocksDbMirror.open(dir);
      const resumed: string[] = [];
      for await (const diff of followDiffs({ kafka, registry: registry(), topic: topics.diffs, mirror: rocks })) {
        resumed.push(`${diff.graph}/${diff.slice}`);
        if (resumed.length === 5) break;
      }
      await rocks.close();
      const again = await RocksDbMirror.open(dir);
      expect(await again.head('acme')).toBe(2);
      const globex2 = new TransactionBuilder('globex', { txId: 'globex-2' });
      const company = globex2.create('Company', 'acme');
      await producer.send(globex2);
      const after: string[] = [];
      for await (const diff of followDiffs({ kafka, registry: registry(), topic: topics.diffs, mirror: again })) {
        after.push(`${diff.graph}/${diff.slice}`);
        break;
      }
      expect(after).toEqual(['globex/2']);
      expect((await again.store.atomAt('globex', company.uid))?.type).toBe('Company');
      await again.close();
    } finally {
      await producer.disconnect();
      await running.stop();
      await running.done;
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('followDiffs stops with an error naming the graph and slices at a gap, and at a duplicate', async () => {
    for (const [slices, expected] of [
      [[1, 2, 4], "graph 'g' on DIFFS/0@2: expected slice 3, got slice 4 (a gap: slices 3 to 3 are missing)"],
      [[1, 2, 2], "graph 'g' on DIFFS/0@2: expected slice 3, got slice 2 (a duplicate of slice 2)"],
    ] as const) {
      const topics = await createProcessorTopics(kafka, 1);
      const schemaId = await new SchemaCatalog(registry()).register(topics.diffs, avroTypes().diff);
      const diff = (slice: number): GraphDiff => ({ graph: 'g', slice, txId: `t${slice}`, time: 1_700_000_000_000_000 + slice, source: { topic: 'in', partition: 0, offset: slice }, changes: [{ op: 'Created', uid: `${slice}`.padStart(32, 'a'), kind: 'entity', type: 'Person' }] });
      const writer = await transactionalProducer(kafka);
      const transaction = await writer.transaction();
      await transaction.send({ topic: topics.diffs, messages: slices.map((s) => ({ key: 'g', partition: 0, value: frame(schemaId, avroTypes().diff.toBuffer(diffToAvro(diff(s)))) })) });
      await transaction.commit();
      await writer.disconnect();
      const got: number[] = [];
      let failure: unknown;
      try {
        for await (const d of followDiffs({ kafka, registry: registry(), topic: topics.diffs })) got.push(d.slice);
      } catch (error) {
        failure = error;
      }
      expect(got).toEqual([1, 2]);
      expect(failure).toBeInstanceOf(DiffOrderError);
      expect((failure as Error).message).toContain(expected.replace('DIFFS', topics.diffs));
    }
  });
});
