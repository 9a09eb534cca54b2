import { StoreDivergedError } from '../errors';
import type { RangeDiff } from '../engine/diff';
import type { GraphDiff, GraphTransaction, Uid, Value } from '../engine/model';
import type { Direction, GraphState, Need, RelationEdge } from '../engine/state';
import { Writer } from './format/binary';
import * as keys from './format/keys';
import * as records from './format/records';
import type { Checkpoint, Layout, SliceInfo, StoredRejection } from './format/records';
import { KeyFilter } from './key-filter';
import { Loader } from './loader';
import { MeteredReads, StoreMetrics } from './metered';
import { WritePipeline, type CommitStats, type WrittenKeys } from './pipeline';
import { GraphQueries, type AtomAt, type GraphReads, type Lifetime } from './queries';
import { CachingWrittenState } from './read-cache';
import { RejectionLog } from './rejections';
import { BulkReplay } from './replay';
import { Rocks, type CheckpointStats, type RocksOptions } from './rocks';
import { stageDiff } from './staging';
import { RocksWrittenState } from './written-state';

export type { Checkpoint, Layout, SliceInfo, StoredRejection } from './format/records';
export type { AtomAt, GraphReads, Lifetime } from './queries';
export type { CheckpointStats } from './rocks';
export type { StoreMetrics } from './metered';

export interface GraphStoreOptions {
  readonly rocks: RocksOptions;
  /**
   * Atoms kept in memory between batches (records, and the relations of atoms the engine read
   * them of): a few hundred bytes of heap each. Queries keep as many again, decoded.
   */
  readonly cachedAtoms: number;
  /**
   * How a new store lays out its data; a store that exists keeps the layout it was created with.
   * Tests make it small to fill several buckets.
   * @default { sliceBucket: 16, typeBucket: 64 }
   */
  readonly layout?: Partial<Layout>;
  /**
   * Rejected transactions remembered per graph (the newest kept), for asking what became of a txId.
   * @default 1000
   */
  readonly rejectionsKept?: number;
}

/** The layout of a store created without `layout` options, as a live processor's store is. */
export const defaultLayout: Layout = { sliceBucket: 16, typeBucket: 64 };

/**
 * The store in a directory was written in a layout this graphfold does not read (an older
 * version's): it is rebuilt from the changelog, like any store that does not match it.
 */
export class StoreLayoutError extends StoreDivergedError {}

/**
 * The graphs of one input partition in one RocksDB database: the store's facade over its parts,
 * which are the on-disk format (format/), the engine's views (graph-view.ts) and load planning
 * (loader.ts), staging (staging.ts), the write pipeline (pipeline.ts), the bulk replay of
 * restores (replay.ts), the record of rejected txIds (rejections.ts) and the queries
 * (queries.ts, and slice-search.ts over them), metered (metered.ts) over a read cache
 * (read-cache.ts) over RocksDB (rocks.ts).
 *
 * Writing is a batch at a time, by one writer, which drives the engine:
 * 1. `prefetch` the transactions of a batch (one multi-get per round);
 * 2. for each transaction, fold it with the engine against `state(graph)`; when the engine
 *    throws NotLoaded, `load` what it names and fold again; `stage` an applied diff
 *    (`stageUnchanged` for a transaction of no-ops); or `replay` diffs read from the changelog;
 * 3. `commit(checkpoint)` writes what is staged, with the checkpoint, as one atomic WriteBatch;
 *    the next batch may be staged while it is written (at most one write in flight); or
 *    `discard()` forgets what is staged (the Kafka transaction aborted).
 *
 * A refused transaction is staged too (`stageRejection`): the record of rejected txIds
 * (rejections.ts) writes it with the batch that refused it.
 *
 * The engine's views see staged state over cached state. Queries see written state only, as of
 * any slice.
 */
export class GraphStore implements GraphReads {
  readonly metrics = new StoreMetrics();
  private readonly pipeline: WritePipeline;
  private readonly loader: Loader;
  private readonly replayer: BulkReplay;
  private readonly rejectionLog: RejectionLog;
  private readonly cache: CachingWrittenState;
  private readonly reads: GraphReads;
  private readonly w = new Writer();
  private replaying = false;
  private closing: Promise<void> | undefined;
  private readonly filling: Promise<void>;

  private constructor(
    private readonly rocks: Rocks,
    written: Checkpoint,
    layout: Layout,
    private readonly filter: KeyFilter,
    cachedAtoms: number,
    rejectionsKept: number,
  ) {
    this.cache = new CachingWrittenState(new RocksWrittenState(rocks), cachedAtoms);
    this.rejectionLog = new RejectionLog(rocks, rejectionsKept);
    this.pipeline = new WritePipeline(rocks, layout, filter, cachedAtoms, written, this.rejectionLog, (changed, stats) => this.written(changed, stats));
    this.loader = new Loader(rocks, filter);
    this.replayer = new BulkReplay(rocks, this.pipeline, filter, cachedAtoms);
    this.reads = new MeteredReads(new GraphQueries(rocks, this.cache, this.pipeline.slicesPerBucket), this.metrics);
    this.filling = filter.isComplete ? Promise.resolve() : this.fillFilter();
  }

