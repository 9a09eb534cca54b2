import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Uid, Value } from '../../../processors/engine/model';
import { registerPage } from '../../../processors/page/assets';
import { QueryClient } from '../../../processors/query/client';
import { backendOps } from '../../../processors/query/ops-endpoints';
import { QueryServer } from '../../../processors/query/server';
import { Secret } from '../../../processors/runtime/secret';
import type { QuerySpec } from '../../../processors/runtime/topology';
import { foldDemoGraph } from '../../support/demo-store';
import { modelSubgraph, normalised, type Field } from '../../support/model-subgraph';
import type { ReferenceGraph } from '../../support/reference-model';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

/**
 * The explore routes the live page reads through (subgraph, search, types, rejections), over a
 * real store holding the demo's CRM graph, against the reference model at slices across its
 * history; and the page's files, served without the token the API needs.
 */
const spec: QuerySpec = { host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 5_000, maxStreams: 3, maxWaitMs: 30_000, requestTimeoutMs: 20_000 };

describe('the explore routes, over the demo graph in a real store', () => {
  let temp: TempStore;
  let server: QueryServer;
  let client: QueryClient;
  let graph: string;
  let model: ReferenceGraph;
  let refused: readonly string[];

  const ofType = (type: string, s: number): Uid[] => model.atomsOfType(type, s);
  const firstDeal = (): Uid => ofType('Deal', model.head)[0] as Uid;

  beforeAll(async () => {
    temp = await openTempStore();
    ({ graph, model, refused } = await foldDemoGraph(temp));
    server = await QueryServer.listen(spec, backendOps);
    server.serve(new StoreBackend('test-instance', temp.store, { maxHops: 4, maxLimit: 5_000 }));
    client = new QueryClient(server.url);
  }, 60_000);

  afterAll(async () => {
    await server.close();
    await temp.close();
  });

  test('the demo graph has deals, people who changed jobs, a terminated person and rejections', () => {
    expect(model.head).toBeGreaterThan(40);
    expect(ofType('Deal', model.head)).toHaveLength(8);
    expect([...model.lifetimes.values()].filter((l) => l.type === 'Person' && l.terminated !== undefined)).toHaveLength(1);
    expect(refused.length).toBeGreaterThanOrEqual(6);
  });

  test('subgraph: a neighbourhood as of slices across the history is what the reference model draws, attribute values as fields', async () => {
    const person = ofType('Person', model.head)[0] as Uid;
    for (const seed of [firstDeal(), person]) {
      const created = model.lifetimes.get(seed)?.created as number;
      const slices = [...new Set([created, created + 1, Math.floor((created + model.head) / 2), model.head - 1, model.head])];
      for (const s of slices) {
        for (const hops of [0, 1, 2]) {
          const answer = await client.get(`/v1/graphs/${graph}/subgraph`, { from: seed, hops, asOf: s });
          expect(answer.status).toBe(200);
          expect(answer.body).toMatchObject({ graph, slice: s, head: model.head, seeds: [seed], truncated: false });
          expect(normalised(answer.body)).toEqual(modelSubgraph(model, s, [seed], { hops }));
        }
      }
    }
  });

  test('subgraph: the atoms of a type; attributes as nodes; one relation type followed', async () => {
    const s = model.head;
    const people = await client.get(`/v1/graphs/${graph}/subgraph`, { type: 'Person', hops: 0 });
    expect(people.status).toBe(200);
    expect(normalised(people.body)).toEqual(modelSubgraph(model, s, ofType('Person', s), { hops: 0 }));
    expect((people.body['edges'] as { type: string }[]).every((e) => e.type === 'Knows')).toBe(true);

    const asNodes = await client.get(`/v1/graphs/${graph}/subgraph`, { from: firstDeal(), hops: 1, attributes: 'nodes' });
    expect(normalised(asNodes.body)).toEqual(modelSubgraph(model, s, [firstDeal()], { hops: 1, attributes: 'nodes' }));
    expect((asNodes.body['nodes'] as { kind: string }[]).some((n) => n.kind === 'attribute')).toBe(true);

    const person = ofType('Person', s)[1] as Uid;
    const jobs = await client.get(`/v1/graphs/${graph}/subgraph`, { from: person, hops: 2, follow: 'WorksAt' });
    expect(normalised(jobs.body)).toEqual(modelSubgraph(model, s, [person], { hops: 2, follow: 'WorksAt' }));
    // A job's level is a field of the WorksAt edge (an attribute on a relation).
    expect((jobs.body['edges'] as { fields: Field[] }[]).some((e) => e.fields.some((f) => f.type === 'Level'))).toBe(true);
  });

  test('subgraph: limit truncates; a start atom that did not exist then is 404 naming from; bad parameters are 400', async () => {
    const truncated = await client.get(`/v1/graphs/${graph}/subgraph`, { type: 'Person', hops: 1, limit: 4 });
    expect(truncated.body['truncated']).toBe(true);
    expect(truncated.body['nodes']).toHaveLength(4);

    const deal = firstDeal();
    const created = model.lifetimes.get(deal)?.created as number;
    const before = await client.get(`/v1/graphs/${graph}/subgraph`, { from: deal, asOf: created - 1 });
    expect(before.status).toBe(404);
    expect(before.body).toMatchObject({ error: 'not_found', parameter: 'from', created });
    expect(String(before.body['message'])).toContain(`created at slice ${created}`);

    expect((await client.get(`/v1/graphs/${graph}/subgraph`, {})).body).toMatchObject({ error: 'bad_parameter', parameter: 'from' });
    expect((await client.get(`/v1/graphs/${graph}/subgraph`, { from: deal, type: 'Person' })).body).toMatchObject({ error: 'bad_parameter', parameter: 'type' });
    expect((await client.get(`/v1/graphs/${graph}/subgraph`, { from: 'not-a-uid' })).body).toMatchObject({ error: 'bad_parameter', parameter: 'from' });
    expect((await client.get(`/v1/graphs/${graph}/subgraph`, { from: deal, hops: 5 })).body).toMatchObject({ error: 'bad_parameter', parameter: 'hops' });
    expect((await client.get('/v1/graphs/nobody/subgraph', { from: deal })).status).toBe(404);
  });

  test('search: the holders of attribute values that read like the text, as of a slice, filtered by field and holder type', async () => {
    const expected = (s: number, text: string, field?: string, type?: string) => {
      const at = model.slices[s] as ReadonlyMap<Uid, { kind: string; type: string; value?: Value }>;
      const found: { holder: Uid; field: Uid }[] = [];
      for (const [uid, atom] of [...at].sort(([a], [b]) => (a < b ? -1 : 1))) {
        if (atom.kind !== 'attribute' || atom.value === undefined) continue;
        const v = atom.value;
        const texts = v.type === 'Quantity' ? [String(v.value), `${v.value} ${v.unit}`] : v.type === 'Time' ? [String(v.value)] : [String(v.value)];
        if (!texts.some((t) => t.toLowerCase().includes(text.toLowerCase()))) continue;
        for (const r of model.relationsAt(uid, 'in', s)) {
          if (field !== undefined && r.type !== field) continue;
          if (type !== undefined && at.get(r.other)?.type !== type) continue;
          found.push({ holder: r.other, field: r.uid });
        }
      }
      return found;
    };
    const got = (body: Record<string, unknown>) => (body['matches'] as { atom: { uid: Uid }; field: { uid: Uid } }[]).map((m) => ({ holder: m.atom.uid, field: m.field.uid }));

    const lovelace = await client.get(`/v1/graphs/${graph}/search`, { value: 'LOVELACE' });
    expect(lovelace.status).toBe(200);
    expect(lovelace.body['complete']).toBe(true);
    expect(got(lovelace.body)).toEqual(expected(model.head, 'lovelace'));

    for (const s of [Math.floor(model.head / 3), model.head]) {
      const won = await client.get(`/v1/graphs/${graph}/search`, { value: 'won', field: 'Stage', asOf: s });
      expect(got(won.body)).toEqual(expected(s, 'won', 'Stage'));
    }
    expect(got((await client.get(`/v1/graphs/${graph}/search`, { value: 'deal', type: 'Deal' })).body)).toEqual(expected(model.head, 'deal', undefined, 'Deal'));
    expect(got((await client.get(`/v1/graphs/${graph}/search`, { value: 'EUR' })).body)).toEqual(expected(model.head, 'eur'));

    const few = await client.get(`/v1/graphs/${graph}/search`, { value: 'example', limit: 2 });
    expect(few.body['matches']).toHaveLength(2);
    expect(few.body['complete']).toBe(false);
    expect((await client.get(`/v1/graphs/${graph}/search`, {})).body).toMatchObject({ error: 'bad_parameter', parameter: 'value' });
  });

  test('types: each entity, relation and value type with its count, as of a slice', async () => {
    for (const s of [1, Math.floor(model.head / 2), model.head]) {
      const answer = await client.get(`/v1/graphs/${graph}/types`, { asOf: s });
      const counts = new Map<string, number>();
      for (const atom of (model.slices[s] as ReadonlyMap<Uid, { kind: string; type: string }>).values()) counts.set(`${atom.kind} ${atom.type}`, (counts.get(`${atom.kind} ${atom.type}`) ?? 0) + 1);
      const listed = (answer.body['types'] as { kind: string; type: string; count: number }[]).map((t) => [`${t.kind} ${t.type}`, t.count]);
      expect(new Map(listed as [string, number][])).toEqual(counts);
      expect(answer.body['complete']).toBe(true);
    }
  });

  test('rejections: the refused transactions, newest first, with code, reason and origin; an unknown graph is 404', async () => {
    const answer = await client.get(`/v1/graphs/${graph}/rejections`);
    expect(answer.status).toBe(200);
    const listed = answer.body['rejections'] as { txId: string; code: string; message: string; source: { offset: number } }[];
    expect(listed.map((r) => r.txId)).toEqual([...refused].reverse());
    expect(new Set(listed.map((r) => r.code))).toEqual(new Set(['SCHEMA_VIOLATION', 'TYPE_MISMATCH', 'NOT_FOUND', 'STALE_SLICE']));
    expect(listed.every((r) => r.message.length > 0 && r.source.offset > 0)).toBe(true);
    expect((await client.get(`/v1/graphs/${graph}/rejections`, { limit: 2 })).body['rejections']).toHaveLength(2);
    expect((await client.get('/v1/graphs/nobody/rejections')).status).toBe(404);
  });

  test('the OpenAPI document has the explore routes; the page is not in it', async () => {
    const doc = (await client.get('/v1/openapi.json')).body as { paths: Record<string, unknown> };
    for (const route of ['subgraph', 'search', 'types', 'rejections']) expect(Object.keys(doc.paths)).toContain(`/v1/graphs/{graph}/${route}`);
    expect(Object.keys(doc.paths)).not.toContain('/');
  });
});

