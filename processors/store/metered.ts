import type { RangeDiff } from '../engine/diff';
import type { GraphDiff, Uid, Value } from '../engine/model';
import type { Direction, RelationEdge } from '../engine/state';
import type { SliceInfo } from './format/records';
import type { AtomAt, GraphReads, Lifetime } from './queries';

/** Calls of one store operation and the seconds they took. */
export interface OperationMeter {
  calls: number;
  seconds: number;
}

/**
 * What a store did since it was opened: counters only, read by whoever reports them (a metrics
 * registry, a test); nothing is computed unless read.
 */
export class StoreMetrics {
  /** Queries by operation (a generator counts when it starts; its seconds are not kept). */
  readonly queries = new Map<string, OperationMeter>();
  /** Commits written, their operations (puts and appends) and seconds. */
  readonly writes: { batches: number; operations: number; seconds: number } = { batches: 0, operations: 0, seconds: 0 };
  /** Diffs staged by bulk replay. */
  replayed = 0;

  observe(operation: string, seconds: number): void {
    let meter = this.queries.get(operation);
    if (meter === undefined) this.queries.set(operation, (meter = { calls: 0, seconds: 0 }));
    meter.calls += 1;
    meter.seconds += seconds;
  }
}

/** Queries that count and time themselves (as Kafka Streams' metered store wraps its caching store). */
export class MeteredReads implements GraphReads {
  constructor(
    private readonly inner: GraphReads,
    private readonly metrics: StoreMetrics,
  ) {}

  head(graph: string): Promise<number> {
    return this.timed('head', this.inner.head(graph));
  }

  graphs(): AsyncGenerator<string> {
    this.metrics.observe('graphs', 0);
    return this.inner.graphs();
  }

  atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined> {
    return this.timed('atomAt', this.inner.atomAt(graph, uid, slice));
  }

  atoms(graph: string, slice?: number): AsyncGenerator<AtomAt> {
    this.metrics.observe('atoms', 0);
    return this.inner.atoms(graph, slice);
  }

  lifetimeOf(graph: string, uid: Uid): Promise<Lifetime | undefined> {
    return this.timed('lifetimeOf', this.inner.lifetimeOf(graph, uid));
  }

  valueAt(graph: string, uid: Uid, slice?: number): Promise<Value | undefined> {
    return this.timed('valueAt', this.inner.valueAt(graph, uid, slice));
  }

  relationsAt(graph: string, uid: Uid, direction: Direction, options?: { readonly type?: string; readonly slice?: number }): Promise<RelationEdge[]> {
    return this.timed('relationsAt', this.inner.relationsAt(graph, uid, direction, options));
  }

  neighbourhood(graph: string, start: Uid, hops: number, slice?: number): Promise<Uid[]> {
    return this.timed('neighbourhood', this.inner.neighbourhood(graph, start, hops, slice));
  }

  atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    this.metrics.observe('atomsOfType', 0);
    return this.inner.atomsOfType(graph, type, slice);
  }

  sliceLog(graph: string, from?: number, to?: number): AsyncGenerator<SliceInfo> {
    this.metrics.observe('sliceLog', 0);
    return this.inner.sliceLog(graph, from, to);
  }

  sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    return this.timed('sliceOfTx', this.inner.sliceOfTx(graph, txId));
  }

  diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    this.metrics.observe('diffs', 0);
    return this.inner.diffs(graph, from, to);
  }

  diff(graph: string, from: number, to: number): Promise<RangeDiff> {
    return this.timed('diff', this.inner.diff(graph, from, to));
  }

  private async timed<T>(operation: string, result: Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await result;
    } finally {
      this.metrics.observe(operation, (performance.now() - started) / 1000);
    }
  }
}
