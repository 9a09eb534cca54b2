import fastifySwagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { jsonReplacer } from '../codec/json';
import { RetriableError } from '../errors';
import { isPagePath, registerPage } from '../page/assets';
import type { QuerySpec } from '../runtime/topology';
import type { Location, QueryBackend } from './backend';
import { streamChanges } from './changes';
import { forward, forwardedByHeader, servedByHeader } from './forward';
import type { OpsEndpoints } from './ops-endpoints';
import { exploreRoutes } from './explore/routes';
import { badParameter, QueryError } from './query-error';
import type { AsOf, GraphReads, ReadAt, RelationDirection } from './reads';
import { routeSchemas } from './schemas';
import { BearerToken } from './token';
import { waitFor, type WaitTarget } from './waits';

/** What the server reports (the runtime logs it). */
export interface QueryServerEvents {
  /** A request failed with an error that is not a QueryError: a bug, answered 500. */
  readonly onError?: (error: Error, request: { readonly method: string; readonly url: string }) => void;
}

const probes = new Set(['/healthz', '/readyz', '/metrics']);
const defaultWaitMs = 5_000;

/** Query parameters as the route schemas let them through. */
interface ReadQuery {
  readonly processor?: string;
  readonly asOf?: number;
  readonly asOfTime?: string;
  readonly waitForSlice?: number;
  readonly waitForTx?: string;
  readonly wait?: string;
  readonly maxLagSlices?: number;
}

/**
 * The query API of one instance (HTTP, JSON; see README, "The query API"): reads of any graph as
 * of any slice or time, routed to the instance that owns the graph's partition, read-your-writes
 * waits, and server-sent changes. Listens first (so its address can be advertised to the group),
 * serves once the processors are running (`serve`); until then reads answer 503.
 */
export class QueryServer {
  private backend: QueryBackend | undefined;
  private streams = 0;
  private readonly token: BearerToken | undefined;
  private readonly ops: OpsEndpoints;

  /** The base URL others reach this instance at (known once listening). */
  private advertised = '';

  private constructor(
    private readonly app: FastifyInstance,
    private readonly spec: QuerySpec,
    ops: (backend: () => QueryBackend | undefined) => OpsEndpoints,
  ) {
    this.token = spec.token === undefined ? undefined : new BearerToken(spec.token);
    this.ops = ops(() => this.backend);
  }

  /** The base URL others reach this instance at. */
  get url(): string {
    return this.advertised;
  }

  /** The instance id this server names itself by: its advertised host and port. */
  get instance(): string {
    return new URL(this.advertised).host;
  }

