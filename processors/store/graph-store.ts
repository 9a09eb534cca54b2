import { mkdir } from 'node:fs/promises';
import { FatalError, StoreDivergedError, type TerminalError } from '../errors';
import { diffBetween, type RangeDiff } from '../engine/diff';
import { fold, type FoldOptions, type FoldResult } from '../engine/fold';
import type { AtomKind, GraphDiff, GraphTransaction, Uid, Value } from '../engine/model';
import { creationNeeds, followUpNeeds, prefetchNeeds } from '../engine/prefetch';
import { existsAt, NotLoaded, type Direction, type Need, type RelationEdge } from '../engine/state';
import { isUid } from '../engine/uid';
import { Writer } from './binary';
import { BucketedLists, type ListAppend } from './buckets';
import { GraphView } from './graph-view';
import { KeyFilter } from './key-filter';
import * as keys from './keys';
import { Layer, spilledKey, type StagedGraph } from './layer';
import { ReadCache, type HistoricEdge } from './read-cache';
import { RejectionLog, type StoredRejection } from './rejections';
import * as records from './records';
import { StoredAtom, StoredEdge, byTypeThenUid, type Layout } from './records';
import { Rocks, type RocksOptions } from './rocks';

export type { Checkpoint, Layout, SliceInfo } from './records';
export type { StoredRejection } from './rejections';

export interface GraphStoreOptions {
  readonly rocks: RocksOptions;
  /**
   * Atoms kept in memory between batches, each with its relations: a few hundred bytes of heap
   * each (an attribute less, a well-connected entity more).
   */
  readonly cachedAtoms: number;
  /**
   * How a new store lays out its data; a store that exists keeps the layout it was created with.
   * Tests make it small to exercise spilling and buckets.
   * @default { inlineEdges: 64, sliceBucket: 16, typeBucket: 64 }
   */
  readonly layout?: Partial<Layout>;
  /**
   * Rejected transactions remembered per graph (newest kept), for asking what became of a txId.
   * @default 1000
   */
  readonly rejectionsKept?: number;
}

/** The layout of a store created without `layout` options, as a live processor's store is. */
export const defaultLayout: Layout = { inlineEdges: 64, sliceBucket: 16, typeBucket: 64 };

/** Graphs whose last slice log and type index buckets stay in memory. */
const openBuckets = 4096;

/** An atom as it was at a slice. */
export interface AtomAt {
  readonly uid: Uid;
  readonly kind: AtomKind;
  readonly type: string;
  readonly created: number;
  readonly source?: Uid;
  readonly target?: Uid;
  /** Attributes: the value at that slice, if one was assigned by then. */
  readonly value?: Value;
}

/**
 * The graphs of one input partition in one RocksDB database (DESIGN.md §6).
 *
 * Writing is a batch at a time, by one writer:
 * 1. `prefetch` the transactions of a batch (two rounds of one multi-get and, for hubs only, a
 *    few prefix scans; uids and txIds the key filter knows to be new are not read at all);
 * 2. `fold` each transaction: the engine validates it against the staged state, and the store
 *    stages the resulting diff; or `replay` diffs read from the changelog;
 * 3. `commit(checkpoint)` seals what is staged and writes it, with the checkpoint, as one atomic
 *    WriteBatch; the next batch may be staged while it is written (at most one write in flight);
 *    or `discard()` forgets what is staged (the Kafka transaction aborted).
 *
 * Reads for the engine see staged state over cached state. Queries (`atomAt`, `relationsAt`, ...)
 * see written state only, as of any slice.
 */
export class GraphStore {
  private readonly views = new Map<string, GraphView>();
  private readonly sliceBuckets: BucketedLists;
  private readonly typeBuckets: BucketedLists;
  private readonly bucketWriter = new Writer();
  private readonly reads: ReadCache;

  /** Oldest first: the layers being written, then the one being staged. */
  private layers: Layer[];
  private writing: Promise<void> = Promise.resolve();
  private failure: FatalError | undefined;
  private closing = false;
  private readonly filling: Promise<void>;

  private constructor(
    private readonly rocks: Rocks,
    private written: records.Checkpoint,
    private readonly layout: Layout,
    private readonly filter: KeyFilter,
    private readonly cachedAtoms: number,
    private readonly rejectionLog: RejectionLog,
  ) {
    this.sliceBuckets = new BucketedLists(rocks, layout.sliceBucket, openBuckets);
    this.typeBuckets = new BucketedLists(rocks, layout.typeBucket, openBuckets);
    this.layers = [new Layer(rocks.batch())];
    this.reads = new ReadCache(cachedAtoms);
    this.filling = filter.isComplete ? Promise.resolve() : this.fillFilter();
  }

