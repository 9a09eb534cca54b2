import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { defaultLayout } from '../../processors/store/graph-store';
import { workload, Random } from '../bench/workload';
import { canonical } from '../support/canonical';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, readAll, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { byGraph, createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId } from '../support/processor-harness';
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

describe('processor, crashed at random moments', () => {
  test('SIGKILLed at least five times while input keeps coming: every valid transaction is in the changelog exactly once, in order, and the stores equal a fold of it', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 3);
    const schemaId = await transactionSchemaId(topics.input);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-crash-'));
    const application = uniqueName('crash');
    const stateDir = join(dir, 'state');
    const topologyFile = await writeTopologyFile(dir, topics, { application, stateDir });
    const seed = Date.now() % 100_000;
    const random = new Random(seed);
    const stream = workload({ seed, graphs: 8 });
    const txs: GraphTransaction[] = Array.from({ length: 1_500 }, () => stream.next().value as GraphTransaction);

    const producing = (async () => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (let i = 0; i < txs.length; i += 50) {
        await producer.send({ topic: topics.input, messages: txs.slice(i, i + 50).map((tx) => transactionMessage(tx, schemaId)) });
        await sleep(400);
      }
      await producer.disconnect();
    })();

    const children: ProcessorChild[] = [];
    const kills: number[] = [];
    try {
      for (let kill = 0; kill < 6; kill += 1) {
        const child = ProcessorChild.start(`processor ${kill}`, topologyFile, join(dir, `child-${kill}.log`));
        children.push(child);
        const delay = 1_000 + random.int(4_000);
        kills.push(delay);
        await sleep(delay);
        child.kill('SIGKILL');
        await child.exited;
      }
      await producing;
      const last = ProcessorChild.start('final processor', topologyFile, join(dir, 'child-final.log'));
      children.push(last);
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);
      last.kill('SIGTERM');
      expect(await last.exited).toBe(0);
    } catch (error) {
      const tails = await Promise.all(children.map(async (c) => `--- ${c.name}\n${await c.tail()}`));
      throw new Error(`${(error as Error).message}\nseed ${seed}, kills after ${kills.join(', ')} ms\n${tails.join('\n')}`, { cause: error });
    }

    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [offset, tx] of txs.entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();

    const records = await readAll(kafka, topics.diffs);
    const diffs = records.map((m) => ({ ...decodeDiff(m), partition: m.partition, offset: Number(m.offset) }));
    const graphs = byGraph(diffs);
    expect([...graphs.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [graph, list] of graphs) {
      const want = expected.get(graph) ?? [];
      expect(list.map((d) => d.slice)).toEqual(want.map((d) => d.slice));
      expect(canonical(list.map((d) => [d.txId, d.changes]))).toBe(canonical(want.map((d) => [d.txId, d.changes])));
    }
    expect((await readAll(kafka, topics.rejections)).length).toBe(0);

    for (let partition = 0; partition < topics.partitions; partition += 1) {
      const rebuilt = await openTempStore(10_000, defaultLayout);
      await rebuilt.store.replay(diffs.filter((d) => d.partition === partition).sort((a, b) => a.offset - b.offset));
      await rebuilt.store.commit({});
      expect(comparable(await rebuilt.dump())).toEqual(comparable(await dumpStore(join(stateDir, 'graphs', String(partition)))));
      await rebuilt.close();
    }
  }, 600_000);
});