  /** Binds `spec.host:spec.port` and answers probes and the OpenAPI document; reads wait for `serve`. */
  static async listen(spec: QuerySpec, ops: (backend: () => QueryBackend | undefined) => OpsEndpoints, events: QueryServerEvents = {}): Promise<QueryServer> {
    const app = Fastify({
      logger: false,
      ajv: { customOptions: { removeAdditional: false, coerceTypes: true, useDefaults: true, allErrors: false } },
      requestTimeout: spec.requestTimeoutMs,
      bodyLimit: 1024,
      routerOptions: { maxParamLength: 2048 },
      return503OnClosing: true,
      // Change streams stay open: closing ends them (their clients reconnect elsewhere) instead of waiting.
      forceCloseConnections: true,
    });
    const server = new QueryServer(app, spec, ops);
    await app.register(fastifySwagger, {
      openapi: {
        openapi: '3.0.3',
        info: { title: 'graphfold query API', version: '1', description: 'Reads of graphfold graphs as of any slice or time, routed to the instance that owns each graph, with read-your-writes waits and server-sent changes.' },
        components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
        ...(spec.token === undefined ? {} : { security: [{ bearer: [] }] }),
      },
    });
    app.setSerializerCompiler(() => (data) => JSON.stringify(data, jsonReplacer));
    app.addHook('onRequest', async (request, reply) => {
      reply.header(servedByHeader, server.instance);
      const path = request.url.split('?')[0] as string;
      if (probes.has(path) || isPagePath(path) || server.token === undefined) return;
      if (!server.token.accepts(request.headers.authorization)) {
        throw new QueryError('unauthorized', 'this server needs Authorization: Bearer <token> (the topology\'s query.token)');
      }
    });
    app.setErrorHandler((error: FastifyError | QueryError, request, reply) => server.fail(error, request, reply, events));
    app.setNotFoundHandler((request, reply) => {
      void reply.code(404).send({ error: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}; the routes are listed at /v1/openapi.json` });
    });
    server.routes();
    await registerPage(app);
    await app.listen({ host: spec.host, port: spec.port });
    const address = app.server.address();
    const port = typeof address === 'object' && address !== null ? address.port : spec.port;
    const host = spec.host.includes(':') ? `[${spec.host}]` : spec.host === '0.0.0.0' ? '127.0.0.1' : spec.host;
    server.advertised = spec.advertise ?? `http://${host}:${port}`;
    return server;
  }

  /** Starts answering reads from the processors behind `backend`. */
  serve(backend: QueryBackend): void {
    this.backend = backend;
  }

  /** The backend, once serving. */
  get serving(): QueryBackend | undefined {
    return this.backend;
  }

  /** Stops listening; open streams end. Idempotent. */
  async close(): Promise<void> {
    await this.app.close();
  }

  private routes(): void {
    const { app } = this;
    const schemas = routeSchemas(this.spec);
    const route = (url: string, schema: object, handler: (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>, streaming = false): void => {
      app.get(url, { schema: { ...schema, ...(this.spec.token === undefined ? {} : { security: [{ bearer: [] }] }) } }, streaming ? handler : (request, reply) => this.inTime(handler(request, reply)));
    };
    app.get('/healthz', { schema: { hide: true } }, async (_request, reply) => {
      const live = this.ops.live();
      return reply.code(live.ok ? 200 : 503).send(live);
    });
    app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
      const ready = this.ops.ready();
      return reply.code(ready.ok ? 200 : 503).send(ready);
    });
    app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
      const { contentType, body } = await this.ops.metrics();
      return reply.type(contentType).serializer((text: unknown) => String(text)).send(body);
    });
    app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());