  /**
   * Opens (creating when missing) the store in `dir`. Throws a {@link FatalError} for a store of
   * another layout version: delete it, the changelog rebuilds it.
   */
  static async open(dir: string, options: GraphStoreOptions): Promise<GraphStore> {
    await mkdir(dir, { recursive: true });
    const rocks = await Rocks.open(dir, options.rocks);
    const [checkpoint, storedLayout] = await rocks.getMany([keys.checkpointKey, keys.layoutKey]);
    let layout = storedLayout === undefined ? undefined : records.decodeLayout(storedLayout);
    if (layout === undefined && (checkpoint !== undefined || storedLayout !== undefined)) {
      await rocks.close();
      throw new FatalError(`the store at ${dir} was written in a layout this graphfold does not read: delete it, and the changelog rebuilds it`);
    }
    if (layout === undefined) {
      layout = { ...defaultLayout, ...options.layout };
      const batch = rocks.batch();
      batch.put(keys.layoutKey, records.encodeLayout(layout));
      await batch.write();
    }
    const filter = new KeyFilter(checkpoint === undefined);
    const rejectionLog = await RejectionLog.open(rocks, options.rejectionsKept ?? 1000);
    return new GraphStore(rocks, checkpoint === undefined ? {} : records.decodeCheckpoint(checkpoint), layout, filter, options.cachedAtoms, rejectionLog);
  }

  /** Deletes a store directory (to rebuild it from the changelog). */
  static destroy(dir: string): Promise<void> {
    return Rocks.destroy(dir);
  }

  get location(): string {
    return this.rocks.location;
  }

  /** The offsets the written state reflects; empty for a new store. */
  checkpoint(): records.Checkpoint {
    return this.written;
  }

  /** Waits for the write in flight, forgets what is staged, and closes. */
  async close(): Promise<void> {
    this.closing = true;
    await this.filling;
    await this.writing.catch(() => undefined);
    this.discard();
    await this.rocks.close();
  }

  /** Adds every atom and txId key on disk to the key filter, then trusts it. Stops early on close. */
  private async fillFilter(): Promise<void> {
    for (const tag of [keys.tags.atom, keys.tags.tx]) {
      const range = keys.tagRange(tag);
      for await (const entries of this.rocks.scan(range.gte, range.lt, { values: false })) {
        if (this.closing) return;
        for (const [key] of entries) this.filter.addKey(key);
      }
    }
    this.filter.completed();
  }

  // --- writing ------------------------------------------------------------------------------

  /** Loads what folding these transactions will most likely read, in two rounds. */
  async prefetch(txs: readonly GraphTransaction[]): Promise<void> {
    this.settle();
    const plan = new Map<GraphView, Need[]>();
    const add = (view: GraphView, needs: readonly Need[]): void => {
      const list = plan.get(view);
      if (list === undefined) plan.set(view, [...needs]);
      else for (const need of needs) list.push(need);
    };
    const complete = this.filter.isComplete;
    for (const tx of txs) {
      const view = this.view(tx.graph);
      add(view, prefetchNeeds(tx));
      if (!complete) add(view, creationNeeds(tx));
    }
    await this.load(plan);
    plan.clear();
    for (const tx of txs) {
      const view = this.view(tx.graph);
      add(view, followUpNeeds(tx, view));
    }
    await this.load(plan);
  }

  /**
   * Folds one transaction into the staged state; an applied diff is staged for `commit`. `admit`
   * may refuse a valid diff the caller cannot publish (one too large for a Kafka record): the
   * transaction is then refused with that error, and nothing of it is staged.
   */
  async fold(tx: GraphTransaction, options: FoldOptions, admit?: (diff: GraphDiff) => TerminalError | undefined): Promise<FoldResult> {
    this.settle();
    const view = this.view(tx.graph);
    for (;;) {
      try {
        const result = fold(view, tx, options);
        if (result.outcome === 'applied') {
          const refusal = admit?.(result.diff);
          if (refusal !== undefined) return { outcome: 'refused', error: refusal };
          this.stageDiff(view, result.diff);
        } else if (result.outcome === 'unchanged') {
          this.staging.of(view).txs.set(tx.txId, null);
          this.filter.addText(view.txSeed, tx.txId);
        }
        return result;
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        await this.load(new Map([[view, error.needs]]));
      }
    }
  }

