import type { GraphTransaction, Uid } from '../../processors/engine/model';
import { Instrumentation } from '../../processors/instrumentation/events';
import { QueryClient } from '../../processors/query/client';
import { runTopology } from '../../processors/runtime/host';
import { workload } from '../bench/workload';
import { canonical } from '../support/canonical';
import { runCli } from '../support/cli';
import { testKafka } from '../support/kafka';
import { waitForCaughtUp } from '../support/processor-child';
import { createProcessorTopics, testTopology, transactionMessage, transactionSchemaId } from '../support/processor-harness';
import { ReferenceGraph, type ModelAtom } from '../support/reference-model';

/**
 * The query API of a real processor on a real broker, against the reference model: the reads at
 * slices across each graph's history (as of a slice and as of a time), the transactions endpoint
 * for applied, skipped, rejected and unknown txIds, and read-your-writes.
 */
describe('the query API of a running processor', () => {
  test('every read matches the reference model; transactions report their fate; a producer reads what it wrote', async () => {
    const kafka = testKafka();
    const topics = await createProcessorTopics(kafka, 3);
    const schemaId = await transactionSchemaId(topics.input);
    const stream = workload({ seed: 21, graphs: 5 });
    const txs: GraphTransaction[] = Array.from({ length: 700 }, () => stream.next().value as GraphTransaction);
    const graphs = [...new Set(txs.map((tx) => tx.graph))];
    const [first] = graphs as [string];
    txs.push(
      { graph: first, txId: 'noop', instructions: [] },
      { graph: first, txId: 'refused', instructions: [{ op: 'Assign', target: { uid: 'e'.repeat(32) }, value: { type: 'Int', value: 1n } }] },
    );
    const base = Date.now();
    const models = new Map(graphs.map((g) => [g, new ReferenceGraph(g, undefined, 10_000)]));
    const outcomes = new Map<string, string>();
    txs.forEach((tx, i) => outcomes.set(tx.txId, (models.get(tx.graph) as ReferenceGraph).apply(tx, (base + i) * 1000).outcome));
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic: topics.input, messages: txs.map((tx, i) => ({ ...transactionMessage(tx, schemaId), timestamp: String(base + i) })) });

    const topology = await testTopology(topics, { query: {} });
    const running = await runTopology(topology, new Instrumentation());
    try {
      expect(running.query).toBeDefined();
      const client = new QueryClient(running.query?.url as string);
      await waitForCaughtUp(kafka, `${topology.application}-graphs`, topics.input);
      const last = txs.at(-3) as GraphTransaction;
      const settled = await client.get(`/v1/graphs/${last.graph}/transactions/${last.txId}`, { waitForTx: last.txId, wait: '30s' });
      expect(settled.status).toBe(200);

      for (const [graph, model] of models) {
        const head = model.head;
        const info = await client.get(`/v1/graphs/${graph}`);
        expect(info.status).toBe(200);
        expect(info.body['head']).toBe(head);
        expect(info.body['time']).toBe(model.times[head]);
        expect(info.body['headTime']).toBe(model.times[head]);
        expect(info.servedBy).toBe(running.query?.instance);
        const uids = [...model.lifetimes.keys()];
        for (const s of [1, Math.floor(head / 3), Math.floor((2 * head) / 3), head]) {
          for (const uid of uids.filter((_, i) => i % 3 === s % 3)) {
            const want = model.atomAt(uid, s);
            const answer = await client.get(`/v1/graphs/${graph}/atoms/${uid}`, { asOf: s });
            expect(answer.status).toBe(want === undefined ? 404 : 200);
            if (want === undefined) continue;
            const atom = answer.body['atom'] as Record<string, unknown>;
            expect([atom['kind'], atom['type'], atom['created'], atom['source'], atom['target']]).toEqual([want.kind, want.type, want.created, want.source, want.target]);
            const relations = await client.get(`/v1/graphs/${graph}/atoms/${uid}/relations`, { asOf: s, direction: 'out' });
            expect(canonical((relations.body['relations'] as { relation: { uid: string; type: string }; other: { uid: string } }[]).map((r) => ({ uid: r.relation.uid, type: r.relation.type, other: r.other.uid })))).toBe(canonical(model.relationsAt(uid, 'out', s)));
          }
          const byTime = await client.get(`/v1/graphs/${graph}/atoms`, { asOfTime: new Date(Math.floor((model.times[s] as number) / 1000)).toISOString(), type: 'Person', limit: 10_000 });
          expect(byTime.body['slice']).toBe(model.sliceAt(Math.floor((model.times[s] as number) / 1000) * 1000));
          const people = await client.get(`/v1/graphs/${graph}/atoms`, { asOf: s, type: 'Person', limit: 10_000 });
          expect((people.body['atoms'] as { uid: string }[]).map((a) => a.uid).sort()).toEqual(model.atomsOfType('Person', s));
          const start = [...(model.slices[s] as ReadonlyMap<Uid, ModelAtom>).values()].find((a) => a.type === 'Person');
          if (start !== undefined) {
            const hood = await client.get(`/v1/graphs/${graph}/neighbourhood`, { asOf: s, from: start.uid, hops: 2 });
            const reached = new Set<Uid>([start.uid]);
            let frontier = [start.uid];
            for (let hop = 0; hop < 2; hop += 1) {
              frontier = frontier.flatMap((uid) => [...model.relationsAt(uid, 'out', s), ...model.relationsAt(uid, 'in', s)].map((e) => e.other)).filter((u) => !reached.has(u) && reached.add(u));
            }
            expect((hood.body['atoms'] as { uid: string }[]).map((a) => a.uid).sort()).toEqual([...reached].sort());
          }
        }
      }

      const fate = async (graph: string, txId: string): Promise<unknown> => (await client.get(`/v1/graphs/${graph}/transactions/${txId}`)).body['status'];
      const applied = txs.find((tx) => outcomes.get(tx.txId) === 'applied') as GraphTransaction;
      expect(await fate(applied.graph, applied.txId)).toBe('applied');
      expect(outcomes.get('noop')).toBe('unchanged');
      expect(await fate(first, 'noop')).toBe('skipped');
      const refused = await client.get(`/v1/graphs/${first}/transactions/refused`);
      expect(refused.body['status']).toBe('rejected');
      expect(refused.body['rejection']).toMatchObject({ code: 'NOT_FOUND', instructionIndex: 0, source: { topic: topics.input } });
      expect(await fate(first, 'never-sent')).toBe('unknown');

      // Read-your-writes: produce, then read at once with waitForTx: the answer is as of the new slice.
      const entity = 'a'.repeat(31) + '1';
      await producer.send({ topic: topics.input, messages: [transactionMessage({ graph: first, txId: 'ryw', instructions: [{ op: 'CreateEntity', uid: entity, type: 'Person' }] }, schemaId)] });
      const read = await client.get(`/v1/graphs/${first}/atoms/${entity}`, { waitForTx: 'ryw', wait: '20s' });
      expect(read.status).toBe(200);
      expect(read.body['slice']).toBe((models.get(first) as ReferenceGraph).head + 1);
      expect((read.body['atom'] as { created: number }).created).toBe((models.get(first) as ReferenceGraph).head + 1);

      const rejectedWait = client.get(`/v1/graphs/${first}`, { waitForTx: 'ryw-refused', wait: '20s' });
      await producer.send({ topic: topics.input, messages: [transactionMessage({ graph: first, txId: 'ryw-refused', instructions: [{ op: 'Terminate', target: { uid: 'e'.repeat(32) } }] }, schemaId)] });
      expect((await rejectedWait).status).toBe(409);

      // graphfold query: readable lines by default, the API's JSON with --json, one graphfold: line when it fails.
      const url = running.query?.url as string;
      const cli = await runCli(['query', 'atom', first, entity, '--url', url]);
      expect(cli).toMatchObject({ code: 0, stderr: '' });
      expect(cli.stdout).toMatch(new RegExp(`^entity +Person +${entity}`));
      const json = await runCli(['query', 'tx', first, 'refused', '--url', url, '--json']);
      expect(JSON.parse(json.stdout)).toMatchObject({ status: 'rejected', rejection: { code: 'NOT_FOUND' } });
      expect((await runCli(['query', 'tx', first, 'refused', '--url', url])).stdout).toContain('rejected NOT_FOUND at instruction 0');
      expect(await runCli(['query', 'atom', first, 'not-a-uid', '--url', url])).toMatchObject({ code: 1, stdout: '', stderr: expect.stringMatching(/^graphfold: uid must match pattern .*\n$/) });
      expect(await runCli(['query', 'graph', first, '--url', 'http://127.0.0.1:9'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/^graphfold: cannot reach the query API at http:\/\/127.0.0.1:9: .*\n$/) });

      const listed = await client.get('/v1/graphs', { limit: 100 });
      expect((listed.body['graphs'] as { graph: string }[]).map((g) => g.graph).sort()).toEqual([...graphs].sort());
    } finally {
      await producer.disconnect();
      await running.stop();
      await running.done;
    }
  }, 300_000);
});