    route('/v1/graphs', schemas.graphs, (request) => this.graphs(request));
    route('/v1/graphs/:graph', schemas.graph, (request, reply) =>
      this.read(request, reply, async (reads, location, at, graph) => {
        const info = await reads.graph(graph, at);
        return { ...info, processor: location.processor, partition: location.partition, owner: this.instance };
      }),
    );
    route('/v1/graphs/:graph/atoms/:uid', schemas.atom, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const { uid } = request.params as { uid: string };
        return { graph, slice: at.slice, head: at.head, ...(await reads.atom(graph, uid, at)) };
      }),
    );
    route('/v1/graphs/:graph/atoms', schemas.atoms, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const q = request.query as { type?: string; limit: number; cursor?: string };
        const page = await reads.atoms(graph, at, { limit: q.limit, ...(q.type === undefined ? {} : { type: q.type }), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
        return { graph, slice: page.slice, head: at.head, ...(q.type === undefined ? {} : { type: q.type }), atoms: page.atoms, next: page.next };
      }),
    );
    route('/v1/graphs/:graph/atoms/:uid/relations', schemas.relations, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const { uid } = request.params as { uid: string };
        const q = request.query as { direction: RelationDirection; type?: string; limit: number };
        const answer = await reads.relations(graph, uid, at, { direction: q.direction, limit: q.limit, ...(q.type === undefined ? {} : { type: q.type }) });
        return { graph, slice: at.slice, head: at.head, uid, ...answer };
      }),
    );
    route('/v1/graphs/:graph/neighbourhood', schemas.neighbourhood, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const q = request.query as { from: string; hops: number; direction: RelationDirection; type?: string; limit: number; details: boolean };
        const answer = await reads.neighbourhood(graph, q.from, at, { hops: q.hops, direction: q.direction, limit: q.limit, details: q.details, ...(q.type === undefined ? {} : { type: q.type }) });
        return { graph, slice: at.slice, head: at.head, from: q.from, hops: q.hops, ...answer };
      }),
    );
    route('/v1/graphs/:graph/paths', schemas.paths, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const q = request.query as { from: string; to: string; maxHops: number; direction: RelationDirection; type?: string };
        const answer = await reads.path(graph, q.from, q.to, at, { maxHops: q.maxHops, direction: q.direction, ...(q.type === undefined ? {} : { type: q.type }) });
        return { graph, slice: at.slice, head: at.head, from: q.from, to: q.to, ...answer };
      }),
    );
    route('/v1/graphs/:graph/diff', schemas.diff, (request, reply) =>
      this.read(request, reply, async (reads, _location, _at, graph) => {
        const q = request.query as { from: number; to: number };
        const answer = await reads.diff(graph, q.from, q.to);
        return { graph, slice: q.to, head: answer.head, from: q.from, to: q.to, changes: answer.changes };
      }),
    );
    route('/v1/graphs/:graph/slices', schemas.slices, (request, reply) =>
      this.read(request, reply, async (reads, _location, at, graph) => {
        const q = request.query as { from: number; to?: number; limit: number };
        const answer = await reads.slices(graph, { from: q.from, limit: q.limit, ...(q.to === undefined ? {} : { to: q.to }) });
        return { graph, slice: Math.min(q.to ?? answer.head, answer.head), head: answer.head, slices: answer.slices, next: answer.next };
      }),
    );
    route('/v1/graphs/:graph/transactions/:txId', schemas.transaction, (request, reply) =>
      this.read(
        request,
        reply,
        async (reads, _location, _at, graph) => {
          const { txId } = request.params as { txId: string };
          return reads.transaction(graph, txId);
        },
        { graphMayBeEmpty: true },
      ),
    );
    route('/v1/graphs/:graph/changes', schemas.changes, (request, reply) => this.changes(request, reply), true);
    for (const explore of exploreRoutes(this.spec)) {
      route(explore.url, explore.schema, (request, reply) =>
        this.read(request, reply, (reads, _location, at, graph) => explore.answer(reads, at, graph, request), { graphMayBeEmpty: explore.graphMayBeEmpty === true }),
      );
    }
  }

  /** The answer, or 503 once it takes longer than `requestTimeoutMs` (a wait is bounded shorter, and answers 504 itself). */
  private async inTime<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new QueryError('unavailable', `the answer took longer than ${this.spec.requestTimeoutMs} ms (query.requestTimeoutMs); ask again, or ask for less (a smaller limit or fewer hops)`, { retryAfterSeconds: 1 })), this.spec.requestTimeoutMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
      work.catch(() => undefined);
    }
  }

  /**
   * The frame of every graph read: find the graph's partition; forward to its owner, or answer
   * 503 while it restores; wait for a slice or txId if asked; resolve as of which slice; answer.
   */
  private async read(
    request: FastifyRequest,
    reply: FastifyReply,
    answer: (reads: GraphReads, location: Extract<Location, { where: 'local' }>, at: ReadAt, graph: string) => Promise<unknown>,
    options: { readonly graphMayBeEmpty?: boolean } = {},
  ): Promise<unknown> {
    const { graph } = request.params as { graph: string };
    const query = request.query as ReadQuery;
    const asOf = this.asOf(query);
    const wait = this.waitTarget(query);
    let location: Extract<Location, { where: 'local' | 'remote' }> = this.locate(query.processor, graph);
    if (location.where === 'remote') {
      try {
        await forward(request, reply, location, this.instance, this.spec.requestTimeoutMs);
        return reply;
      } catch (error) {
        // The owner does not answer (crashed, the group has not moved its partitions yet): this instance's standby replica does.
        if (!(error instanceof QueryError) || location.standby === undefined) throw error;
        location = location.standby;
      }
    }
    const viaStandby = location.standby !== undefined;
    this.refuseStale(location, query, graph);
    let waited: number | undefined;
    if (wait !== undefined) waited = await waitFor(this.backend as QueryBackend, location.processor, graph, wait.target, wait.timeoutMs, abortOnClose(request), viaStandby);
    const relocated = this.locate(query.processor, graph);
    const here = relocated.where === 'remote' && viaStandby ? relocated.standby : relocated;
    if (here?.where !== 'local') throw new QueryError('unavailable', `graph '${graph}' left this instance during the request; ask again`, { retryAfterSeconds: 1 });
    this.refuseStale(here, query, graph);
    let at: ReadAt;
    if (options.graphMayBeEmpty === true) at = { slice: 0, head: 0 };
    else if (asOf.asOf === undefined && asOf.asOfTime === undefined && waited !== undefined) at = { slice: waited, head: (await here.reads.at(graph, {})).head };
    else at = await here.reads.at(graph, asOf);
    const started = process.hrtime.bigint();
    const body = await answer(here.reads, here, at, graph);
    // The read's own time, so a client (and the benchmark) can tell it from the HTTP around it.
    void reply.header('server-timing', `read;dur=${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(3)}`);
    if (here.standby === undefined || body === null || typeof body !== 'object') return body;
    return { ...body, standby: { instance: this.instance, ...here.standby } };
  }

  /** A standby's answer that may be further behind than `maxLagSlices` is refused: 409 stale. */
  private refuseStale(location: Extract<Location, { where: 'local' }>, query: ReadQuery, graph: string): void {
    const lag = location.standby;
    if (lag === undefined || query.maxLagSlices === undefined || lag.lagSlices <= query.maxLagSlices) return;
    throw new QueryError('stale', `graph '${graph}' is served by a standby replica (partition ${location.partition} has no ready owner) that may be ${lag.lagSlices} slices behind, more than maxLagSlices=${query.maxLagSlices}; ask again shortly, or allow more lag`, {
      retryAfterSeconds: 1,
      body: { graph, partition: location.partition, standby: { instance: this.instance, ...lag } },
    });
  }

  /** Where a graph is, or the error that says why it cannot be read now. */
  private locate(processor: string | undefined, graph: string): Extract<Location, { where: 'local' | 'remote' }> {
    const backend = this.backend;
    if (backend === undefined) throw new QueryError('unavailable', 'the processors are starting; ask again shortly', { retryAfterSeconds: 2 });
    const name = processor ?? (backend.processors[0] as string);
    if (!backend.processors.includes(name)) throw badParameter('processor', `no processor '${processor}' in this topology (the processors: ${backend.processors.join(', ')})`);
    const location = backend.locate(name, graph);
    if (location === undefined) throw new QueryError('unavailable', `processor ${name} is starting; ask again shortly`, { retryAfterSeconds: 2 });
    if (location.where === 'restoring') {
      const progress = location.progress;
      const eta = progress?.etaSeconds ?? null;
      throw new QueryError('restoring', `graph '${graph}' is on partition ${location.partition} of processor ${name}, which this instance is restoring from its changelog; ask again in a few seconds`, {
        retryAfterSeconds: Math.max(1, Math.min(60, Math.ceil(eta ?? 2))),
        body: { graph, processor: name, partition: location.partition, restore: { records: progress?.records ?? 0, position: progress?.position ?? null, to: progress?.to ?? null, etaSeconds: eta } },
      });
    }
    if (location.where === 'unassigned') throw new QueryError('unavailable', `graph '${graph}' is on partition ${location.partition} of processor ${name}, which no instance serves now: ${location.why}; ask again`, { retryAfterSeconds: 2 });
    return location;
  }

  private asOf(query: ReadQuery): AsOf {
    if (query.asOf !== undefined && query.asOfTime !== undefined) throw badParameter('asOfTime', 'give asOf (a slice) or asOfTime (a time), not both');
    if (query.asOfTime === undefined) return query.asOf === undefined ? {} : { asOf: query.asOf };
    return { asOfTime: parseTime(query.asOfTime) };
  }

  private waitTarget(query: ReadQuery): { readonly target: WaitTarget; readonly timeoutMs: number } | undefined {
    if (query.waitForSlice !== undefined && query.waitForTx !== undefined) throw badParameter('waitForTx', 'give waitForSlice or waitForTx, not both');
    const timeoutMs = query.wait === undefined ? Math.min(defaultWaitMs, this.spec.maxWaitMs) : parseDuration(query.wait, this.spec.maxWaitMs);
    if (query.waitForSlice !== undefined) return { target: { slice: query.waitForSlice }, timeoutMs };
    if (query.waitForTx !== undefined) return { target: { txId: query.waitForTx }, timeoutMs };
    if (query.wait !== undefined) throw badParameter('wait', 'wait goes with waitForSlice or waitForTx');
    return undefined;
  }

  /** GET /v1/graphs: this instance's graphs, and (scope=cluster) every other instance's, merged by name. */
  private async graphs(request: FastifyRequest): Promise<unknown> {
    const q = request.query as { processor?: string; limit: number; cursor?: string; scope: 'cluster' | 'local' };
    const backend = this.backend;
    if (backend === undefined) throw new QueryError('unavailable', 'the processors are starting; ask again shortly', { retryAfterSeconds: 2 });
    const processor = q.processor ?? (backend.processors[0] as string);
    if (!backend.processors.includes(processor)) throw badParameter('processor', `no processor '${q.processor}' in this topology (the processors: ${backend.processors.join(', ')})`);
    const found = new Map<string, { graph: string; processor: string; partition: number; owner: string }>();
    for await (const { graph, partition } of backend.localGraphs(processor)) {
      if (q.cursor === undefined || graph > q.cursor) found.set(graph, { graph, processor, partition, owner: this.instance });
    }
    const incomplete: string[] = [];
    for (const p of backend.health()) if (p.processor === processor && p.state === 'restoring') incomplete.push(`partition ${p.partition} is restoring`);
    if (q.scope === 'cluster') {
      await Promise.all(
        backend.peers(processor).map(async (url) => {
          try {
            const params = new URLSearchParams({ processor, scope: 'local', limit: String(this.spec.maxLimit), ...(q.cursor === undefined ? {} : { cursor: q.cursor }) });
            const answer = await fetch(`${url}/v1/graphs?${params}`, { headers: { [forwardedByHeader]: this.instance, ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }) }, signal: AbortSignal.timeout(5_000) });
            if (!answer.ok) throw new Error(`HTTP ${answer.status}`);
            const body = (await answer.json()) as { graphs: { graph: string; processor: string; partition: number; owner: string }[]; incomplete?: string[] };
            for (const item of body.graphs) if (!found.has(item.graph)) found.set(item.graph, item);
            for (const why of body.incomplete ?? []) incomplete.push(`${url}: ${why}`);
          } catch (error) {
            incomplete.push(`${url} does not answer (${(error as Error).message})`);
          }
        }),
      );
    }
    const sorted = [...found.values()].sort((a, b) => (a.graph < b.graph ? -1 : a.graph > b.graph ? 1 : 0));
    const page = sorted.slice(0, q.limit);
    return { graphs: page, next: sorted.length > page.length ? (page[page.length - 1]?.graph ?? null) : null, ...(incomplete.length === 0 ? {} : { incomplete }) };
  }

  /** GET /v1/graphs/:graph/changes: server-sent events, forwarded to the owner when it is elsewhere. */
  private async changes(request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const { graph } = request.params as { graph: string };
    const q = request.query as { processor?: string; fromSlice?: number };
    const lastEventId = request.headers['last-event-id'];
    const location = this.locate(q.processor, graph);
    if (location.where === 'remote') {
      await forward(request, reply, location, this.instance, undefined);
      return reply;
    }
    if (location.standby !== undefined) {
      throw new QueryError('unavailable', `graph '${graph}' is on partition ${location.partition}, which has no ready owner now (a standby replica serves reads, not change streams); ask again shortly`, { retryAfterSeconds: 2 });
    }
    if (this.streams >= this.spec.maxStreams) {
      throw new QueryError('too_many_streams', `this instance serves ${this.spec.maxStreams} change streams already (query.maxStreams); ask again later, or through another instance`, { retryAfterSeconds: 5 });
    }
    const from = typeof lastEventId === 'string' ? Number(lastEventId) + 1 : q.fromSlice;
    this.streams += 1;
    reply.hijack();
    request.raw.setTimeout(0);
    try {
      await streamChanges(this.backend as QueryBackend, location.reads, { processor: location.processor, graph, partition: location.partition, from, servedBy: this.instance }, reply.raw);
    } finally {
      this.streams -= 1;
    }
    return reply;
  }

  /**
   * Answers an error: a QueryError or a validation error as itself; a retriable failure (the
   * partition's store closed under the read: it moved, or its task reopens) as 503 with
   * Retry-After; anything else as a bare 500 (and reported).
   */
  private fail(error: FastifyError | QueryError, request: FastifyRequest, reply: FastifyReply, events: QueryServerEvents): FastifyReply {
    if (error instanceof RetriableError) {
      return reply.code(503).header('retry-after', '1').send({ error: 'unavailable', message: 'the graph\'s partition could not be read just now (its store closed under the read: the partition moved, or its task reopens); ask again in a second' });
    }
    if (error instanceof QueryError) {
      if (error.details.retryAfterSeconds !== undefined) void reply.header('retry-after', String(error.details.retryAfterSeconds));
      return reply.code(error.status).send(error.toJSON());
    }
    const validation = (error as FastifyError).validation;
    if (validation !== undefined) {
      const issue = validation[0];
      const where = (error as FastifyError).validationContext ?? 'querystring';
      const params = (issue?.params ?? {}) as Record<string, unknown>;
      const name =
        (typeof params['additionalProperty'] === 'string' && params['additionalProperty']) ||
        (typeof params['missingProperty'] === 'string' && params['missingProperty']) ||
        (issue?.instancePath ?? '').replace(/^\//, '') ||
        where;
      const what = typeof params['additionalProperty'] === 'string' ? `unknown parameter '${name}'` : typeof params['missingProperty'] === 'string' ? `missing parameter '${name}'` : `${name} ${issue?.message ?? 'is not valid'}`;
      return reply.code(400).send({ error: 'bad_parameter', parameter: name, message: `${what} (see /v1/openapi.json for what each route takes)` });
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500) return reply.code(status).send({ error: 'bad_request', message: error.message });
    events.onError?.(error, { method: request.method, url: request.url });
    return reply.code(500).send({ error: 'internal', message: 'the server failed to answer (a bug in graphfold; the instance\'s log has the details)' });
  }
}

