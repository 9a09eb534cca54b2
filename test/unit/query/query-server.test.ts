import fc from 'fast-check';
import type { FoldOptions } from '../../../processors/engine/fold';
import type { Change, GraphTransaction, Uid, Value } from '../../../processors/engine/model';
import { QueryClient, type ChangeEvent } from '../../../processors/query/client';
import { backendOps } from '../../../processors/query/ops-endpoints';
import { QueryServer } from '../../../processors/query/server';
import { Secret } from '../../../processors/runtime/secret';
import type { QuerySpec } from '../../../processors/runtime/topology';
import { canonical } from '../../support/canonical';
import { foldInto } from '../../support/fold-loop';
import { workload } from '../../bench/workload';
import { aTransaction, Concretizer } from '../../support/random-transactions';
import { ReferenceGraph, type ModelAtom } from '../../support/reference-model';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

/**
 * The query server over a real store (no broker: a test backend serves the store as partition 0
 * of processor `graphs`), against the reference model: every read endpoint at every slice of a
 * random workload (terminated atoms, relations on relations, spilled hubs: the small layout
 * spills past two relations), as of a slice and as of a time; the transactions endpoint;
 * read-your-writes waits; the changes stream; bad input; the token.
 */
const graph = 'g';
const spec: QuerySpec = { host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 500, maxStreams: 3, maxWaitMs: 30_000, requestTimeoutMs: 20_000 };
const options = (offset: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime: 1_700_000_000_000_000 + (offset % 7) * 1_000_000, maxInstructions: 20 });

/** The JSON form of a model value, as the API writes it. */
function json(value: Value | undefined): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)));
}

function modelAtomJson(atom: ModelAtom): Record<string, unknown> {
  return { uid: atom.uid, kind: atom.kind, type: atom.type, created: atom.created, ...(atom.source === undefined ? {} : { source: atom.source, target: atom.target }), ...(atom.value === undefined ? {} : { value: json(atom.value) }) };
}

function withoutTerminated(atom: Record<string, unknown>): Record<string, unknown> {
  const { terminated: _terminated, ...rest } = atom;
  return rest;
}

function modelNeighbourhood(model: ReferenceGraph, start: Uid, hops: number, s: number): Map<Uid, number> {
  const reached = new Map<Uid, number>([[start, 0]]);
  let frontier = [start];
  for (let hop = 1; hop <= hops; hop += 1) {
    const next: Uid[] = [];
    for (const uid of frontier) {
      for (const edge of [...model.relationsAt(uid, 'out', s), ...model.relationsAt(uid, 'in', s)]) {
        if (reached.has(edge.other)) continue;
        reached.set(edge.other, hop);
        next.push(edge.other);
      }
    }
    frontier = next;
  }
  return reached;
}

