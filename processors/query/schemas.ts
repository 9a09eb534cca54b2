/**
 * The JSON schemas of the query API's parameters and answers. Fastify validates every request
 * against them (an unknown parameter is refused too) and @fastify/swagger turns them into the
 * OpenAPI 3 document at /v1/openapi.json, so what is checked and what is documented are one.
 */

/** Limits that shape the schemas (from the topology's query options). */
export interface SchemaLimits {
  readonly maxHops: number;
  readonly maxLimit: number;
}

const maxInteger = Number.MAX_SAFE_INTEGER;

export const uidPattern = '^[0-9a-f]{32}$';
const namePattern = '^[A-Za-z_][A-Za-z0-9_.:/-]*$';

const graphParameter = { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[^\\u0000]+$', description: 'the graph id (the Kafka key of its transactions)' } as const;
const uid = (description: string) => ({ type: 'string', pattern: uidPattern, description: `${description}: 32 lowercase hex characters` }) as const;
const slice = (description: string) => ({ type: 'integer', minimum: 0, maximum: maxInteger, description }) as const;

/** Parameters every read takes: as of which slice, which processor, and read-your-writes waits. */
const readParameters = {
  processor: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,249}$', description: 'the processor whose graph to read (default: the topology\'s first)' },
  asOf: slice('read as of this slice (default: the head)'),
  asOfTime: {
    type: 'string',
    maxLength: 40,
    pattern: '^([0-9]{1,16}|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2}))$',
    description: 'read as of the last slice stamped at or before this time: RFC 3339, or microseconds since the epoch',
  },
  waitForSlice: { type: 'integer', minimum: 1, maximum: maxInteger, description: 'hold the request until the graph has this slice, then read as of it (unless asOf says otherwise)' },
  waitForTx: { type: 'string', minLength: 1, maxLength: 1024, description: 'hold the request until this txId is applied (or skipped), then read as of its slice; 409 if it was rejected' },
  maxLagSlices: {
    type: 'integer',
    minimum: 0,
    maximum: maxInteger,
    description: 'when a standby replica answers (the owner is gone or restoring), refuse (409 stale) if it may be more than this many slices behind; the answer\'s standby field says how far it is',
  },
  wait: { type: 'string', pattern: '^[0-9]{1,6}(ms|s)$', description: 'how long to hold a waitForSlice or waitForTx request: e.g. 500ms or 5s (default 5s; at most query.maxWaitMs, 30s unless configured)' },
} as const;

const querystring = (properties: Record<string, unknown>, required: readonly string[] = []) => ({
  type: 'object',
  additionalProperties: false,
  properties: { ...readParameters, ...properties },
  ...(required.length === 0 ? {} : { required }),
});

const params = (properties: Record<string, unknown>) => ({ type: 'object', additionalProperties: false, required: Object.keys(properties), properties });

const value = {
  type: 'object',
  description: 'a value in the codec\'s JSON form: {type, value}; Int and Time beyond 2^53 as decimal strings, Bytes as base64, Enum with enum, Quantity with unit',
  required: ['type', 'value'],
  properties: { type: { type: 'string' }, value: {}, enum: { type: 'string' }, unit: { type: 'string' } },
} as const;

const atom = {
  type: 'object',
  required: ['uid', 'kind', 'type', 'created'],
  properties: {
    uid: { type: 'string' },
    kind: { type: 'string', enum: ['entity', 'attribute', 'relation'] },
    type: { type: 'string' },
    created: { type: 'integer' },
    terminated: { type: 'integer' },
    source: { type: 'string' },
    target: { type: 'string' },
    value,
  },
} as const;

const relationRef = { type: 'object', required: ['uid', 'type'], properties: { uid: { type: 'string' }, type: { type: 'string' } } } as const;
const source = { type: 'object', required: ['topic', 'partition', 'offset'], properties: { topic: { type: 'string' }, partition: { type: 'integer' }, offset: { type: 'integer' } } } as const;

const read = (properties: Record<string, unknown>, required: readonly string[] = []) => ({
  type: 'object',
  required: ['graph', 'slice', 'head', ...required],
  properties: {
    graph: { type: 'string' },
    slice: { type: 'integer' },
    head: { type: 'integer' },
    standby: {
      type: 'object',
      description: 'present when a standby replica answered: the changelog offset it reflects, and at most how many slices behind the owner it may be',
      required: ['instance', 'position', 'lagSlices'],
      properties: { instance: { type: 'string' }, position: { type: 'integer' }, lagSlices: { type: 'integer' } },
    },
    ...properties,
  },
});

const error = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string' }, message: { type: 'string' }, parameter: { type: 'string' } },
  additionalProperties: true,
} as const;