  /**
   * Stages diffs read from the changelog, in changelog order. Throws {@link StoreDivergedError}
   * when a diff does not follow its graph's head: the store must then be rebuilt.
   */
  async replay(diffs: readonly GraphDiff[]): Promise<void> {
    this.settle();
    const plan = new Map<GraphView, Need[]>();
    for (const diff of diffs) {
      const view = this.view(diff.graph);
      const needs = plan.get(view) ?? [{ what: 'head' } as Need];
      for (const change of diff.changes) {
        if (!isUid(change.uid)) throw new StoreDivergedError(`slice ${diff.slice} of graph '${diff.graph}' names '${change.uid}', which is not a uid`, { graph: diff.graph, slice: diff.slice, txId: diff.txId });
        if (change.op !== 'Created') needs.push({ what: 'atom', uid: change.uid });
        else if (change.source !== undefined && change.target !== undefined) needs.push({ what: 'atom', uid: change.source }, { what: 'atom', uid: change.target });
      }
      plan.set(view, needs);
    }
    await this.load(plan);
    for (const diff of diffs) {
      for (;;) {
        try {
          this.stageDiff(this.view(diff.graph), diff);
          break;
        } catch (error) {
          if (!(error instanceof NotLoaded)) throw error;
          await this.load(new Map([[this.view(diff.graph), error.needs]]));
        }
      }
    }
  }

  /**
   * Seals what is staged and writes it, with the checkpoint, as one atomic WriteBatch (after the
   * write before it). Resolves once it is on disk; the next batch can be staged meanwhile. If a
   * write fails, the store refuses all further work: reopen it (the changelog restores the rest).
   */
  commit(checkpoint: records.Checkpoint): Promise<void> {
    this.settle();
    const layer = this.staging;
    const { batch } = layer;
    const slices: ListAppend[] = [];
    const types: ListAppend[] = [];
    for (const [view, staged] of layer.graphs) {
      const graphKeys = view.keys;
      for (const uid of [...staged.atoms.keys()].sort()) batch.put(graphKeys.atom(uid), records.encodeAtom(staged.atoms.get(uid) as StoredAtom));
      if (staged.head !== undefined) batch.put(graphKeys.head(), records.encodeHead({ slice: staged.head, time: staged.headTime }));
      for (const [txId, slice] of staged.txs) batch.put(graphKeys.tx(txId), records.encodeTx(slice));
      this.listAppends(view, staged, slices, types);
    }
    batch.put(keys.checkpointKey, records.encodeCheckpoint(checkpoint));
    this.layers.push(new Layer(this.rocks.batch()));
    this.trim();
    this.writing = this.writing.then(async () => {
      try {
        await Promise.all([this.sliceBuckets.write(slices, batch), this.typeBuckets.write(types, batch), this.rejectionLog.prune(batch, layer.rejections)]);
        await batch.write();
        for (const [view, staged] of layer.graphs) this.reads.written(view.graph, staged.atoms.keys(), staged.spilled.keys());
      } catch (error) {
        this.failure = new FatalError(`the store at ${this.location} failed to write a batch and must be reopened`, {}, { cause: error });
        throw this.failure;
      }
      layer.written = true;
      this.written = checkpoint;
    });
    return this.writing;
  }

  /** Stages a rejection of a transaction of `graph` (written with the next commit); the store keeps the last `rejectionsKept` per graph. */
  stageRejection(graph: string, rejection: StoredRejection): void {
    this.settle();
    this.rejectionLog.stage(this.staging.batch, this.staging.rejections, graph, rejection);
  }

  /** Forgets everything staged since the last commit. Idempotent. */
  discard(): void {
    for (const [view, staged] of this.staging.graphs) view.unstage(staged);
    this.layers[this.layers.length - 1] = new Layer(this.rocks.batch());
    this.pinLayers();
  }

  /** Puts what the unwritten layers staged back in the views' caches, as the latest records. */
  private pinLayers(): void {
    for (const layer of this.layers) for (const [view, staged] of layer.graphs) view.pin(staged);
  }

  private get staging(): Layer {
    return this.layers[this.layers.length - 1] as Layer;
  }

  private view(graph: string): GraphView {
    let view = this.views.get(graph);
    if (view === undefined) this.views.set(graph, (view = new GraphView(graph, this.filter)));
    return view;
  }