describe('the page files', () => {
  const apps: ReturnType<typeof Fastify>[] = [];
  const serve = async (dir: string): Promise<string> => {
    const app = Fastify();
    apps.push(app);
    await registerPage(app, dir);
    return app.listen({ host: '127.0.0.1', port: 0 });
  };

  test('served at / and /page/<file> with a content security policy; without a build, / says how to build it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-page-'));
    try {
      await writeFile(join(dir, 'index.html'), '<!doctype html><title>graphfold</title>');
      await writeFile(join(dir, 'page.js'), 'void 0;');
      const base = await serve(dir);
      const index = await fetch(`${base}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(index.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await index.text()).toContain('<title>graphfold</title>');
      expect((await fetch(`${base}/page/page.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect((await fetch(`${base}/page/page.css`)).status).toBe(404);
      expect((await fetch(`${base}/page/%2e%2e/package.json`)).status).toBe(404);

      const unbuilt = await serve(join(dir, 'missing'));
      const answer = await fetch(`${unbuilt}/`);
      expect(answer.status).toBe(404);
      expect(await answer.json()).toMatchObject({ error: 'not_found', message: expect.stringContaining('npm run build') });
    } finally {
      await Promise.all(apps.map((app) => app.close()));
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('need no token where the API does', async () => {
    const server = await QueryServer.listen({ ...spec, token: new Secret('secret-token') }, backendOps);
    try {
      for (const path of ['/', '/page/page.js', '/page/page.css']) expect((await fetch(`${server.url}${path}`)).status).not.toBe(401);
      expect((await fetch(`${server.url}/page/other.js`)).status).toBe(401);
      expect((await fetch(`${server.url}/v1/graphs/g/subgraph?from=${'0'.repeat(32)}`)).status).toBe(401);
    } finally {
      await server.close();
    }
  });
});
