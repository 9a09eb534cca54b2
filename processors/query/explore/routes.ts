import type { FastifyRequest } from 'fastify';
import type { Uid } from '../../engine/model';
import type { GraphReads, ReadAt } from '../reads';
import type { SchemaLimits } from '../schemas';
import { ExploreReads } from './reads';
import { exploreSchemas } from './schemas';

/**
 * The explore routes (the live page reads through them; so may anyone): each is answered inside
 * the server's read frame, so it is routed to the graph's owner, answers 503 while the partition
 * restores, waits for a slice or txId, and reads as of `asOf`/`asOfTime` like every other read.
 */
export interface ExploreRoute {
  readonly url: string;
  readonly schema: object;
  /** Answers for a graph that may have no slice (its at is then slice 0, head 0). */
  readonly graphMayBeEmpty?: boolean;
  answer(reads: GraphReads, at: ReadAt, graph: string, request: FastifyRequest): Promise<unknown>;
}

const explorers = new WeakMap<GraphReads, ExploreReads>();

function explore(reads: GraphReads): ExploreReads {
  let found = explorers.get(reads);
  if (found === undefined) explorers.set(reads, (found = new ExploreReads(reads.store)));
  return found;
}

export function exploreRoutes(limits: SchemaLimits): readonly ExploreRoute[] {
  const schemas = exploreSchemas(limits);
  return [
    {
      url: '/v1/graphs/:graph/subgraph',
      schema: schemas.subgraph,
      async answer(reads, at, graph, request) {
        const q = request.query as { from?: string; type?: string; hops: number; limit: number; follow?: string; attributes: 'labels' | 'nodes' };
        const from = q.from === undefined ? undefined : [...new Set(q.from.split(','))];
        const view = await explore(reads).subgraph(graph, at, {
          hops: q.hops,
          limit: q.limit,
          attributes: q.attributes,
          ...(from === undefined ? {} : { from: from as Uid[] }),
          ...(q.type === undefined ? {} : { type: q.type }),
          ...(q.follow === undefined ? {} : { follow: q.follow }),
        });
        return { graph, slice: at.slice, head: at.head, hops: q.hops, ...view };
      },
    },
    {
      url: '/v1/graphs/:graph/search',
      schema: schemas.search,
      async answer(reads, at, graph, request) {
        const q = request.query as { value: string; field?: string; type?: string; limit: number; scan: number };
        const found = await explore(reads).search(graph, at, { value: q.value, limit: q.limit, scan: q.scan, ...(q.field === undefined ? {} : { field: q.field }), ...(q.type === undefined ? {} : { type: q.type }) });
        return { graph, slice: at.slice, head: at.head, value: q.value, ...found };
      },
    },
    {
      url: '/v1/graphs/:graph/types',
      schema: schemas.types,
      async answer(reads, at, graph, request) {
        const q = request.query as { scan: number };
        return { graph, slice: at.slice, head: at.head, ...(await explore(reads).types(graph, at, q.scan)) };
      },
    },
    {
      url: '/v1/graphs/:graph/rejections',
      schema: schemas.rejections,
      graphMayBeEmpty: true,
      async answer(reads, _at, graph, request) {
        const q = request.query as { limit: number };
        const [head, rejections] = await Promise.all([reads.head(graph), explore(reads).rejections(graph, q.limit)]);
        if (head === 0 && rejections.length === 0) await reads.at(graph, {});
        return { graph, slice: head, head, rejections };
      },
    },
  ];
}
