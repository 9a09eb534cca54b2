import { mkdir } from 'node:fs/promises';
import { FatalError, StoreDivergedError } from '../errors';
import { diffBetween, type RangeDiff } from '../engine/diff';
import { fold, type FoldOptions, type FoldResult } from '../engine/fold';
import type { AtomKind, GraphDiff, GraphTransaction, Uid, Value } from '../engine/model';
import { followUpNeeds, prefetchNeeds } from '../engine/prefetch';
import { existsAt, NotLoaded, type AtomRecord, type Direction, type GraphState, type Need, type RelationEdge } from '../engine/state';
import * as keys from './keys';
import { Lru } from './lru';
import * as records from './records';
import { Rocks, type RocksBatch, type RocksOptions } from './rocks';

export type { Checkpoint, SliceInfo } from './records';

export interface GraphStoreOptions {
  readonly rocks: RocksOptions;
  /**
   * Atoms (and as many edge lists) kept in memory between batches. About 1 KiB each on the heap,
   * all told; txIds are cached only from a batch's prefetch until it is written.
   */
  readonly cachedAtoms: number;
}

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

/** Changes to one atom's live edges in one direction, staged in a layer. */
interface EdgeDelta {
  readonly added: RelationEdge[];
  readonly ended: Set<Uid>;
  /** The atom was created in this layer, so its edges before the layer are known: none. */
  fresh: boolean;
}

/** What one batch staged: read before the cache, written to RocksDB as one WriteBatch. */
class Layer {
  /** On disk: absorbed into the cache at the next safe point. */
  written = false;
  readonly atoms = new Map<string, AtomRecord>();
  readonly heads = new Map<string, number>();
  readonly txs = new Map<string, { readonly graph: string; readonly txId: string; readonly slice: number | null }>();
  readonly edges = new Map<string, EdgeDelta>();

  constructor(readonly batch: RocksBatch) {}

  delta(key: string): EdgeDelta {
    let delta = this.edges.get(key);
    if (delta === undefined) this.edges.set(key, (delta = { added: [], ended: new Set(), fresh: false }));
    return delta;
  }
}

const byTypeThenUid = (a: RelationEdge, b: RelationEdge): number =>
  a.type < b.type ? -1 : a.type > b.type ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;