/** `500ms` or `5s`, at most `maxMs`. */
function parseDuration(text: string, maxMs: number): number {
  const match = /^([0-9]+)(ms|s)$/.exec(text);
  const ms = match === null ? Number.NaN : Number(match[1]) * (match[2] === 's' ? 1000 : 1);
  if (!(ms >= 0 && ms <= maxMs)) throw badParameter('wait', `wait is a duration up to ${maxMs} ms (query.maxWaitMs), e.g. 500ms or 5s; got '${text}'`);
  return ms;
}

/** RFC 3339, or microseconds since the epoch. */
function parseTime(text: string): number {
  if (/^[0-9]+$/.test(text)) return Number(text);
  const fraction = /\.([0-9]+)/.exec(text)?.[1] ?? '';
  const millis = Date.parse(text.replace(/\.([0-9]+)/, (m) => m.slice(0, 4)));
  if (!Number.isFinite(millis)) throw badParameter('asOfTime', `'${text}' is not an RFC 3339 time (e.g. 2026-12-01T09:30:00Z) or a count of microseconds`);
  const extraMicros = Number(fraction.slice(3, 6).padEnd(3, '0'));
  return millis * 1000 + (fraction.length > 3 ? extraMicros : 0);
}

function abortOnClose(request: FastifyRequest): AbortSignal {
  const controller = new AbortController();
  request.raw.once('close', () => controller.abort());
  return controller.signal;
}
