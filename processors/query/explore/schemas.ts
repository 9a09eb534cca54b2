import { schemaParts, type SchemaLimits } from '../schemas';

/**
 * The JSON schemas of the explore routes (the live page's reads): validated by fastify and
 * documented in /v1/openapi.json with the query API's own routes.
 */
const { graphParameter, readParameters, querystring, params, value, atom, read, errors, source, namePattern } = schemaParts;

const uidList = '^[0-9a-f]{32}(,[0-9a-f]{32}){0,99}$';
const typeName = (description: string) => ({ type: 'string', maxLength: 256, pattern: namePattern, description }) as const;
const scan = { type: 'integer', minimum: 1, maximum: 1_000_000, default: 100_000, description: 'read at most this many atoms (there is no value index: a search reads the graph\'s atoms)' } as const;

const field = {
  type: 'object',
  required: ['uid', 'type', 'attribute'],
  properties: { uid: { type: 'string', description: 'the holding relation' }, type: { type: 'string', description: 'the holding relation\'s type: the field\'s name' }, attribute: { type: 'string' }, value },
} as const;

const node = {
  type: 'object',
  required: ['uid', 'kind', 'type', 'created', 'distance', 'fields'],
  properties: { uid: { type: 'string' }, kind: { type: 'string', enum: ['entity', 'attribute', 'relation'] }, type: { type: 'string' }, created: { type: 'integer' }, distance: { type: 'integer' }, value, fields: { type: 'array', items: field } },
} as const;

const edge = {
  type: 'object',
  required: ['uid', 'type', 'source', 'target', 'created', 'fields'],
  properties: { uid: { type: 'string' }, type: { type: 'string' }, source: { type: 'string' }, target: { type: 'string' }, created: { type: 'integer' }, fields: { type: 'array', items: field } },
} as const;

export function exploreSchemas(limits: SchemaLimits) {
  const limit = (fallback: number, max = limits.maxLimit) => ({ type: 'integer', minimum: 1, maximum: max, default: Math.min(fallback, max), description: `at most this many (1 to ${max})` }) as const;
  return {
    subgraph: {
      summary: 'A drawable subgraph as of a slice: the atoms within some hops of start atoms (or the atoms of a type) as nodes with their attribute values as fields, and the relations among them as edges',
      params: params({ graph: graphParameter }),
      querystring: querystring({
        from: { type: 'string', pattern: uidList, description: 'start atoms: up to 100 comma-separated uids (32 lowercase hex characters each); give from or type' },
        type: typeName('start from the atoms of this entity or relation type (a relation stands for its two ends)'),
        hops: { type: 'integer', minimum: 0, maximum: limits.maxHops, default: Math.min(1, limits.maxHops), description: `how many relations away from the start atoms (0 to ${limits.maxHops})` },
        limit: limit(500),
        follow: typeName('follow (and draw) only relations of this type between nodes'),
        attributes: { type: 'string', enum: ['labels', 'nodes'], default: 'labels', description: 'labels: attribute values as fields of the atoms that hold them; nodes: attributes as nodes of their own' },
      }),
      response: {
        200: read(
          {
            seeds: { type: 'array', items: { type: 'string' } },
            nodes: { type: 'array', items: node },
            edges: { type: 'array', items: edge },
            truncated: { type: 'boolean', description: 'limit nodes were reached with more within hops' },
            omitted: { type: 'integer', description: 'relations not drawn: between a node and a relation (relations on relations other than attribute fields)' },
          },
          ['seeds', 'nodes', 'edges', 'truncated', 'omitted'],
        ),
        ...errors,
      },
    },
    search: {
      summary: 'The atoms holding an attribute whose value reads like the text given (case-insensitive substring), as of a slice',
      params: params({ graph: graphParameter }),
      querystring: querystring(
        {
          value: { type: 'string', minLength: 1, maxLength: 256, description: 'the text to look for in attribute values: strings, enum symbols, numbers, true/false, RFC 3339 times' },
          field: typeName('only values held by relations of this type (e.g. Name)'),
          type: typeName('only values held by atoms of this type (e.g. Person)'),
          limit: limit(50),
          scan,
        },
        ['value'],
      ),
      response: {
        200: read(
          {
            value: { type: 'string' },
            matches: { type: 'array', items: { type: 'object', required: ['atom', 'field'], properties: { atom, field } } },
            scanned: { type: 'integer', description: 'how many atoms were read' },
            complete: { type: 'boolean', description: 'false when limit matches or scan atoms were reached first' },
          },
          ['value', 'matches', 'scanned', 'complete'],
        ),
        ...errors,
      },
    },
    types: {
      summary: 'The entity, relation and attribute value types alive at a slice, with how many atoms of each',
      params: params({ graph: graphParameter }),
      querystring: querystring({ scan }),
      response: {
        200: read(
          {
            types: { type: 'array', items: { type: 'object', required: ['kind', 'type', 'count'], properties: { kind: { type: 'string' }, type: { type: 'string' }, count: { type: 'integer' } } } },
            scanned: { type: 'integer' },
            complete: { type: 'boolean' },
          },
          ['types', 'scanned', 'complete'],
        ),
        ...errors,
      },
    },
    rejections: {
      summary: 'The transactions of a graph the processor refused, newest first, with their reasons (the store keeps the latest ones)',
      params: params({ graph: graphParameter }),
      querystring: { type: 'object', additionalProperties: false, properties: { processor: readParameters.processor, limit: limit(100) } },
      response: {
        200: read(
          {
            rejections: {
              type: 'array',
              items: {
                type: 'object',
                required: ['txId', 'code', 'message', 'source', 'head', 'time'],
                properties: { txId: { type: 'string' }, code: { type: 'string' }, message: { type: 'string' }, instructionIndex: { type: 'integer' }, source, head: { type: 'integer', description: 'the graph\'s head when it was refused' }, time: { type: 'integer', description: 'the refused record\'s time (microseconds since the epoch)' } },
              },
            },
          },
          ['rejections'],
        ),
        ...errors,
      },
    },
  } as const;
}