  /** The slice log and type index items a layer appends for one graph. */
  private listAppends(view: GraphView, staged: StagedGraph, slices: ListAppend[], types: ListAppend[]): void {
    const w = this.bucketWriter;
    if (staged.diffs.length > 0) {
      const items = staged.diffs.map((diff) => {
        records.encodeSlice(w.reset(), diff);
        return w.copy();
      });
      slices.push({ id: view.graph, prefix: view.keys.tagged(keys.tags.slice), slices: staged.diffs.map((diff) => diff.slice), items });
    }
    const { types: typeNames, uids, slices: created } = staged.typed;
    if (uids.length > 0) {
      const items = uids.map((uid, i) => {
        records.encodeTyped(w.reset(), typeNames[i] as string, uid, created[i] as number);
        return w.copy();
      });
      types.push({ id: view.graph, prefix: view.keys.tagged(keys.tags.type), slices: created, items });
    }
  }

  /**
   * Throws if a write failed; else moves written layers into the cache. Called at the start of
   * every write-path call, when no load is in flight: a load still running could otherwise put
   * what it read before the write into the cache after the layer left it. (An edge scan may still
   * have seen a layer it then has applied again; applying edge deltas is idempotent.)
   */
  private settle(): void {
    if (this.failure !== undefined) throw this.failure;
    while (this.layers.length > 1 && (this.layers[0] as Layer).written) {
      const layer = this.layers.shift() as Layer;
      for (const [view, staged] of layer.graphs) view.absorb(staged);
    }
  }

  /** Forgets what was not used lately once the cache holds more than `cachedAtoms`. */
  private trim(): void {
    let young = 0;
    for (const view of this.views.values()) young += view.youngSize;
    if (young < this.cachedAtoms / 2) return;
    for (const [graph, view] of this.views) {
      view.rotate();
      if (view.idle) this.views.delete(graph);
    }
    this.pinLayers();
  }

  private async load(plan: ReadonlyMap<GraphView, readonly Need[]>): Promise<void> {
    const getKeys: Buffer[] = [];
    const apply: ((value: Buffer | undefined) => void)[] = [];
    const scans: Promise<void>[] = [];
    for (const [view, needs] of plan) {
      const scheduled = new Set<string>();
      const get = (id: string, key: () => Buffer, onValue: (value: Buffer | undefined) => void): void => {
        if (scheduled.has(id)) return;
        scheduled.add(id);
        getKeys.push(key());
        apply.push(onValue);
      };
      const loadAtom = (uid: Uid): void =>
        get(uid, () => view.keys.atom(uid), (v) => view.atoms.set(uid, v === undefined ? null : records.decodeAtom(uid, v)));
      for (const need of needs) {
        switch (need.what) {
          case 'head':
            if (view.knownHead() === undefined) {
              get('h', () => view.keys.head(), (v) => {
                const head = v === undefined ? { slice: 0, time: 0 } : records.decodeHead(v);
                view.writtenHead = head.slice;
                view.writtenHeadTime = head.time;
              });
            }
            break;
          case 'tx':
            if (!view.knowsTx(need.txId)) get(`t${need.txId}`, () => view.keys.tx(need.txId), (v) => view.txs.set(need.txId, v === undefined ? 'unseen' : records.decodeTx(v)));
            break;
          case 'atom':
            if (view.knownRecord(need.uid) === undefined) loadAtom(need.uid);
            break;
          case 'edges': {
            const atom = view.knownRecord(need.uid);
            if (atom === undefined) {
              loadAtom(need.uid);
            } else if (atom !== null && atom.edges(need.direction) === undefined && view.spilledEdges(need.uid, need.direction) === undefined) {
              const id = `e${need.direction}${need.uid}`;
              if (scheduled.has(id)) break;
              scheduled.add(id);
              const key = spilledKey(need.direction, need.uid);
              scans.push(this.liveEdges(view.keys, need.uid, need.direction).then((edges) => view.spilled.set(key, edges)));
            }
            break;
          }
        }
      }
    }
    const [values] = await Promise.all([this.rocks.getMany(getKeys), ...scans]);
    values.forEach((value, i) => (apply[i] as (value: Buffer | undefined) => void)(value));
  }

  /** The live relations of a spilled direction, from its edge entries. */
  private async liveEdges(graphKeys: keys.GraphKeys, uid: Uid, direction: Direction): Promise<RelationEdge[]> {
    const prefix = graphKeys.edgePrefix(uid, direction);
    const edges: RelationEdge[] = [];
    for await (const entries of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      for (const [key, value] of entries) {
        const edge = records.decodeEdge(value);
        if (edge.terminated !== undefined) continue;
        const { type, relation } = keys.parseEdgeKey(key);
        edges.push({ uid: relation, type, other: edge.other });
      }
    }
    return edges;
  }