  /**
   * Opens (creating when missing) the store in `dir`. Throws a {@link StoreLayoutError} for a
   * store of another layout version (closed again: delete it, the changelog rebuilds it).
   */
  static async open(dir: string, options: GraphStoreOptions): Promise<GraphStore> {
    const rocks = await Rocks.open(dir, options.rocks);
    const [checkpoint, storedLayout] = await rocks.getMany([keys.checkpointKey, keys.layoutKey]);
    const stored = storedLayout === undefined ? undefined : records.decodeLayout(storedLayout);
    let layout = stored?.layout;
    if (layout === undefined && (checkpoint !== undefined || stored !== undefined)) {
      await rocks.close();
      const version = stored === undefined ? 'an unversioned layout' : `layout version ${stored.version}`;
      throw new StoreLayoutError(`the store at ${dir} was written in ${version}; this graphfold reads layout version ${records.layoutVersion}: it must be rebuilt from the changelog`);
    }
    if (layout === undefined) {
      layout = { ...defaultLayout, ...options.layout };
      const batch = rocks.batch();
      const w = new Writer();
      records.encodeLayout(w, layout);
      batch.put(keys.layoutKey, w.view());
      await batch.write();
    }
    const filter = new KeyFilter(checkpoint === undefined);
    return new GraphStore(rocks, checkpoint === undefined ? {} : records.decodeCheckpoint(checkpoint), layout, filter, options.cachedAtoms, options.rejectionsKept ?? 1000);
  }

  /**
   * What the closed store in `dir` reflects, read without opening it as a store (a copy that is
   * to become a snapshot, or one fetched from a snapshot): its checkpoint and the version of its
   * layout (undefined for a directory that holds no store). Throws when RocksDB cannot open it.
   */
  static async inspect(dir: string, options: RocksOptions): Promise<{ readonly checkpoint?: Checkpoint; readonly layoutVersion?: number }> {
    const rocks = await Rocks.open(dir, options);
    try {
      const [checkpoint, layout] = await rocks.getMany([keys.checkpointKey, keys.layoutKey]);
      return { ...(checkpoint === undefined ? {} : { checkpoint: records.decodeCheckpoint(checkpoint) }), ...(layout === undefined ? {} : { layoutVersion: records.decodeLayout(layout).version }) };
    } finally {
      await rocks.close();
    }
  }

  /** The layout version this graphfold writes and reads. */
  static get layoutVersion(): number {
    return records.layoutVersion;
  }

  /** Deletes a store directory (to rebuild it from the changelog). */
  static destroy(dir: string): Promise<void> {
    return Rocks.destroy(dir);
  }

  get location(): string {
    return this.rocks.location;
  }

  /** True once `close` was called. */
  get isClosed(): boolean {
    return this.closing !== undefined;
  }

  /** The offsets the written state reflects; empty for a new store. */
  checkpoint(): Checkpoint {
    return this.pipeline.checkpoint;
  }

  /** Waits for the write in flight, forgets what is staged, and closes. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.filling;
      await this.pipeline.drain();
      this.pipeline.discard();
      await this.rocks.close();
    })();
    return this.closing;
  }

  /**
   * Copies the store's written state, as it is now, into a new store at `dir` while writes go
   * on (one consistent view of the database): a checkpoint from which a store opens at the
   * offsets it records.
   */
  copyTo(dir: string, options: RocksOptions): Promise<CheckpointStats> {
    return this.rocks.checkpoint(dir, options);
  }

  // --- writing ------------------------------------------------------------------------------

  /** Loads what folding these transactions will most likely read. */
  async prefetch(txs: readonly GraphTransaction[]): Promise<void> {
    this.settle();
    await this.loader.prefetch(txs, (graph) => this.pipeline.view(graph));
  }

  /** A graph as the engine folds against it: staged state over cached state; throws NotLoaded for the rest. */
  state(graph: string): GraphState {
    this.settle();
    return this.pipeline.view(graph);
  }

  /** Loads what a fold found missing (a NotLoaded's needs). */
  async load(graph: string, needs: readonly Need[]): Promise<void> {
    await this.loader.load(new Map([[this.pipeline.view(graph), needs]]));
  }

  /**
   * Stages an applied diff, which the engine folded against `state(diff.graph)`. Throws NotLoaded
   * (and stages nothing) if an atom it changes is not in memory.
   */
  stage(diff: GraphDiff): void {
    this.settle();
    const view = this.pipeline.view(diff.graph);
    stageDiff(view, this.pipeline.stagedFor(view), diff, this.pipeline.staging.batch, this.filter, this.w);
  }

