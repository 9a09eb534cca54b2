import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GraphTransaction } from '../../processors/engine/model';
import { QueryClient, type ChangeEvent } from '../../processors/query/client';
import { partitionOf } from '../../processors/codec/partitioner';
import { workload } from '../bench/workload';
import { testKafka, uniqueName } from '../support/kafka';
import { ProcessorChild, waitForCaughtUp, writeTopologyFile } from '../support/processor-child';
import { createProcessorTopics, expectedDiffCount, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { waitFor } from '../support/wait-for';

const partitionsOf = (line: Record<string, unknown>): number[] =>
  String(line['partitions'] ?? '')
    .split(',')
    .filter((p) => p !== '' && p !== 'none')
    .map(Number);

/**
 * Two `graphfold run` instances in one group, each with its query API: a request to the instance
 * that does not own a graph is forwarded and answers the same (the header names the owner); when
 * the owner is SIGKILLed, the graph answers 503 (Retry-After) while its partition moves and is
 * restored, then the same data from the other instance; a changes subscriber connected through
 * the survivor, reconnecting with Last-Event-ID, receives every slice of the graph exactly once,
 * in order.
 */
describe('query API routing across instances', () => {
  test('forwarded to the owner; 503 while the partition moves after a SIGKILL, then the same answers; changes resume with no gap and no duplicate', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 4);
    const schemaId = await transactionSchemaId(topics.input);
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-query-routing-'));
    const application = uniqueName('routing');
    const [fileA, fileB] = await Promise.all([
      writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state-a'), file: 'a.yaml', query: { listen: '127.0.0.1:0' } }),
      writeTopologyFile(dir, topics, { application, stateDir: join(dir, 'state-b'), file: 'b.yaml', query: { listen: '127.0.0.1:0' } }),
    ]);
    const stream = workload({ seed: 5, graphs: 8 });
    const txs: GraphTransaction[] = Array.from({ length: 2_400 }, () => stream.next().value as GraphTransaction);
    const firstHalf = txs.slice(0, 1_200);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: topics.input, messages: firstHalf.map((tx) => transactionMessage(tx, schemaId)) });

    const a = ProcessorChild.start('instance A', fileA, join(dir, 'a.log'));
    const b = ProcessorChild.start('instance B', fileB, join(dir, 'b.log'));
    const controller = new AbortController();
    try {
      const urlOf = async (child: ProcessorChild): Promise<string> => String((await child.waitForLog('query API listening'))['url']);
      const [urlA, urlB] = await Promise.all([urlOf(a), urlOf(b)]);
      const split = (child: ProcessorChild): number[] => partitionsOf(child.logged('partitions assigned').at(-1) ?? {});
      await a.waitForLog('partitions assigned', () => split(a).length > 0 && split(b).length > 0 && split(a).length + split(b).length === topics.partitions);
      const ownedByA = split(a);
      for (const partition of ownedByA) await a.waitForLog('partition ready', (line) => Number(line['partition']) === partition);
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);

      const graphs = [...new Set(txs.map((tx) => tx.graph))];
      const graph = graphs.find((g) => ownedByA.includes(partitionOf(g, topics.partitions))) as string;
      expect(graph).toBeDefined();
      const viaA = new QueryClient(urlA);
      const viaB = new QueryClient(urlB);
      const instanceA = new URL(urlA).host;
      const instanceB = new URL(urlB).host;

      // Forwarding: B does not own the graph and answers what A answers, saying A served it.
      const head = await waitFor('the routing map to reach B', async () => {
        const answer = await viaB.get(`/v1/graphs/${graph}`);
        return answer.status === 200 ? (answer.body['head'] as number) : undefined;
      });
      const paths = [`/v1/graphs/${graph}`, `/v1/graphs/${graph}/atoms`, `/v1/graphs/${graph}/slices`, `/v1/graphs/${graph}/diff`];
      const params = [{ asOf: head }, { asOf: head, type: 'Person', limit: 50 }, { to: head, limit: 1000 }, { from: 0, to: head }];
      const before: unknown[] = [];
      for (const [i, path] of paths.entries()) {
        const direct = await viaA.get(path, params[i]);
        const forwarded = await viaB.get(path, params[i]);
        expect(direct.status).toBe(200);
        expect(forwarded.status).toBe(200);
        expect(direct.servedBy).toBe(instanceA);
        expect(forwarded.servedBy).toBe(instanceA);
        expect(forwarded.body).toEqual(direct.body);
        before.push(direct.body);
      }
      const listed = await waitFor('every graph listed (partitions moved at the rebalance are restored first)', async () => {
        const answer = await viaB.get('/v1/graphs');
        return answer.body['incomplete'] === undefined ? answer : undefined;
      });
      expect((listed.body['graphs'] as { graph: string }[]).map((g) => g.graph).sort()).toEqual([...graphs].sort());

      // A changes subscriber through B, from slice 1, reconnecting with Last-Event-ID.
      const events: ChangeEvent[] = [];
      let reconnects = 0;
      const following = viaB.follow(graph, { fromSlice: 1, signal: controller.signal, onEvent: (e) => void events.push(e), onReconnect: () => (reconnects += 1) });
      await waitFor('the subscriber to receive the graph so far', () => (events.filter((e) => e.event === 'diff').length >= head ? true : undefined), { timeoutMs: 60_000 });

      // Input keeps coming while A is killed.
      const producing = (async () => {
        for (let i = 1_200; i < txs.length; i += 100) {
          await producer.send({ topic: topics.input, messages: txs.slice(i, i + 100).map((tx) => transactionMessage(tx, schemaId)) });
          await sleep(250);
        }
      })();
      await sleep(1_000);
      a.kill('SIGKILL');
      await a.exited;

      const seen: { status: number; retryAfter: number | null; error: unknown; servedBy: string | null }[] = [];
      await waitFor(
        'B to answer for the graph itself',
        async () => {
          const answer = await viaB.get(`/v1/graphs/${graph}`, { asOf: head });
          seen.push({ status: answer.status, retryAfter: answer.retryAfter, error: answer.body['error'], servedBy: answer.servedBy });
          return answer.status === 200 && answer.servedBy === instanceB ? true : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 25 },
      );
      const unavailable = seen.filter((s) => s.status === 503);
      expect(unavailable.length).toBeGreaterThan(0);
      expect(unavailable.every((s) => s.retryAfter !== null && s.retryAfter >= 1)).toBe(true);
      expect(seen.every((s) => s.status === 503 || s.status === 200)).toBe(true);
      for (const [i, path] of paths.entries()) {
        const after = await viaB.get(path, params[i]);
        expect(after.status).toBe(200);
        expect({ ...after.body, head: undefined, headTime: undefined, owner: undefined }).toEqual({ ...(before[i] as object), head: undefined, headTime: undefined, owner: undefined });
      }

      await producing;
      await waitForCaughtUp(kafka, `${application}-graphs`, topics.input);
      const final = (await viaB.get(`/v1/graphs/${graph}`)).body['head'] as number;
      expect(final).toBeGreaterThan(head);
      expect(final).toBe(await expectedDiffCount(txs.filter((tx) => tx.graph === graph)));
      await waitFor('the subscriber to receive every slice', () => (events.filter((e) => e.event === 'diff').length >= final ? true : undefined), { timeoutMs: 60_000 });
      await sleep(500);
      const ids = events.filter((e) => e.event === 'diff').map((e) => e.id);
      expect(ids).toEqual(Array.from({ length: final }, (_, i) => i + 1));
      expect(reconnects).toBeGreaterThan(0);
      controller.abort();
      await following;
      b.kill('SIGTERM');
      expect(await b.exited).toBe(0);
    } catch (error) {
      controller.abort();
      a.kill('SIGKILL');
      b.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- A\n${await a.tail()}\n--- B\n${await b.tail()}`, { cause: error });
    } finally {
      await producer.disconnect();
    }
  }, 600_000);
});