  /**
   * Stages one diff: the records of the atoms it changes (relations change both ends' records),
   * the value history, the slice log and type index items. Reads everything it needs before
   * changing anything, so a NotLoaded leaves no trace.
   */
  private stageDiff(view: GraphView, diff: GraphDiff): void {
    const { graph, slice, changes } = diff;
    const head = view.head();
    const diverged = (message: string): StoreDivergedError => new StoreDivergedError(message, { graph, slice, txId: diff.txId });
    if (slice !== head + 1) throw diverged(`diff for slice ${slice} of graph '${graph}' does not follow the store's head, slice ${head}`);

    const missing: Need[] = [];
    const read = (uid: Uid): StoredAtom | undefined => {
      if (createdIn(changes, uid)) return undefined;
      try {
        const atom = view.record(uid);
        if (atom === null) throw diverged(`slice ${slice} of graph '${graph}' changes atom ${uid}, which the store does not hold`);
        return atom;
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        for (const need of error.needs) missing.push(need);
        return undefined;
      }
    };
    for (const change of changes) {
      if (change.op !== 'Created') {
        const atom = read(change.uid);
        if (change.op === 'Terminated' && atom?.kind === 'relation') {
          read(atom.source as Uid);
          read(atom.target as Uid);
        }
      } else if (change.source !== undefined && change.target !== undefined) {
        read(change.source);
        read(change.target);
      }
    }
    if (missing.length > 0) throw new NotLoaded(missing);

    const layer = this.staging;
    const staged = layer.of(view);
    const latest = (uid: Uid): StoredAtom => view.record(uid) as StoredAtom;
    for (const change of changes) {
      switch (change.op) {
        case 'Created': {
          const { uid, kind, type, source, target } = change;
          const relation = source !== undefined && target !== undefined;
          this.filter.addUid(view.atomSeed, uid);
          view.stage(staged, StoredAtom.created(uid, kind, type, slice, relation ? source : undefined, relation ? target : undefined));
          if (kind !== 'attribute') staged.addTyped(type, uid, slice);
          if (relation) {
            this.addEdge(view, staged, source, 'out', new StoredEdge(uid, type, target, slice, undefined));
            this.addEdge(view, staged, target, 'in', new StoredEdge(uid, type, source, slice, undefined));
          }
          break;
        }
        case 'Assigned': {
          const atom = latest(change.uid);
          if (atom.value !== undefined && atom.assigned !== undefined) layer.batch.put(view.keys.value(atom.uid, atom.assigned), records.encodeValue(atom.value));
          view.stage(staged, atom.assignedTo(change.value, slice));
          break;
        }
        case 'Terminated': {
          const atom = latest(change.uid);
          view.stage(staged, atom.terminatedAt(slice));
          if (atom.kind === 'relation') {
            this.endEdge(view, staged, atom.source as Uid, 'out', atom, atom.target as Uid, slice);
            this.endEdge(view, staged, atom.target as Uid, 'in', atom, atom.source as Uid, slice);
          }
          break;
        }
      }
    }
    staged.head = slice;
    staged.headTime = diff.time;
    staged.txs.set(diff.txId, slice);
    this.filter.addText(view.txSeed, diff.txId);
    staged.diffs.push(diff);
  }

  /** Adds a relation to one end's record, or, when that direction spilled, to its edge entries. */
  private addEdge(view: GraphView, staged: StagedGraph, end: Uid, direction: Direction, edge: StoredEdge): void {
    const atom = view.record(end) as StoredAtom;
    const edges = atom.edges(direction);
    const batch = this.staging.batch;
    if (edges === undefined) {
      batch.put(view.keys.edge(end, direction, edge.type, edge.uid), records.encodeEdge(edge.other, edge.created, undefined));
      staged.delta(direction, end).added.push(edge);
      return;
    }
    const list = insertEdge(edges, edge);
    if (list.length <= this.layout.inlineEdges) {
      view.stage(staged, atom.withEdges(direction, list));
      return;
    }
    for (const e of list) batch.put(view.keys.edge(end, direction, e.type, e.uid), records.encodeEdge(e.other, e.created, e.terminated));
    const delta = staged.delta(direction, end);
    delta.fresh = true;
    for (const e of list) if (e.terminated === undefined) delta.added.push(e);
    view.stage(staged, atom.withEdges(direction, undefined));
  }

