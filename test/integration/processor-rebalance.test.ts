import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphDiff, GraphTransaction } from '../../processors/engine/model';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, readAll, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { byGraph, createProcessorTopics, decodeDiff, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { openTempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

const partitionsOf = (line: Record<string, unknown>): number[] =>
  String(line['partitions'] ?? '')
    .split(',')
    .filter((p) => p !== '' && p !== 'none')
    .map(Number);

describe('processor, rebalanced', () => {
  test('two processors in one group, one killed: its partitions move to the other, are restored there, and the output stays exactly once', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 4);
    const schemaId = await transactionSchemaId(topics.input);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-rebalance-'));
    const application = uniqueName('rebalance');
    const [fileA, fileB] = await Promise.all([
      writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state-a'), file: 'a.yaml' }),
      writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state-b'), file: 'b.yaml' }),
    ]);
    const stream = workload({ seed: 11, graphs: 12 });
    const txs: GraphTransaction[] = Array.from({ length: 1_200 }, () => stream.next().value as GraphTransaction);

    let sent = 0;
    const producing = (async () => {
      const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
      await producer.connect();
      for (; sent < txs.length; sent += 40) {
        await producer.send({ topic: topics.input, messages: txs.slice(sent, sent + 40).map((tx) => transactionMessage(tx, schemaId)) });
        await sleep(300);
      }
      await producer.disconnect();
    })();

    const a = ProcessorChild.start('processor A', fileA, join(dir, 'a.log'));
    const b = ProcessorChild.start('processor B', fileB, join(dir, 'b.log'));
    let taken: number[] = [];
    try {
      const split = (child: ProcessorChild): number[] => partitionsOf(child.logged('partitions assigned').at(-1) ?? {});
      await a.waitForLog('partitions assigned', () => split(a).length > 0 && split(b).length > 0 && split(a).length + split(b).length === topics.partitions);
      taken = split(a);
      for (const partition of taken) await a.waitForLog('partition ready', (line) => Number(line['partition']) === partition);
      await sleep(2_000);
      a.kill('SIGKILL');
      await a.exited;
      await b.waitForLog('partitions assigned', (line) => partitionsOf(line).length === topics.partitions, 60_000);
      await producing;
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);
      b.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    } catch (error) {
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- A\n${await a.tail()}\n--- B\n${await b.tail()}`, { cause: error });
    }

    const restored = b.logged('partition ready').map((line) => Number(line['partition']));
    for (const partition of taken) expect(restored).toContain(partition);
    expect(b.logged('restore finished').some((line) => taken.includes(Number(line['partition'])) && Number(line['records']) > 0)).toBe(true);

    const expected = new Map<string, GraphDiff[]>();
    const reference = await openTempStore();
    for (const [offset, tx] of txs.entries()) {
      const result = await foldInto(reference.store, tx, { source: { topic: topics.input, partition: 0, offset }, recordTime: 0, maxInstructions: 10_000 });
      if (result.outcome === 'applied') expected.set(tx.graph, [...(expected.get(tx.graph) ?? []), result.diff]);
    }
    await reference.close();
    const graphs = byGraph((await readAll(kafka, topics.diffs)).map(decodeDiff));
    expect([...graphs.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [graph, list] of graphs) {
      const want = expected.get(graph) ?? [];
      expect(canonical(list.map((d) => [d.slice, d.txId, d.changes]))).toBe(canonical(want.map((d) => [d.slice, d.txId, d.changes])));
    }
  }, 600_000);
});
