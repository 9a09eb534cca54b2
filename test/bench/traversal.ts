import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Uid } from '../../processors/engine/model';
import { GraphStore } from '../../processors/store/graph-store';
import { loadEdges, postgresNeighbourhood, startPostgres, type Edge } from './postgres';
import { quantile } from './table';
import { Random } from './workload';

/** One kind of query: how many hops, as of which slice. */
export interface TraversalCase {
  readonly hops: number;
  /** `latest`: each graph's head; `old`: half way to it. */
  readonly slice: 'latest' | 'old';
}

/** Times of one kind of query on both engines, over the same queries. */
export interface TraversalTiming extends TraversalCase {
  readonly queries: number;
  /** Atoms reached per query, on average (the start included). */
  readonly meanReached: number;
  readonly graphfold: { readonly p50Ms: number; readonly p99Ms: number };
  readonly postgres: { readonly p50Ms: number; readonly p99Ms: number };
}

export interface Traversal {
  readonly graphs: number;
  readonly edges: number;
  readonly timings: readonly TraversalTiming[];
}

interface GraphEdges {
  readonly graph: string;
  readonly store: GraphStore;
  readonly head: number;
  readonly edges: readonly Edge[];
}

const cases: readonly TraversalCase[] = [1, 2, 3].flatMap((hops) => (['latest', 'old'] as const).map((slice) => ({ hops, slice })));

/**
 * k-hop neighbourhoods, graphfold's store against PostgreSQL, on the same graphs: the relations
 * of every graph in graphfold's stores (`storeDirs`, one per partition, as a processor left them)
 * are read from their slice logs into an indexed edge table with lifetimes; then the same random
 * queries (a start atom alive at the slice, 1 to 3 hops, either direction, as of the latest or an
 * old slice) run on both, one after the other, each answer checked against the other's. Each
 * store has the topology's default caches (64 MiB of blocks, 100,000 atoms); PostgreSQL 256 MB of
 * shared buffers.
 */
export async function measureTraversal(storeDirs: readonly string[], queriesPerCase: number, progress: (line: string) => void): Promise<Traversal> {
  const stores = await Promise.all(storeDirs.map((dir) => GraphStore.open(dir, { rocks: { cacheBytes: 64 << 20, writeBufferBytes: 8 << 20 }, cachedAtoms: 100_000 })));
  try {
    const graphs = await readGraphs(stores);
    const edges = graphs.flatMap((g) => g.edges);
    if (edges.length === 0) throw new Error(`the stores in ${storeDirs.join(', ')} hold no relations to traverse`);
    // Directly under the temporary directory: the server runs as its own user, who must reach it.
    const postgres = await startPostgres(await mkdtemp(join(tmpdir(), 'graphfold-postgres-')));
    try {
      progress(`${graphs.length} graphs, ${edges.length.toLocaleString()} relations; loading them into PostgreSQL`);
      await loadEdges(postgres.client, edges);
      const random = new Random(5);
      const timings: TraversalTiming[] = [];
      for (const kind of cases) {
        const timing = await timeCase(graphs, kind, queriesPerCase, random, (graph, start, slice) => postgresNeighbourhood(postgres.client, graph, start, kind.hops, slice));
        progress(`${kind.hops}-hop as of the ${kind.slice} slice: graphfold p50 ${timing.graphfold.p50Ms.toFixed(2)} ms, PostgreSQL p50 ${timing.postgres.p50Ms.toFixed(2)} ms, ${Math.round(timing.meanReached)} atoms reached`);
        timings.push(timing);
      }
      return { graphs: graphs.length, edges: edges.length, timings };
    } finally {
      await postgres.stop();
    }
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
}

/**
 * One kind of query on both engines over the same random queries: each runs once untimed on both
 * (so both answer from memory, PostgreSQL from its buffers, graphfold from its caches; the answers
 * must agree), then again, timed, in the same order.
 */
async function timeCase(
  graphs: readonly GraphEdges[],
  kind: TraversalCase,
  count: number,
  random: Random,
  postgres: (graph: string, start: Uid, slice: number) => Promise<number>,
): Promise<TraversalTiming> {
  const queries = Array.from({ length: count }, () => pickQuery(graphs, kind, random));
  let reached = 0;
  for (const { graph, start, slice } of queries) {
    const found = (await graph.store.neighbourhood(graph.graph, start, kind.hops, slice)).length;
    const expected = await postgres(graph.graph, start, slice);
    if (found !== expected) throw new Error(`${kind.hops}-hop neighbourhood of ${start} in ${graph.graph} at slice ${slice}: graphfold found ${found} atoms, PostgreSQL ${expected}`);
    reached += found;
  }
  const graphfoldMs: number[] = [];
  const postgresMs: number[] = [];
  for (const { graph, start, slice } of queries) {
    let began = performance.now();
    await graph.store.neighbourhood(graph.graph, start, kind.hops, slice);
    graphfoldMs.push(performance.now() - began);
    began = performance.now();
    await postgres(graph.graph, start, slice);
    postgresMs.push(performance.now() - began);
  }
  return {
    ...kind,
    queries: count,
    meanReached: reached / count,
    graphfold: { p50Ms: quantile(graphfoldMs, 0.5), p99Ms: quantile(graphfoldMs, 0.99) },
    postgres: { p50Ms: quantile(postgresMs, 0.5), p99Ms: quantile(postgresMs, 0.99) },
  };
}

/** Every graph's relations with their lifetimes, from its slice log: created, and ended when terminated. */
async function readGraphs(stores: readonly GraphStore[]): Promise<GraphEdges[]> {
  const graphs: GraphEdges[] = [];
  for (const store of stores) {
    for await (const graph of store.graphs()) {
      const head = await store.head(graph);
      const byUid = new Map<Uid, { source: Uid; target: Uid; created: number; ended: number | null }>();
      for await (const diff of store.diffs(graph, 1, head)) {
        for (const change of diff.changes) {
          if (change.op === 'Created' && change.source !== undefined && change.target !== undefined) {
            byUid.set(change.uid, { source: change.source, target: change.target, created: diff.slice, ended: null });
          } else if (change.op === 'Terminated') {
            const edge = byUid.get(change.uid);
            if (edge !== undefined) edge.ended = diff.slice;
          }
        }
      }
      graphs.push({ graph, store, head, edges: [...byUid.values()].map((e) => ({ graph, ...e })) });
    }
  }
  return graphs;
}

/** A random graph, the case's slice of it, and a start atom alive then (an end of a relation alive then). */
function pickQuery(graphs: readonly GraphEdges[], kind: TraversalCase, random: Random): { graph: GraphEdges; start: Uid; slice: number } {
  for (;;) {
    const graph = graphs[random.int(graphs.length)] as GraphEdges;
    const slice = kind.slice === 'latest' ? graph.head : Math.max(1, Math.floor(graph.head / 2));
    for (let attempt = 0; attempt < 100 && graph.edges.length > 0; attempt += 1) {
      const edge = graph.edges[random.int(graph.edges.length)] as Edge;
      if (edge.created <= slice && (edge.ended === null || slice < edge.ended)) return { graph, start: edge.source, slice };
    }
  }
}