  /** Stages a transaction whose every instruction was a no-op: its txId is remembered. */
  stageUnchanged(graph: string, txId: string): void {
    this.settle();
    const view = this.pipeline.view(graph);
    this.pipeline.stagedFor(view).txs.set(txId, null);
    this.filter.addText(view.txSeed, txId);
  }

  /**
   * Stages a rejection of a transaction of `graph`, written with the next commit (in its
   * WriteBatch); the store keeps the newest `rejectionsKept` per graph.
   */
  stageRejection(graph: string, rejection: StoredRejection): void {
    this.settle();
    this.rejectionLog.stage(this.pipeline.staging, graph, rejection);
  }

  /**
   * Stages diffs read from the changelog, in changelog order, by bulk replay (no fold: they
   * were validated when folded). Throws {@link StoreDivergedError} when a diff does not follow
   * its graph's head: the store must then be rebuilt.
   */
  async replay(diffs: readonly GraphDiff[]): Promise<void> {
    this.replaying = true;
    await this.replayer.add(diffs);
    this.metrics.replayed += diffs.length;
  }

  /**
   * Writes what is staged, with the checkpoint, as one atomic WriteBatch (after the write before
   * it). Resolves once it is on disk; the next batch can be staged meanwhile. If a write fails,
   * the store refuses all further work: reopen it (the changelog restores the rest).
   */
  commit(checkpoint: Checkpoint): Promise<void> {
    return this.pipeline.commit(checkpoint);
  }

  /** Forgets everything staged since the last commit. Idempotent. */
  discard(): void {
    this.pipeline.discard();
    this.replayer.reset();
  }

  /** Moves written layers into the views; a fold after a replay forgets the replay's records. */
  private settle(): void {
    this.pipeline.settle();
    if (this.replaying) {
      this.replaying = false;
      this.replayer.reset();
    }
  }

  private written(changed: readonly WrittenKeys[], stats: CommitStats): void {
    this.cache.written(changed);
    this.metrics.writes.batches += 1;
    this.metrics.writes.operations += stats.operations;
    this.metrics.writes.seconds += stats.seconds;
  }

  /** Adds every atom and txId key on disk to the key filter, then trusts it. Stops early on close. */
  private async fillFilter(): Promise<void> {
    for (const tag of [keys.tags.atom, keys.tags.tx]) {
      const range = keys.tagRange(tag);
      for await (const entries of this.rocks.scan(range.gte, range.lt, { values: false })) {
        if (this.closing !== undefined) return;
        for (const [key] of entries) this.filter.addKey(key);
      }
    }
    this.filter.completed();
  }

  // --- reading, as of any slice (see GraphReads) --------------------------------------------

  head(graph: string): Promise<number> {
    return this.reads.head(graph);
  }

  graphs(): AsyncGenerator<string> {
    return this.reads.graphs();
  }

  atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined> {
    return this.reads.atomAt(graph, uid, slice);
  }

  atoms(graph: string, slice?: number): AsyncGenerator<AtomAt> {
    return this.reads.atoms(graph, slice);
  }

  lifetimeOf(graph: string, uid: Uid): Promise<Lifetime | undefined> {
    return this.reads.lifetimeOf(graph, uid);
  }

  valueAt(graph: string, uid: Uid, slice?: number): Promise<Value | undefined> {
    return this.reads.valueAt(graph, uid, slice);
  }

  relationsAt(graph: string, uid: Uid, direction: Direction, options?: { readonly type?: string; readonly slice?: number }): Promise<RelationEdge[]> {
    return this.reads.relationsAt(graph, uid, direction, options);
  }

  neighbourhood(graph: string, start: Uid, hops: number, slice?: number): Promise<Uid[]> {
    return this.reads.neighbourhood(graph, start, hops, slice);
  }

  atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    return this.reads.atomsOfType(graph, type, slice);
  }

  sliceLog(graph: string, from?: number, to?: number): AsyncGenerator<SliceInfo> {
    return this.reads.sliceLog(graph, from, to);
  }

  sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    return this.reads.sliceOfTx(graph, txId);
  }

  diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    return this.reads.diffs(graph, from, to);
  }

  diff(graph: string, from: number, to: number): Promise<RangeDiff> {
    return this.reads.diff(graph, from, to);
  }

  /** The recorded rejection of a txId, if it is among the kept ones (written state only). */
  rejectionOf(graph: string, txId: string): Promise<StoredRejection | undefined> {
    return this.rejectionLog.rejectionOf(graph, txId);
  }

  /** The kept rejections of a graph, newest first. */
  rejections(graph: string, options: { readonly limit?: number } = {}): AsyncGenerator<StoredRejection> {
    return this.rejectionLog.rejections(graph, options.limit);
  }

  /** Approximate bytes of the store: its table files and memtables. */
  sizeOnDisk(): Promise<number> {
    return Promise.resolve(this.rocks.approximateSize());
  }
}