  /** Ends a relation in one end's record, or in its edge entry when that direction spilled. */
  private endEdge(view: GraphView, staged: StagedGraph, end: Uid, direction: Direction, relation: StoredAtom, other: Uid, slice: number): void {
    const atom = view.record(end) as StoredAtom;
    const edges = atom.edges(direction);
    if (edges === undefined) {
      this.staging.batch.put(view.keys.edge(end, direction, relation.type, relation.uid), records.encodeEdge(other, relation.created, slice));
      staged.delta(direction, end).ended.add(relation.uid);
      return;
    }
    const i = edges.findIndex((edge) => edge.uid === relation.uid);
    if (i < 0) throw new StoreDivergedError(`relation ${relation.uid} is missing from the record of its end ${end}`, { graph: view.graph, slice });
    const list = edges.slice();
    list[i] = (edges[i] as StoredEdge).ended(slice);
    view.stage(staged, atom.withEdges(direction, list));
  }

  // --- reading, as of any slice ---------------------------------------------------------------

  /** The graph's latest written slice; 0 when it has none. */
  async head(graph: string): Promise<number> {
    const cached = this.reads.head(graph);
    if (cached !== undefined) return cached;
    const epoch = this.reads.epoch;
    const value = await this.rocks.get(new keys.GraphKeys(graph).head());
    const head = value === undefined ? 0 : records.decodeHead(value).slice;
    this.reads.keepHead(epoch, graph, head);
    return head;
  }

  /** Every graph this store holds. */
  async *graphs(): AsyncGenerator<string> {
    const range = keys.tagRange(keys.tags.head);
    for await (const entries of this.rocks.scan(range.gte, range.lt, { values: false })) for (const [key] of entries) yield keys.graphOfHeadKey(key);
  }