describe('the query server, against the reference model', () => {
  let temp: TempStore;
  let server: QueryServer;
  let backend: StoreBackend;
  let client: QueryClient;
  const model = new ReferenceGraph(graph, undefined, 20);
  const sliceTxIds: string[] = [''];
  const outcomes = new Map<string, string>();
  let offset = 0;

  const fold = async (tx: GraphTransaction): Promise<void> => {
    const expected = model.apply(tx, options(offset).recordTime);
    const result = await foldInto(temp.store, tx, options(offset));
    expect(result.outcome).toBe(expected.outcome);
    if (result.outcome === 'applied') sliceTxIds.push(tx.txId);
    if (result.outcome === 'refused') {
      const { error } = result;
      temp.store.stageRejection(graph, { txId: tx.txId, code: error.code, message: error.message, ...(error.instructionIndex === undefined ? {} : { instructionIndex: error.instructionIndex }), source: options(offset).source, head: error.context.slice ?? 0, time: 0 });
    }
    if (!outcomes.has(tx.txId) || result.outcome === 'applied' || result.outcome === 'unchanged') outcomes.set(tx.txId, result.outcome);
    offset += 1;
  };

  beforeAll(async () => {
    temp = await openTempStore();
    // A CRM workload (people, companies, jobs, acquaintances, terminations), with random
    // transactions mixed in (relations on relations, no-ops, every kind of refusal).
    const crm = workload({ seed: 3, graphs: 1, peoplePerGraph: 30 });
    const concretizer = new Concretizer(model);
    const random = fc.sample(aTransaction, { seed: 9, numRuns: 200 });
    for (let i = 0; i < 400; i += 1) {
      if (i % 2 === 1) await fold(concretizer.next(random[(i - 1) / 2] as (typeof random)[number]));
      else await fold({ ...(crm.next().value as GraphTransaction), graph });
      if (offset % 5 === 0) await temp.store.commit({});
    }
    await temp.store.commit({});
    backend = new StoreBackend('test-instance', temp.store, { maxHops: 4, maxLimit: 500 });
    server = await QueryServer.listen(spec, backendOps);
    server.serve(backend);
    client = new QueryClient(server.url);
  }, 60_000);

  afterAll(async () => {
    await server.close();
    await temp.close();
  });

  test('the workload exercises terminations, relations on relations, hubs and rejections', () => {
    const lifetimes = [...model.lifetimes.values()];
    expect(model.head).toBeGreaterThan(150);
    expect(lifetimes.some((l) => l.terminated !== undefined)).toBe(true);
    const relations = model.slices[model.head] as ReadonlyMap<Uid, ModelAtom>;
    expect([...relations.values()].some((a) => a.kind === 'relation' && relations.get(a.source as Uid)?.kind === 'relation')).toBe(true);
    expect([...outcomes.values()]).toContain('refused');
    expect(Math.max(...[...model.lifetimes.keys()].map((uid) => model.relationsAt(uid, 'out', model.head).length + model.relationsAt(uid, 'in', model.head).length))).toBeGreaterThan(2);
  });

  test('atoms, relations and neighbourhoods at slices across the history, as of the slice and as of its time', async () => {
    const uids = [...model.lifetimes.keys()];
    const slices = [...new Set([0, 1, 2, ...Array.from({ length: 12 }, (_, i) => Math.floor(((i + 1) * model.head) / 13)), model.head - 1, model.head])];
    for (const s of slices) {
      const time = model.times[s] as number;
      for (const uid of uids) {
        const want = model.atomAt(uid, s);
        const asOf = s % 3 === 0 && s > 0 ? { asOfTime: time } : { asOf: s };
        const expectedSlice = 'asOfTime' in asOf ? model.sliceAt(time) : s;
        const answer = await client.get(`/v1/graphs/${graph}/atoms/${uid}`, asOf);
        if (model.atomAt(uid, expectedSlice) === undefined) {
          expect(answer.status).toBe(expectedSlice === 0 ? 404 : 404);
          continue;
        }
        expect(answer.status).toBe(200);
        expect(answer.body['slice']).toBe(expectedSlice);
        expect(answer.body['head']).toBe(model.head);
        expect(answer.servedBy).toBe(server.instance);
        if (expectedSlice !== s) continue;
        expect(canonical(withoutTerminated(answer.body['atom'] as Record<string, unknown>))).toBe(canonical(modelAtomJson(want as ModelAtom)));
        const terminated = model.lifetimes.get(uid)?.terminated;
        expect((answer.body['atom'] as Record<string, unknown>)['terminated']).toBe(terminated);

        const relations = await client.get(`/v1/graphs/${graph}/atoms/${uid}/relations`, { asOf: s, direction: 'both' });
        expect(relations.status).toBe(200);
        const got = (relations.body['relations'] as { relation: { uid: string; type: string }; direction: string; other: { uid: string } }[]).map((r) => ({ uid: r.relation.uid, type: r.relation.type, other: r.other.uid, direction: r.direction }));
        const expected = [...model.relationsAt(uid, 'out', s).map((r) => ({ ...r, direction: 'out' })), ...model.relationsAt(uid, 'in', s).map((r) => ({ ...r, direction: 'in' }))];
        expect(canonical(got)).toBe(canonical(expected));

        if (s === model.head || s % 4 === 0) {
          const hood = await client.get(`/v1/graphs/${graph}/neighbourhood`, { asOf: s, from: uid, hops: 2 });
          expect(hood.status).toBe(200);
          const reached = new Map((hood.body['atoms'] as { uid: string; distance: number }[]).map((a) => [a.uid, a.distance]));
          expect(canonical([...reached].sort())).toBe(canonical([...modelNeighbourhood(model, uid, 2, s)].sort()));
        }
      }
    }
  }, 120_000);

  test('atoms of a type, paged with a cursor that stays on the first page\'s slice', async () => {
    for (const type of ['Person', 'Company', 'Knows', 'WorksAt', 'name']) {
      for (const s of [1, Math.floor(model.head / 2), model.head]) {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await client.get(`/v1/graphs/${graph}/atoms`, { type, asOf: s, limit: 2, cursor });
          expect(page.status).toBe(200);
          expect(page.body['slice']).toBe(s);
          for (const atom of page.body['atoms'] as { uid: string; type: string }[]) {
            expect(atom.type).toBe(type);
            seen.push(atom.uid);
          }
          cursor = (page.body['next'] as string | null) ?? undefined;
        } while (cursor !== undefined);
        expect(seen.sort()).toEqual(model.atomsOfType(type, s));
      }
    }
    const every: string[] = [];
    for (let cursor: string | undefined, first = true; first || cursor !== undefined; first = false) {
      const page = await client.get(`/v1/graphs/${graph}/atoms`, { limit: 500, cursor });
      every.push(...(page.body['atoms'] as { uid: string }[]).map((a) => a.uid));
      cursor = (page.body['next'] as string | null) ?? undefined;
    }
    expect(every).toEqual([...(model.slices[model.head] as ReadonlyMap<string, unknown>).keys()].sort());
  });

  test('diff(from, to) applied to slice from gives slice to; the slice log names each slice\'s txId and time', async () => {
    for (const [from, to] of [[0, model.head], [3, 17], [10, 10], [Math.floor(model.head / 2), model.head]] as const) {
      const answer = await client.get(`/v1/graphs/${graph}/diff`, { from, to });
      expect(answer.status).toBe(200);
      const state = new Map([...(model.slices[from] as ReadonlyMap<Uid, ModelAtom>)].map(([uid, atom]) => [uid, modelAtomJson(atom)]));
      for (const change of answer.body['changes'] as (Change & { value?: unknown })[]) {
        if (change.op === 'Created') state.set(change.uid, { uid: change.uid, kind: change.kind, type: change.type, created: -1, ...(change.source === undefined ? {} : { source: change.source, target: change.target }) });
        if (change.op === 'Assigned') state.set(change.uid, { ...(state.get(change.uid) as Record<string, unknown>), value: change.value });
        if (change.op === 'Terminated') state.delete(change.uid);
      }
      const byUid = (a: Record<string, unknown>, b: Record<string, unknown>): number => (String(a['uid']) < String(b['uid']) ? -1 : 1);
      const want: Record<string, unknown>[] = [...(model.slices[to] as ReadonlyMap<Uid, ModelAtom>).values()].map((a) => ({ ...modelAtomJson(a), created: undefined }));
      expect(canonical([...state.values()].map((a) => ({ ...a, created: undefined })).sort(byUid))).toBe(canonical(want.sort(byUid)));
    }
    const slices: { slice: number; txId: string; time: number }[] = [];
    for (let from: number | null = 1; from !== null; ) {
      const page = await client.get(`/v1/graphs/${graph}/slices`, { from, limit: 7 });
      expect(page.status).toBe(200);
      slices.push(...(page.body['slices'] as { slice: number; txId: string; time: number }[]));
      from = page.body['next'] as number | null;
    }
    expect(slices.map((s) => s.txId)).toEqual(sliceTxIds.slice(1));
    expect(slices.map((s) => s.time)).toEqual(model.times.slice(1));
  });

  test('a shortest path is as long as the model\'s, and every step is a relation alive at the slice', async () => {
    const s = model.head;
    const alive = [...(model.slices[s] as ReadonlyMap<Uid, ModelAtom>).keys()];
    let found = 0;
    for (let i = 0; i < 60; i += 1) {
      const from = alive[(i * 7) % alive.length] as Uid;
      const near = [...modelNeighbourhood(model, from, 3, s).keys()];
      const to = (i % 2 === 0 && near.length > 1 ? near[(i * 5) % near.length] : alive[(i * 13 + 5) % alive.length]) as Uid;
      const answer = await client.get(`/v1/graphs/${graph}/paths`, { from, to, maxHops: 4 });
      expect(answer.status).toBe(200);
      const distance = modelNeighbourhood(model, from, 4, s).get(to);
      const path = answer.body['path'] as { relation: { uid: string }; direction: string; atom: string }[] | null;
      if (distance === undefined) {
        expect(path).toBeNull();
        continue;
      }
      found += 1;
      expect(path?.length).toBe(distance);
      let at = from;
      for (const step of path ?? []) {
        const relation = model.atomAt(step.relation.uid, s) as ModelAtom;
        expect(step.direction === 'out' ? [relation.source, relation.target] : [relation.target, relation.source]).toEqual([at, step.atom]);
        at = step.atom;
      }
      expect(at).toBe(to);
    }
    expect(found).toBeGreaterThan(10);
  });

  test('transactions: applied with its slice, skipped (a no-op), rejected with its code, unknown', async () => {
    const statuses = new Set<string>();
    for (const [txId, outcome] of outcomes) {
      const answer = await client.get(`/v1/graphs/${graph}/transactions/${encodeURIComponent(txId)}`);
      expect(answer.status).toBe(200);
      const want = outcome === 'applied' ? 'applied' : outcome === 'unchanged' ? 'skipped' : 'rejected';
      expect(answer.body['status']).toBe(want);
      statuses.add(want);
      if (want === 'applied') expect(answer.body['appliedSlice']).toBe(model.sliceOfTx(txId));
      if (want === 'rejected') expect(typeof (answer.body['rejection'] as { code: string }).code).toBe('string');
    }
    expect([...statuses].sort()).toEqual(['applied', 'rejected', 'skipped']);
    const unknown = await client.get(`/v1/graphs/${graph}/transactions/never-sent`);
    expect(unknown.body['status']).toBe('unknown');
    expect((await client.get('/v1/graphs/no-such-graph/transactions/x')).body['status']).toBe('unknown');
  });

  test('bad input is a 400 naming the parameter, an unknown graph or atom a 404, never a stack trace', async () => {
    const cases: [string, Record<string, string | number>, number, string | undefined][] = [
      [`/v1/graphs/${graph}/atoms/NOT-A-UID`, {}, 400, 'uid'],
      [`/v1/graphs/${graph}/atoms/${'0'.repeat(32)}`, {}, 404, 'uid'],
      [`/v1/graphs/${graph}`, { asOf: model.head + 1 }, 400, 'asOf'],
      [`/v1/graphs/${graph}`, { asOf: -1 }, 400, 'asOf'],
      [`/v1/graphs/${graph}`, { asOf: 'x' }, 400, 'asOf'],
      [`/v1/graphs/${graph}`, { asOf: 1, asOfTime: 5 }, 400, 'asOfTime'],
      [`/v1/graphs/${graph}`, { asOfTime: 'yesterday' }, 400, 'asOfTime'],
      [`/v1/graphs/${graph}`, { bogus: 1 }, 400, 'bogus'],
      [`/v1/graphs/${graph}/neighbourhood`, { from: '0'.repeat(32), hops: 9 }, 400, 'hops'],
      [`/v1/graphs/${graph}/neighbourhood`, { hops: 1 }, 400, 'from'],
      [`/v1/graphs/${graph}/atoms`, { limit: 0 }, 400, 'limit'],
      [`/v1/graphs/${graph}/atoms`, { limit: 501 }, 400, 'limit'],
      [`/v1/graphs/${graph}/atoms`, { cursor: 'AAAA' }, 400, 'cursor'],
      [`/v1/graphs/${graph}/diff`, { from: 5, to: 2 }, 400, 'from'],
      [`/v1/graphs/${graph}/diff`, { from: 0, to: model.head + 1 }, 400, 'to'],
      [`/v1/graphs/${graph}`, { waitForSlice: 1, wait: '31s' }, 400, 'wait'],
      [`/v1/graphs/${graph}`, { wait: '1s' }, 400, 'wait'],
      [`/v1/graphs/${graph}`, { processor: 'nope' }, 400, 'processor'],
      ['/v1/graphs/unknown-graph', {}, 404, undefined],
      ['/v1/nothing-here', {}, 404, undefined],
    ];
    for (const [path, params, status, parameter] of cases) {
      const answer = await client.get(path, params);
      expect({ path, params, status: answer.status }).toEqual({ path, params, status });
      expect(typeof answer.body['message']).toBe('string');
      if (parameter !== undefined) expect({ path, parameter: answer.body['parameter'] }).toEqual({ path, parameter });
      expect(JSON.stringify(answer.body)).not.toMatch(/\n\s+at |node_modules|\.ts:\d+/);
    }
    const openapi = await client.get('/v1/openapi.json');
    expect(openapi.body['openapi']).toBe('3.0.3');
    expect(Object.keys(openapi.body['paths'] as object)).toEqual(expect.arrayContaining(['/v1/graphs/{graph}/atoms/{uid}', '/v1/graphs/{graph}/changes', '/v1/graphs/{graph}/transactions/{txId}']));
  });

  test('read-your-writes: a wait for the next slice or a txId answers once it is written; a rejected txId is 409; a timeout 504', async () => {
    const head = model.head;
    const waiting = client.get(`/v1/graphs/${graph}/atoms`, { waitForSlice: head + 1, wait: '10s', limit: 1 });
    const waitingTx = client.get(`/v1/graphs/${graph}`, { waitForTx: 'ryw-1', wait: '10s' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fold({ graph, txId: 'ryw-1', instructions: [{ op: 'CreateEntity', type: 'Person' }] });
    await temp.store.commit({});
    backend.written();
    const [answer, answerTx] = await Promise.all([waiting, waitingTx]);
    expect(answer.status).toBe(200);
    expect(answer.body['slice']).toBe(head + 1);
    expect(answerTx.status).toBe(200);
    expect(answerTx.body['slice']).toBe(head + 1);

    const rejected = client.get(`/v1/graphs/${graph}`, { waitForTx: 'ryw-2', wait: '10s' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await fold({ graph, txId: 'ryw-2', instructions: [{ op: 'Terminate', target: { uid: 'f'.repeat(32) } }] });
    await temp.store.commit({});
    backend.written();
    const refused = await rejected;
    expect(refused.status).toBe(409);
    expect(refused.body['status']).toBe('rejected');
    expect((refused.body['rejection'] as { code: string }).code).toBe('NOT_FOUND');

    const started = Date.now();
    const late = await client.get(`/v1/graphs/${graph}`, { waitForSlice: model.head + 5, wait: '300ms' });
    expect(late.status).toBe(504);
    expect(late.body['error']).toBe('timeout');
    expect(late.body['slice']).toBe(model.head);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
  });

  test('changes: the diffs from a slice on, in order, with id = slice; a resume with Last-Event-ID gets the rest once; a snapshot first without a start', async () => {
    const controller = new AbortController();
    const events: ChangeEvent[] = [];
    let stopAt = model.head + 1;
    const following = client.follow(graph, { fromSlice: 1, signal: controller.signal, onEvent: (e) => (events.push(e), e.id !== stopAt) });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await fold({ graph, txId: 'sse-1', instructions: [{ op: 'CreateEntity', type: 'Company' }] });
    await temp.store.commit({});
    backend.written();
    await following;
    expect(events.map((e) => e.id)).toEqual(Array.from({ length: model.head }, (_, i) => i + 1));
    expect(events.every((e) => e.event === 'diff')).toBe(true);
    expect((events.at(-1)?.data as { txId: string }).txId).toBe('sse-1');

    const resumed: ChangeEvent[] = [];
    stopAt = model.head;
    await client.follow(graph, { fromSlice: model.head - 2, signal: controller.signal, onEvent: (e) => (resumed.push(e), e.id !== stopAt) });
    expect(resumed.map((e) => e.id)).toEqual([model.head - 2, model.head - 1, model.head]);

    const snapshot: ChangeEvent[] = [];
    await client.follow(graph, { signal: controller.signal, onEvent: (e) => (snapshot.push(e), false) });
    expect(snapshot[0]?.event).toBe('snapshot');
    expect(snapshot[0]?.id).toBe(model.head);
    expect(((snapshot[0]?.data as { atoms: unknown[] }).atoms).length).toBe((model.slices[model.head] as ReadonlyMap<string, unknown>).size);
    controller.abort();
  });

  test('a token is needed for every route but the probes, and a wrong one is 401', async () => {
    const token = 'a-long-random-token-for-tests-0123456789';
    const secured = await QueryServer.listen({ ...spec, token: new Secret(token) }, backendOps);
    secured.serve(backend);
    try {
      const anonymous = new QueryClient(secured.url);
      expect((await anonymous.get(`/v1/graphs/${graph}`)).status).toBe(401);
      expect((await anonymous.get('/v1/openapi.json')).status).toBe(401);
      expect((await new QueryClient(secured.url, `${token}x`).get(`/v1/graphs/${graph}`)).status).toBe(401);
      expect((await new QueryClient(secured.url, token.slice(0, -1)).get(`/v1/graphs/${graph}`)).status).toBe(401);
      expect((await new QueryClient(secured.url, token).get(`/v1/graphs/${graph}`)).status).toBe(200);
      expect((await anonymous.get('/healthz')).status).toBe(200);
      expect((await anonymous.get('/readyz')).status).toBe(200);
      const metrics = await fetch(`${secured.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('graphfold_partitions{state="ready"} 1');
    } finally {
      await secured.close();
    }
  });
});