const errors = {
  400: { description: 'a bad parameter: `parameter` names it, `message` says what is allowed', ...error },
  401: { description: 'no or a wrong bearer token', ...error },
  404: { description: 'no such graph, atom or route', ...error },
  409: { description: 'waitForTx: the transaction was rejected (the body is the transactions answer)', type: 'object', additionalProperties: true },
  503: { description: 'the graph\'s partition is restoring (with Retry-After and the restore\'s progress), moving, or its owner does not answer', ...error },
  504: { description: 'waitForSlice/waitForTx: the graph did not get there in time; `slice` is the slice it reached', ...error },
} as const;

const transaction = read(
  {
    txId: { type: 'string' },
    status: { type: 'string', enum: ['applied', 'skipped', 'rejected', 'unknown'] },
    appliedSlice: { type: 'integer' },
    rejection: {
      type: 'object',
      required: ['code', 'message', 'source', 'head', 'time'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, instructionIndex: { type: 'integer' }, source, head: { type: 'integer' }, time: { type: 'integer' } },
    },
  },
  ['txId', 'status'],
);

const change = {
  type: 'object',
  required: ['op', 'uid'],
  properties: { op: { type: 'string', enum: ['Created', 'Assigned', 'Terminated'] }, uid: { type: 'string' } },
  additionalProperties: true,
} as const;

const direction = (description: string) => ({ type: 'string', enum: ['out', 'in', 'both'], default: 'both', description }) as const;
const typeFilter = { type: 'string', maxLength: 256, pattern: namePattern, description: 'only relations of this type' } as const;