/**
 * The graphs of one input partition in one RocksDB database (DESIGN.md §6).
 *
 * Writing is a batch at a time, by one writer:
 * 1. `prefetch` the transactions of a batch (two rounds of one multi-get and a few prefix scans);
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
  private readonly atomCache: Lru<string, AtomRecord | null>;
  private readonly edgeCache: Lru<string, RelationEdge[]>;
  private readonly headCache: Lru<string, number>;
  private readonly txCache: Lru<string, number | null | 'unseen'>;

  /** Oldest first: at most one layer being written, then the one being staged. */
  private layers: Layer[];
  private writing: Promise<void> = Promise.resolve();
  private failure: FatalError | undefined;

  private constructor(
    private readonly rocks: Rocks,
    private written: records.Checkpoint,
    options: GraphStoreOptions,
  ) {
    this.atomCache = new Lru(options.cachedAtoms);
    this.edgeCache = new Lru(options.cachedAtoms);
    this.headCache = new Lru(options.cachedAtoms);
    this.txCache = new Lru(options.cachedAtoms);
    this.layers = [new Layer(rocks.batch())];
  }

  /** Opens (creating when missing) the store in `dir`. */
  static async open(dir: string, options: GraphStoreOptions): Promise<GraphStore> {
    await mkdir(dir, { recursive: true });
    const rocks = await Rocks.open(dir, options.rocks);
    const checkpoint = await rocks.get(keys.checkpointKey);
    return new GraphStore(rocks, checkpoint === undefined ? {} : records.decodeCheckpoint(checkpoint), options);
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
    await this.writing.catch(() => undefined);
    this.discard();
    await this.rocks.close();
  }

  // --- writing ------------------------------------------------------------------------------

  /** Loads what folding these transactions will most likely read, in two rounds. */
  async prefetch(txs: readonly GraphTransaction[]): Promise<void> {
    this.settle();
    const byGraph = new Map<string, Need[]>();
    const add = (graph: string, needs: readonly Need[]): void => {
      const list = byGraph.get(graph);
      if (list === undefined) byGraph.set(graph, [...needs]);
      else list.push(...needs);
    };
    for (const tx of txs) add(tx.graph, prefetchNeeds(tx));
    await this.load(byGraph);
    byGraph.clear();
    for (const tx of txs) add(tx.graph, followUpNeeds(tx, this.stateOf(tx.graph)));
    await this.load(byGraph);
  }

  /** Folds one transaction into the staged state; an applied diff is staged for `commit`. */
  async fold(tx: GraphTransaction, options: FoldOptions): Promise<FoldResult> {
    this.settle();
    for (;;) {
      try {
        const result = fold(this.stateOf(tx.graph), tx, options);
        if (result.outcome === 'applied') this.stageDiff(result.diff);
        else if (result.outcome === 'unchanged') this.staging.txs.set(`${tx.graph}\0${tx.txId}`, { graph: tx.graph, txId: tx.txId, slice: null });
        return result;
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        await this.load(new Map([[tx.graph, error.needs]]));
      }
    }
  }

  /**
   * Stages diffs read from the changelog, in changelog order. Throws {@link StoreDivergedError}
   * when a diff does not follow its graph's head: the store must then be rebuilt.
   */
  async replay(diffs: readonly GraphDiff[]): Promise<void> {
    this.settle();
    const byGraph = new Map<string, Need[]>();
    for (const diff of diffs) {
      const needs = byGraph.get(diff.graph) ?? [{ what: 'head' } as Need];
      for (const change of diff.changes) if (change.op !== 'Created') needs.push({ what: 'atom', uid: change.uid });
      byGraph.set(diff.graph, needs);
    }
    await this.load(byGraph);
    for (const diff of diffs) {
      for (;;) {
        try {
          this.stageDiff(diff);
          break;
        } catch (error) {
          if (!(error instanceof NotLoaded)) throw error;
          await this.load(new Map([[diff.graph, error.needs]]));
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
    layer.batch.put(keys.checkpointKey, records.encodeCheckpoint(checkpoint));
    for (const [key, atom] of layer.atoms) layer.batch.put(keys.atomKey(graphOf(key), atom.uid), records.encodeAtom(atom));
    for (const [graph, slice] of layer.heads) layer.batch.put(keys.headKey(graph), records.encodeNumber(slice));
    for (const { graph, txId, slice } of layer.txs.values()) layer.batch.put(keys.txKey(graph, txId), records.encodeTx(slice));
    this.layers.push(new Layer(this.rocks.batch()));
    for (const cache of [this.atomCache, this.edgeCache, this.headCache, this.txCache]) cache.trim();
    this.writing = this.writing.then(async () => {
      try {
        await layer.batch.write();
      } catch (error) {
        this.failure = new FatalError(`the store at ${this.location} failed to write a batch and must be reopened`, {}, { cause: error });
        throw this.failure;
      }
      layer.written = true;
      this.written = checkpoint;
    });
    return this.writing;
  }

  /** Forgets everything staged since the last commit. Idempotent. */
  discard(): void {
    this.layers[this.layers.length - 1] = new Layer(this.rocks.batch());
  }

  private get staging(): Layer {
    return this.layers[this.layers.length - 1] as Layer;
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
      for (const [key, atom] of layer.atoms) this.atomCache.set(key, atom);
      for (const [graph, slice] of layer.heads) this.headCache.set(graph, slice);
      for (const key of layer.txs.keys()) this.txCache.delete(key);
      for (const [key, delta] of layer.edges) {
        const cached = this.edgeCache.get(key) ?? (delta.fresh ? [] : undefined);
        if (cached !== undefined) this.edgeCache.set(key, applyDeltas(cached, [delta]));
      }
    }
  }

  /** The engine's view of one graph: staged layers over the cache; `NotLoaded` past that. */
  private stateOf(graph: string): GraphState {
    return {
      graph,
      head: () => this.headOf(graph),
      txSlice: (txId) => {
        const key = `${graph}\0${txId}`;
        for (let i = this.layers.length - 1; i >= 0; i -= 1) {
          const staged = (this.layers[i] as Layer).txs.get(key);
          if (staged !== undefined) return staged.slice;
        }
        const cached = this.txCache.get(key);
        if (cached === undefined) throw new NotLoaded([{ what: 'tx', txId }]);
        return cached === 'unseen' ? undefined : cached;
      },
      atom: (uid) => this.atomOf(graph, uid) ?? undefined,
      edges: (uid, direction) => {
        const edges = this.edgesOf(edgesKey(graph, uid, direction));
        if (edges === undefined) throw new NotLoaded([{ what: 'edges', uid, direction }]);
        return edges;
      },
    };
  }

  private headOf(graph: string): number {
    for (let i = this.layers.length - 1; i >= 0; i -= 1) {
      const staged = (this.layers[i] as Layer).heads.get(graph);
      if (staged !== undefined) return staged;
    }
    const head = this.headCache.get(graph);
    if (head === undefined) throw new NotLoaded([{ what: 'head' }]);
    return head;
  }

  /** The atom, null when it does not exist; throws NotLoaded when not in memory. */
  private atomOf(graph: string, uid: Uid): AtomRecord | null {
    const key = `${graph}\0${uid}`;
    for (let i = this.layers.length - 1; i >= 0; i -= 1) {
      const staged = (this.layers[i] as Layer).atoms.get(key);
      if (staged !== undefined) return staged;
    }
    const atom = this.atomCache.get(key);
    if (atom === undefined) throw new NotLoaded([{ what: 'atom', uid }]);
    return atom;
  }

  /** Live edges: the cached list (or none, for an atom created in a layer) with the layers' deltas. */
  private edgesOf(key: string): RelationEdge[] | undefined {
    const deltas: EdgeDelta[] = [];
    let base = this.edgeCache.get(key);
    for (const layer of this.layers) {
      const delta = layer.edges.get(key);
      if (delta === undefined) continue;
      if (delta.fresh) {
        base = [];
        deltas.length = 0;
      }
      deltas.push(delta);
    }
    if (base === undefined) return undefined;
    return deltas.length === 0 ? base : applyDeltas(base, deltas);
  }

  private isStaged(check: (layer: Layer) => boolean): boolean {
    return this.layers.some(check);
  }

  private async load(needsByGraph: ReadonlyMap<string, readonly Need[]>): Promise<void> {
    const getKeys: Buffer[] = [];
    const apply: ((value: Buffer | undefined) => void)[] = [];
    const scans: Promise<void>[] = [];
    const scheduled = new Set<string>();
    const get = (cacheKey: string, key: Buffer, onValue: (value: Buffer | undefined) => void): void => {
      if (scheduled.has(cacheKey)) return;
      scheduled.add(cacheKey);
      getKeys.push(key);
      apply.push(onValue);
    };
    for (const [graph, needs] of needsByGraph) {
      for (const need of needs) {
        switch (need.what) {
          case 'head':
            if (!this.headCache.has(graph) && !this.isStaged((l) => l.heads.has(graph))) {
              get(`h\0${graph}`, keys.headKey(graph), (v) => this.headCache.set(graph, v === undefined ? 0 : records.decodeNumber(v)));
            }
            break;
          case 'tx': {
            const key = `${graph}\0${need.txId}`;
            if (!this.txCache.has(key) && !this.isStaged((l) => l.txs.has(key))) {
              get(`t\0${key}`, keys.txKey(graph, need.txId), (v) => this.txCache.set(key, v === undefined ? 'unseen' : records.decodeTx(v)));
            }
            break;
          }
          case 'atom': {
            const key = `${graph}\0${need.uid}`;
            if (!this.atomCache.has(key) && !this.isStaged((l) => l.atoms.has(key))) {
              get(`a\0${key}`, keys.atomKey(graph, need.uid), (v) => this.atomCache.set(key, v === undefined ? null : records.decodeAtom(need.uid, v)));
            }
            break;
          }
          case 'edges': {
            const key = edgesKey(graph, need.uid, need.direction);
            if (!scheduled.has(key) && this.edgesOf(key) === undefined) {
              scheduled.add(key);
              scans.push(this.liveEdges(graph, need.uid, need.direction).then((edges) => this.edgeCache.set(key, edges)));
            }
            break;
          }
        }
      }
    }
    const [values] = await Promise.all([this.rocks.getMany(getKeys), ...scans]);
    values.forEach((value, i) => (apply[i] as (value: Buffer | undefined) => void)(value));
  }

  private async liveEdges(graph: string, uid: Uid, direction: Direction): Promise<RelationEdge[]> {
    const prefix = keys.edgePrefix(graph, uid, direction);
    const edges: RelationEdge[] = [];
    for await (const [key, value] of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      const edge = records.decodeEdge(value);
      if (edge.terminated !== undefined) continue;
      const { type, relation } = keys.parseEdgeKey(key);
      edges.push({ uid: relation, type, other: edge.other });
    }
    return edges;
  }

  /** Stages one diff. Reads everything it needs before changing anything, so a NotLoaded leaves no trace. */
  private stageDiff(diff: GraphDiff): void {
    const { graph, slice } = diff;
    const head = this.headOf(graph);
    if (slice !== head + 1) {
      throw new StoreDivergedError(`diff for slice ${slice} of graph '${graph}' does not follow the store's head, slice ${head}`, { graph, slice, txId: diff.txId });
    }
    const missing: Need[] = [];
    const createdHere = new Set<Uid>();
    for (const change of diff.changes) {
      if (change.op === 'Created') {
        createdHere.add(change.uid);
        continue;
      }
      if (createdHere.has(change.uid)) continue;
      try {
        if (this.atomOf(graph, change.uid) === null) {
          throw new StoreDivergedError(`slice ${slice} of graph '${graph}' changes atom ${change.uid}, which the store does not hold`, { graph, slice, txId: diff.txId });
        }
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        missing.push(...error.needs);
      }
    }
    if (missing.length > 0) throw new NotLoaded(missing);

    const layer = this.staging;
    const { batch } = layer;
    for (const change of diff.changes) {
      const key = `${graph}\0${change.uid}`;
      switch (change.op) {
        case 'Created': {
          const atom: AtomRecord =
            change.source !== undefined && change.target !== undefined
              ? { uid: change.uid, kind: change.kind, type: change.type, created: slice, source: change.source, target: change.target }
              : { uid: change.uid, kind: change.kind, type: change.type, created: slice };
          layer.atoms.set(key, atom);
          if (atom.kind !== 'attribute') batch.put(keys.typeKey(graph, atom.type, atom.uid), records.encodeLifetime({ created: slice }));
          layer.delta(edgesKey(graph, atom.uid, 'out')).fresh = true;
          layer.delta(edgesKey(graph, atom.uid, 'in')).fresh = true;
          this.stageEdges(layer, graph, atom, { created: slice });
          break;
        }
        case 'Assigned': {
          const atom = this.atomOf(graph, change.uid) as AtomRecord;
          if (atom.value !== undefined && atom.assigned !== undefined) batch.put(keys.valueKey(graph, atom.uid, atom.assigned), records.encodeValue(atom.value));
          layer.atoms.set(key, { ...atom, value: change.value, assigned: slice });
          break;
        }
        case 'Terminated': {
          const atom = this.atomOf(graph, change.uid) as AtomRecord;
          layer.atoms.set(key, { ...atom, terminated: slice });
          if (atom.kind !== 'attribute') batch.put(keys.typeKey(graph, atom.type, atom.uid), records.encodeLifetime({ created: atom.created, terminated: slice }));
          this.stageEdges(layer, graph, atom, { created: atom.created, terminated: slice });
          break;
        }
      }
    }
    batch.put(keys.sliceKey(graph, slice), records.encodeSlice(diff));
    layer.heads.set(graph, slice);
    layer.txs.set(`${graph}\0${diff.txId}`, { graph, txId: diff.txId, slice });
  }

  /** For a relation: its edge entry at both ends, and the staged edge deltas. */
  private stageEdges(layer: Layer, graph: string, relation: AtomRecord, lifetime: records.Lifetime): void {
    const { source, target } = relation;
    if (relation.kind !== 'relation' || source === undefined || target === undefined) return;
    for (const [direction, end, other] of [['out', source, target], ['in', target, source]] as const) {
      layer.batch.put(keys.edgeKey(graph, end, direction, relation.type, relation.uid), records.encodeEdge({ other, ...lifetime }));
      const delta = layer.delta(edgesKey(graph, end, direction));
      if (lifetime.terminated === undefined) delta.added.push({ uid: relation.uid, type: relation.type, other });
      else delta.ended.add(relation.uid);
    }
  }

  // --- reading, as of any slice ---------------------------------------------------------------

  /** The graph's latest written slice; 0 when it has none. */
  async head(graph: string): Promise<number> {
    const value = await this.rocks.get(keys.headKey(graph));
    return value === undefined ? 0 : records.decodeNumber(value);
  }

  /** Every graph this store holds. */
  async *graphs(): AsyncGenerator<string> {
    for await (const [key] of this.rocks.scan(keys.headRange.gte, keys.headRange.lt)) yield keys.graphOfHeadKey(key);
  }

  /** The atom as it was at `slice` (default: the latest); undefined when it did not exist then. */
  async atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined> {
    const [stored, at] = await Promise.all([this.rocks.get(keys.atomKey(graph, uid)), slice ?? this.head(graph)]);
    if (stored === undefined) return undefined;
    const atom = records.decodeAtom(uid, stored);
    return existsAt(atom, at) ? this.view(graph, atom, at) : undefined;
  }

  /** Every atom of a graph that existed at `slice` (default: the latest), in uid order. */
  async *atoms(graph: string, slice?: number): AsyncGenerator<AtomAt> {
    const at = slice ?? (await this.head(graph));
    const prefix = keys.atomPrefix(graph);
    for await (const [key, value] of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      const atom = records.decodeAtom(keys.uidOfAtomKey(key), value);
      if (existsAt(atom, at)) yield await this.view(graph, atom, at);
    }
  }

  /** An attribute's value at `slice` (default: the latest); undefined when none was assigned by then. */
  async valueAt(graph: string, uid: Uid, slice?: number): Promise<Value | undefined> {
    return (await this.atomAt(graph, uid, slice))?.value;
  }

  private async view(graph: string, atom: AtomRecord, slice: number): Promise<AtomAt> {
    const view: { -readonly [K in keyof AtomAt]: AtomAt[K] } = { uid: atom.uid, kind: atom.kind, type: atom.type, created: atom.created };
    if (atom.source !== undefined) view.source = atom.source;
    if (atom.target !== undefined) view.target = atom.target;
    const value = await this.valueOf(graph, atom, slice);
    if (value !== undefined) view.value = value;
    return view;
  }

  private async valueOf(graph: string, atom: AtomRecord, slice: number): Promise<Value | undefined> {
    if (atom.assigned === undefined) return undefined;
    if (atom.assigned <= slice) return atom.value;
    const entry = await this.rocks.first(keys.valueKey(graph, atom.uid, slice), keys.prefixEnd(keys.valuePrefix(graph, atom.uid)));
    return entry === undefined ? undefined : records.decodeValue(entry[1]);
  }

  /** The relations out of (or into) an atom that existed at `slice`, optionally of one type only. */
  async relationsAt(graph: string, uid: Uid, direction: Direction, options: { readonly type?: string; readonly slice?: number } = {}): Promise<RelationEdge[]> {
    const at = options.slice ?? (await this.head(graph));
    const prefix = keys.edgePrefix(graph, uid, direction, options.type);
    const edges: RelationEdge[] = [];
    for await (const [key, value] of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      const edge = records.decodeEdge(value);
      if (!existsAt(edge, at)) continue;
      const { type, relation } = keys.parseEdgeKey(key);
      edges.push({ uid: relation, type, other: edge.other });
    }
    return edges;
  }

  /** The uids of the entities (or relations) of a type that existed at `slice`; attributes are not indexed by type. */
  async *atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    const at = slice ?? (await this.head(graph));
    const prefix = keys.typePrefix(graph, type);
    for await (const [key, value] of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      if (existsAt(records.decodeLifetime(value), at)) yield keys.uidOfTypeKey(key);
    }
  }

  /** The slice log from `from` to `to` (inclusive; default the whole log). */
  async *sliceLog(graph: string, from = 1, to = Number.MAX_SAFE_INTEGER - 1): AsyncGenerator<records.SliceInfo> {
    for await (const diff of this.diffs(graph, from, to)) yield { slice: diff.slice, txId: diff.txId, time: diff.time, source: diff.source };
  }

  /** The slice a txId made; null when it changed nothing; undefined when never seen. */
  async sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    const value = await this.rocks.get(keys.txKey(graph, txId));
    return value === undefined ? undefined : records.decodeTx(value);
  }

  /** The slice diffs `from` to `to` (inclusive), as they were emitted. */
  async *diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    for await (const [key, value] of this.rocks.scan(keys.sliceKey(graph, from), keys.sliceKey(graph, to + 1))) {
      yield records.decodeSlice(graph, keys.sliceOfKey(key), value);
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

  /** Approximate bytes on disk of everything in the store. */
  sizeOnDisk(): Promise<number> {
    return this.rocks.approximateSize(Buffer.from([0x00]), Buffer.from([0xff]));
  }
}

function graphOf(cacheKey: string): string {
  return cacheKey.slice(0, cacheKey.indexOf('\0'));
}

function edgesKey(graph: string, uid: Uid, direction: Direction): string {
  return `${graph}\0${direction}\0${uid}`;
}

/** The edges after the deltas, in order; idempotent (an edge already present is not added again). */
function applyDeltas(base: readonly RelationEdge[], deltas: readonly EdgeDelta[]): RelationEdge[] {
  const edges = new Map(base.map((edge) => [edge.uid, edge]));
  for (const delta of deltas) {
    for (const edge of delta.added) edges.set(edge.uid, edge);
    for (const uid of delta.ended) edges.delete(uid);
  }
  return [...edges.values()].sort(byTypeThenUid);
}