  /** The atom as it was at `slice` (default: the latest); undefined when it did not exist then. */
  async atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[atom], at] = await Promise.all([this.readAtoms(graphKeys, [uid]), slice ?? this.head(graph)]);
    return atom !== undefined && atom !== null && existsAt(atom, at) ? this.viewAt(graphKeys, atom, at) : undefined;
  }

  /** An atom's kind, type and lifetime (created, and terminated when it was), whatever the slice; undefined for a uid never created. */
  async lifetimeOf(graph: string, uid: Uid): Promise<{ readonly kind: AtomKind; readonly type: string; readonly created: number; readonly terminated?: number } | undefined> {
    const [atom] = await this.readAtoms(new keys.GraphKeys(graph), [uid]);
    if (atom === undefined || atom === null) return undefined;
    return atom.terminated === undefined ? { kind: atom.kind, type: atom.type, created: atom.created } : { kind: atom.kind, type: atom.type, created: atom.created, terminated: atom.terminated };
  }

  /** Every atom of a graph that existed at `slice` (default: the latest), in uid order. */
  async *atoms(graph: string, slice?: number): AsyncGenerator<AtomAt> {
    const at = slice ?? (await this.head(graph));
    const graphKeys = new keys.GraphKeys(graph);
    const prefix = graphKeys.tagged(keys.tags.atom);
    for await (const entries of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      for (const [key, value] of entries) {
        const atom = records.decodeAtom(keys.uidOfAtomKey(key), value);
        if (existsAt(atom, at)) yield await this.viewAt(graphKeys, atom, at);
      }
    }
  }

  /** An attribute's value at `slice` (default: the latest); undefined when none was assigned by then. */
  async valueAt(graph: string, uid: Uid, slice?: number): Promise<Value | undefined> {
    return (await this.atomAt(graph, uid, slice))?.value;
  }

  private async viewAt(graphKeys: keys.GraphKeys, atom: StoredAtom, slice: number): Promise<AtomAt> {
    const view: { -readonly [K in keyof AtomAt]: AtomAt[K] } = { uid: atom.uid, kind: atom.kind, type: atom.type, created: atom.created };
    if (atom.source !== undefined) view.source = atom.source;
    if (atom.target !== undefined) view.target = atom.target;
    const value = await this.valueOf(graphKeys, atom, slice);
    if (value !== undefined) view.value = value;
    return view;
  }

  private async valueOf(graphKeys: keys.GraphKeys, atom: StoredAtom, slice: number): Promise<Value | undefined> {
    if (atom.assigned === undefined) return undefined;
    if (atom.assigned <= slice) return atom.value;
    const entry = await this.rocks.first(graphKeys.value(atom.uid, slice), keys.prefixEnd(graphKeys.valuePrefix(atom.uid)));
    return entry === undefined ? undefined : records.decodeValue(entry[1]);
  }

  /** The relations out of (or into) an atom that existed at `slice`, optionally of one type only; by type, then uid. */
  async relationsAt(graph: string, uid: Uid, direction: Direction, options: { readonly type?: string; readonly slice?: number } = {}): Promise<RelationEdge[]> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[atom], at] = await Promise.all([this.readAtoms(graphKeys, [uid]), options.slice ?? this.head(graph)]);
    if (atom === undefined || atom === null) return [];
    const edges: RelationEdge[] = [];
    for (const edge of atom.edges(direction) ?? (await this.readSpilled(graphKeys, uid, direction))) {
      if ((options.type === undefined || edge.type === options.type) && existsAt(edge, at)) edges.push({ uid: edge.uid, type: edge.type, other: edge.other });
    }
    return edges;
  }

  /**
   * The atoms within `hops` relations of `start` as of `slice` (default: the latest), following
   * relations in either direction, `start` first, then by distance; empty when `start` did not
   * exist then. Each hop reads the frontier's records, whose relations are inline, in one
   * multi-get; only an atom whose relations spilled costs a prefix scan. What was read stays in
   * the read cache, so a warm neighbourhood is walked in memory.
   */
  async neighbourhood(graph: string, start: Uid, hops: number, slice?: number): Promise<Uid[]> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[first], at] = await Promise.all([this.readAtoms(graphKeys, [start]), slice ?? this.head(graph)]);
    if (first === undefined || first === null || !existsAt(first, at)) return [];
    const reached = new Set<Uid>([start]);
    let frontier: (StoredAtom | null)[] = [first];
    for (let hop = 0; hop < hops && frontier.length > 0; hop += 1) {
      const next: Uid[] = [];
      const reach = (edges: readonly { readonly other: Uid; readonly created: number; readonly terminated?: number }[]): void => {
        for (const edge of edges) {
          if (!existsAt(edge, at) || reached.has(edge.other)) continue;
          reached.add(edge.other);
          next.push(edge.other);
        }
      };
      const spilled: Promise<void>[] = [];
      for (const atom of frontier) {
        if (atom === null) continue;
        for (const direction of ['out', 'in'] as const) {
          const inline = atom.edges(direction);
          if (inline === undefined) spilled.push(this.readSpilled(graphKeys, atom.uid, direction).then(reach));
          else reach(inline);
        }
      }
      await Promise.all(spilled);
      frontier = hop + 1 < hops ? await this.readAtoms(graphKeys, next) : [];
    }
    return [...reached];
  }

  /** Written records of some atoms (null where absent), from the read cache or one multi-get. */
  private async readAtoms(graphKeys: keys.GraphKeys, uids: readonly Uid[]): Promise<(StoredAtom | null)[]> {
    const { graph } = graphKeys;
    const epoch = this.reads.epoch;
    const found = uids.map((uid) => this.reads.atom(graph, uid));
    const missing = uids.filter((_, i) => found[i] === undefined);
    if (missing.length > 0) {
      const values = await this.rocks.getMany(missing.map((uid) => graphKeys.atom(uid)));
      let j = 0;
      for (const [i, uid] of uids.entries()) {
        if (found[i] !== undefined) continue;
        const value = values[j++];
        const atom = value === undefined ? null : records.decodeAtom(uid, value);
        found[i] = atom;
        this.reads.keepAtom(epoch, graph, uid, atom);
      }
    }
    return found as (StoredAtom | null)[];
  }

  /** The relations of a spilled direction with their lifetimes, by type then uid: from the read cache or one prefix scan. */
  private async readSpilled(graphKeys: keys.GraphKeys, uid: Uid, direction: Direction): Promise<readonly HistoricEdge[]> {
    const { graph } = graphKeys;
    const cached = this.reads.edges(graph, direction, uid);
    if (cached !== undefined) return cached;
    const epoch = this.reads.epoch;
    const edges: HistoricEdge[] = [];
    const prefix = graphKeys.edgePrefix(uid, direction);
    for await (const entries of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      for (const [key, value] of entries) {
        const { other, created, terminated } = records.decodeEdge(value);
        const { type, relation } = keys.parseEdgeKey(key);
        edges.push(terminated === undefined ? { uid: relation, type, other, created } : { uid: relation, type, other, created, terminated });
      }
    }
    this.reads.keepEdges(epoch, graph, direction, uid, edges);
    return edges;
  }

  /**
   * The uids of the entities (or relations) of a type that existed at `slice`, in the order they
   * were created; attributes are not indexed by type. The index lists a graph's creations of all
   * types, a bucket of slices per entry; each of the type is checked against its atom's record.
   */
  async *atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    const at = slice ?? (await this.head(graph));
    const graphKeys = new keys.GraphKeys(graph);
    const prefix = graphKeys.tagged(keys.tags.type);
    for await (const entries of this.rocks.scan(keys.bucketKey(prefix, 0), keys.bucketKey(prefix, this.typeBuckets.bucketOf(at) + 1))) {
      for (const [, bucket] of entries) {
        const uids = records.decodeTyped(bucket, type, at);
        const stored = await this.rocks.getMany(uids.map((uid) => graphKeys.atom(uid)));
        for (const [i, uid] of uids.entries()) {
          const value = stored[i];
          if (value !== undefined && existsAt(records.decodeAtom(uid, value), at)) yield uid;
        }
      }
    }
  }

  /** The slice log from `from` to `to` (inclusive; default the whole log). */
  async *sliceLog(graph: string, from = 1, to = Number.MAX_SAFE_INTEGER - 1): AsyncGenerator<records.SliceInfo> {
    for await (const diff of this.diffs(graph, from, to)) yield { slice: diff.slice, txId: diff.txId, time: diff.time, source: diff.source };
  }

  /** The slice a txId made; null when it changed nothing; undefined when never seen. */
  async sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    const value = await this.rocks.get(new keys.GraphKeys(graph).tx(txId));
    return value === undefined ? undefined : records.decodeTx(value);
  }

  /** The slice diffs `from` to `to` (inclusive), as they were emitted. */
  async *diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    if (from > to) return;
    const prefix = new keys.GraphKeys(graph).tagged(keys.tags.slice);
    const out: GraphDiff[] = [];
    for await (const entries of this.rocks.scan(keys.bucketKey(prefix, this.sliceBuckets.bucketOf(from)), keys.bucketKey(prefix, this.sliceBuckets.bucketOf(to) + 1))) {
      for (const [, bucket] of entries) {
        records.decodeSlices(graph, bucket, from, to, out);
        yield* out;
        out.length = 0;
      }
    }
  }

  /** `diff(from, to)`: the changes that turn slice `from` into slice `to` (DESIGN.md §4, law 2). */
  async diff(graph: string, from: number, to: number): Promise<RangeDiff> {
    const head = await this.head(graph);
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to && to <= head)) {
      throw new RangeError(`diff(${from}, ${to}) of graph '${graph}': need 0 <= from <= to <= ${head} (its latest slice)`);
    }
    const slices: GraphDiff[] = [];
    for await (const diff of this.diffs(graph, from + 1, to)) slices.push(diff);
    return diffBetween(graph, from, to, slices);
  }

  /** The recorded rejection of a txId, if it is among the kept ones (written state only). */
  rejectionOf(graph: string, txId: string): Promise<StoredRejection | undefined> {
    return this.rejectionLog.rejectionOf(graph, txId);
  }

  /** The kept rejections of a graph, newest first. */
  rejections(graph: string, options: { readonly limit?: number } = {}): AsyncGenerator<StoredRejection> {
    return this.rejectionLog.rejections(graph, options.limit);
  }

  /** Approximate bytes on disk of everything in the store. */
  sizeOnDisk(): Promise<number> {
    return this.rocks.approximateSize(Buffer.from([0x00]), Buffer.from([0xff]));
  }
}

/** True when `changes` (creations first) create `uid`. */
function createdIn(changes: GraphDiff['changes'], uid: Uid): boolean {
  for (const change of changes) {
    if (change.op !== 'Created') return false;
    if (change.uid === uid) return true;
  }
  return false;
}

/** The relations with `edge` inserted in order. */
function insertEdge(edges: readonly StoredEdge[], edge: StoredEdge): StoredEdge[] {
  let i = edges.length;
  while (i > 0 && byTypeThenUid(edges[i - 1] as StoredEdge, edge) > 0) i -= 1;
  const list = edges.slice(0, i);
  list.push(edge);
  for (let j = i; j < edges.length; j += 1) list.push(edges[j] as StoredEdge);
  return list;
}