/** Every route's schema, by a name the server uses. */
export function routeSchemas(limits: SchemaLimits) {
  const limit = (fallback: number) => ({ type: 'integer', minimum: 1, maximum: limits.maxLimit, default: Math.min(fallback, limits.maxLimit), description: `at most this many items (1 to ${limits.maxLimit})` }) as const;
  return {
    graphs: {
      summary: 'The graphs this cluster holds, by name, a page at a time',
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          processor: readParameters.processor,
          limit: limit(100),
          cursor: { type: 'string', maxLength: 1024, description: 'the `next` of the previous page' },
          scope: { type: 'string', enum: ['cluster', 'local'], default: 'cluster', description: 'cluster: every instance\'s graphs; local: this instance\'s only' },
        },
      },
      response: {
        200: {
          type: 'object',
          required: ['graphs', 'next'],
          properties: {
            graphs: { type: 'array', items: { type: 'object', required: ['graph', 'processor', 'partition'], properties: { graph: { type: 'string' }, processor: { type: 'string' }, partition: { type: 'integer' }, owner: { type: 'string' } } } },
            next: { type: ['string', 'null'] },
            incomplete: { type: 'array', items: { type: 'string' }, description: 'why some graphs may be missing: an instance that did not answer, a partition still restoring' },
          },
        },
        ...errors,
      },
    },
    graph: {
      summary: 'A graph: the slice read and its time, the head and its time, its partition and the instance that owns it',
      params: params({ graph: graphParameter }),
      querystring: querystring({}),
      response: { 200: read({ time: { type: 'integer', description: 'the time of the slice read (microseconds since the epoch)' }, headTime: { type: 'integer' }, processor: { type: 'string' }, partition: { type: 'integer' }, owner: { type: 'string' } }), ...errors },
    },
    atom: {
      summary: 'An atom as of a slice: kind, type, lifetime, the ends of a relation, the value of an attribute (and what it hangs off)',
      params: params({ graph: graphParameter, uid: uid('the atom') }),
      querystring: querystring({}),
      response: { 200: read({ atom, heldBy: { type: 'array', items: { type: 'object', properties: { relation: relationRef, atom } } } }, ['atom']), ...errors },
    },
    atoms: {
      summary: 'The atoms of a type (entities and relations; without a type, every atom), a page at a time; a cursor keeps the slice of the first page',
      params: params({ graph: graphParameter }),
      querystring: querystring({ type: { type: 'string', maxLength: 256, pattern: namePattern, description: 'an entity or relation type' }, limit: limit(100), cursor: { type: 'string', maxLength: 1024, pattern: '^[A-Za-z0-9_-]+$', description: 'the `next` of the previous page' } }),
      response: { 200: read({ atoms: { type: 'array', items: atom }, next: { type: ['string', 'null'] } }, ['atoms', 'next']), ...errors },
    },
    relations: {
      summary: 'The relations of an atom as of a slice, each with the atom at its other end',
      params: params({ graph: graphParameter, uid: uid('the atom') }),
      querystring: querystring({ direction: direction('out: relations from the atom; in: to it; both'), type: typeFilter, limit: limit(1000) }),
      response: {
        200: read({ uid: { type: 'string' }, relations: { type: 'array', items: { type: 'object', properties: { relation: relationRef, direction: { type: 'string' }, other: atom } } }, truncated: { type: 'boolean' } }, ['relations', 'truncated']),
        ...errors,
      },
    },
    neighbourhood: {
      summary: 'The atoms within a number of hops of one, nearest first, each with its distance',
      params: params({ graph: graphParameter }),
      querystring: querystring(
        {
          from: uid('the start atom'),
          hops: { type: 'integer', minimum: 1, maximum: limits.maxHops, default: Math.min(2, limits.maxHops), description: `how many relations away (1 to ${limits.maxHops})` },
          direction: direction('follow relations out of atoms, into them, or both'),
          type: typeFilter,
          limit: limit(1000),
          details: { type: 'boolean', default: false, description: 'include each atom (kind, type, value), not just its uid' },
        },
        ['from'],
      ),
      response: {
        200: read({ from: { type: 'string' }, hops: { type: 'integer' }, atoms: { type: 'array', items: { type: 'object', required: ['uid', 'distance'], properties: { uid: { type: 'string' }, distance: { type: 'integer' }, atom } } }, truncated: { type: 'boolean' } }, ['atoms', 'truncated']),
        ...errors,
      },
    },
    paths: {
      summary: 'A shortest path between two atoms as of a slice, or none within maxHops',
      params: params({ graph: graphParameter }),
      querystring: querystring(
        {
          from: uid('the start atom'),
          to: uid('the end atom'),
          maxHops: { type: 'integer', minimum: 1, maximum: limits.maxHops, default: limits.maxHops, description: `the longest path looked for (1 to ${limits.maxHops})` },
          direction: direction('follow relations out of atoms, into them, or both'),
          type: typeFilter,
        },
        ['from', 'to'],
      ),
      response: {
        200: read({ from: { type: 'string' }, to: { type: 'string' }, path: { type: ['array', 'null'], items: { type: 'object', properties: { relation: relationRef, direction: { type: 'string' }, atom: { type: 'string' } } } } }, ['path']),
        ...errors,
      },
    },
    diff: {
      summary: 'The compacted diff that turns slice `from` into slice `to`',
      params: params({ graph: graphParameter }),
      querystring: {
        type: 'object',
        additionalProperties: false,
        required: ['from', 'to'],
        properties: { processor: readParameters.processor, from: slice('the earlier slice'), to: slice('the later slice (at most the head)'), waitForSlice: readParameters.waitForSlice, waitForTx: readParameters.waitForTx, wait: readParameters.wait },
      },
      response: { 200: read({ from: { type: 'integer' }, to: { type: 'integer' }, changes: { type: 'array', items: change } }, ['from', 'to', 'changes']), ...errors },
    },
    slices: {
      summary: 'The slice log: which transaction made each slice, when, from which record',
      params: params({ graph: graphParameter }),
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          processor: readParameters.processor,
          from: { type: 'integer', minimum: 1, maximum: maxInteger, default: 1, description: 'the first slice' },
          to: { type: 'integer', minimum: 1, maximum: maxInteger, description: 'the last slice (default: the head)' },
          limit: limit(100),
          waitForSlice: readParameters.waitForSlice,
          waitForTx: readParameters.waitForTx,
          wait: readParameters.wait,
        },
      },
      response: {
        200: read({ slices: { type: 'array', items: { type: 'object', required: ['slice', 'txId', 'time', 'source'], properties: { slice: { type: 'integer' }, txId: { type: 'string' }, time: { type: 'integer' }, source } } }, next: { type: ['integer', 'null'] } }, ['slices', 'next']),
        ...errors,
      },
    },
    transaction: {
      summary: 'What became of a transaction: applied (its slice), skipped (a no-op), rejected (why) or unknown',
      params: params({ graph: graphParameter, txId: { type: 'string', minLength: 1, maxLength: 1024 } }),
      querystring: { type: 'object', additionalProperties: false, properties: { processor: readParameters.processor, waitForTx: readParameters.waitForTx, waitForSlice: readParameters.waitForSlice, wait: readParameters.wait } },
      response: { 200: transaction, ...errors },
    },
    changes: {
      summary: 'Server-sent events: the diffs from fromSlice on (or a snapshot at the head, then every diff), each with id: <slice>; resume with Last-Event-ID',
      params: params({ graph: graphParameter }),
      querystring: { type: 'object', additionalProperties: false, properties: { processor: readParameters.processor, fromSlice: { type: 'integer', minimum: 1, maximum: maxInteger, description: 'the first slice to send' } } },
      headers: { type: 'object', properties: { 'last-event-id': { type: 'string', pattern: '^[0-9]{1,16}$', description: 'the id of the last event received: the stream resumes after it' } } },
      response: { 200: { description: 'text/event-stream: events `snapshot` and `diff` (id: slice), `moved` before the stream ends when the partition moves', type: 'string' }, ...errors },
    },
  } as const;
}

/** The building blocks of the route schemas, for route modules beside these (explore/schemas.ts). */
export const schemaParts = { graphParameter, uid, slice, readParameters, querystring, params, value, atom, read, errors, source, namePattern } as const;
