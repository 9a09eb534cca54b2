import { mkdir } from 'node:fs/promises';
import { StoreDivergedError } from '../errors';
import { diffBetween, type RangeDiff } from '../engine/diff';
import { fold, type FoldOptions, type FoldResult } from '../engine/fold';
import type { AtomKind, GraphDiff, GraphTransaction, Uid, Value } from '../engine/model';
import { prefetchNeeds } from '../engine/prefetch';
import { existsAt, NotLoaded, type AtomRecord, type Direction, type GraphState, type Need, type RelationEdge } from '../engine/state';
import * as keys from './keys';
import { Lru } from './lru';
import * as records from './records';
import { Rocks, type RocksOptions, type WriteOp } from './rocks';

export type { Checkpoint, SliceInfo } from './records';

export interface GraphStoreOptions {
  readonly rocks: RocksOptions;
  /** Atoms (and as many edge lists) kept in memory between batches. */
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

const pendingEdgeDelta = (): { added: RelationEdge[]; ended: Set<Uid> } => ({ added: [], ended: new Set() });

const byTypeThenUid = (a: RelationEdge, b: RelationEdge): number =>
  a.type < b.type ? -1 : a.type > b.type ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;

/**
 * The graphs of one input partition in one RocksDB database (DESIGN.md §6).
 *
 * Writing is a batch at a time, by one writer:
 * 1. `prefetch` the transactions of a batch (one multi-get, a few prefix scans);
 * 2. `fold` each transaction: the engine validates it against the staged state, and the store
 *    stages the resulting diff in memory; or `replay` diffs read from the changelog;
 * 3. `commit(checkpoint)` writes everything staged plus the checkpoint as one atomic WriteBatch,
 *    or `discard()` forgets it (the Kafka transaction aborted).
 *
 * Reads (`atomAt`, `relationsAt`, ...) see committed state only, as of any slice.
 */
export class GraphStore {
  private readonly atomCache: Lru<string, AtomRecord | null>;
  private readonly edgeCache: Lru<string, RelationEdge[]>;
  private readonly headCache: Lru<string, number>;
  private readonly txCache: Lru<string, number | null | 'unseen'>;

  private readonly pendingAtoms = new Map<string, AtomRecord>();
  private readonly pendingHeads = new Map<string, number>();
  private readonly pendingTxs = new Map<string, { graph: string; txId: string; slice: number | null }>();
  private readonly pendingEdges = new Map<string, { added: RelationEdge[]; ended: Set<Uid> }>();
  private ops: WriteOp[] = [];

  private constructor(
    private readonly rocks: Rocks,
    private committed: records.Checkpoint,
    options: GraphStoreOptions,
  ) {
    this.atomCache = new Lru(options.cachedAtoms);
    this.edgeCache = new Lru(options.cachedAtoms);
    this.headCache = new Lru(options.cachedAtoms);
    this.txCache = new Lru(options.cachedAtoms);
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

  /** The offsets the committed state reflects; empty for a new store. */
  checkpoint(): records.Checkpoint {
    return this.committed;
  }

  close(): Promise<void> {
    this.discard();
    return this.rocks.close();
  }

  // --- writing ------------------------------------------------------------------------------

  /** Loads what folding these transactions will most likely read, in one round. */
  async prefetch(txs: readonly GraphTransaction[]): Promise<void> {
    const byGraph = new Map<string, Need[]>();
    for (const tx of txs) {
      const needs = byGraph.get(tx.graph);
      if (needs === undefined) byGraph.set(tx.graph, prefetchNeeds(tx));
      else needs.push(...prefetchNeeds(tx));
    }
    await this.load(byGraph);
  }

  /** Folds one transaction into the staged state; an applied diff is staged for `commit`. */
  async fold(tx: GraphTransaction, options: FoldOptions): Promise<FoldResult> {
    for (;;) {
      try {
        const result = fold(this.stateOf(tx.graph), tx, options);
        if (result.outcome === 'applied') this.stageDiff(result.diff);
        else if (result.outcome === 'unchanged') this.stageTx(tx.graph, tx.txId, null);
        return result;
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        await this.load(new Map([[tx.graph, [...error.needs]]]));
      }
    }
  }

  /**
   * Stages diffs read from the changelog, in changelog order. Throws {@link StoreDivergedError}
   * when a diff does not follow its graph's head: the store must then be rebuilt.
   */
  async replay(diffs: readonly GraphDiff[]): Promise<void> {
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
          await this.load(new Map([[diff.graph, [...error.needs]]]));
        }
      }
    }
  }

  /** Writes everything staged, with the checkpoint, as one atomic WriteBatch. */
  async commit(checkpoint: records.Checkpoint): Promise<void> {
    const ops = this.ops;
    for (const [key, atom] of this.pendingAtoms) ops.push({ type: 'put', key: keys.atomKey(graphOf(key), atom.uid), value: records.encodeAtom(atom) });
    for (const [graph, slice] of this.pendingHeads) ops.push({ type: 'put', key: keys.headKey(graph), value: records.encodeNumber(slice) });
    for (const { graph, txId, slice } of this.pendingTxs.values()) ops.push({ type: 'put', key: keys.txKey(graph, txId), value: records.encodeTx(slice) });
    ops.push({ type: 'put', key: keys.checkpointKey, value: records.encodeCheckpoint(checkpoint) });
    try {
      await this.rocks.write(ops);
    } catch (error) {
      this.discard();
      throw error;
    }
    for (const [key, atom] of this.pendingAtoms) this.atomCache.set(key, atom);
    for (const [graph, slice] of this.pendingHeads) this.headCache.set(graph, slice);
    for (const [key, { slice }] of this.pendingTxs) this.txCache.set(key, slice);
    for (const [key, delta] of this.pendingEdges) {
      const cached = this.edgeCache.get(key);
      if (cached !== undefined) this.edgeCache.set(key, mergeEdges(cached, delta));
    }
    this.committed = checkpoint;
    this.discard();
    for (const cache of [this.atomCache, this.edgeCache, this.headCache, this.txCache]) cache.trim();
  }

  /** Forgets everything staged since the last commit. Idempotent. */
  discard(): void {
    this.pendingAtoms.clear();
    this.pendingHeads.clear();
    this.pendingTxs.clear();
    this.pendingEdges.clear();
    this.ops = [];
  }

  /** The engine's view of one graph: staged state over cached state; `NotLoaded` past that. */
  private stateOf(graph: string): GraphState {
    return {
      graph,
      head: () => this.headOf(graph),
      txSlice: (txId) => {
        const key = `${graph}\0${txId}`;
        const pending = this.pendingTxs.get(key);
        if (pending !== undefined) return pending.slice;
        const cached = this.txCache.get(key);
        if (cached === undefined) throw new NotLoaded([{ what: 'tx', txId }]);
        return cached === 'unseen' ? undefined : cached;
      },
      atom: (uid) => this.atomOf(graph, uid) ?? undefined,
      edges: (uid, direction) => {
        const key = edgesKey(graph, uid, direction);
        const cached = this.edgeCache.get(key);
        if (cached === undefined) throw new NotLoaded([{ what: 'edges', uid, direction }]);
        const delta = this.pendingEdges.get(key);
        return delta === undefined ? cached : mergeEdges(cached, delta);
      },
    };
  }

  private headOf(graph: string): number {
    const head = this.pendingHeads.get(graph) ?? this.headCache.get(graph);
    if (head === undefined) throw new NotLoaded([{ what: 'head' }]);
    return head;
  }

  /** The atom, null when it does not exist; throws NotLoaded when not in memory. */
  private atomOf(graph: string, uid: Uid): AtomRecord | null {
    const key = `${graph}\0${uid}`;
    const atom = this.pendingAtoms.get(key) ?? this.atomCache.get(key);
    if (atom === undefined) throw new NotLoaded([{ what: 'atom', uid }]);
    return atom;
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
            if (!this.pendingHeads.has(graph) && !this.headCache.has(graph)) {
              get(`h\0${graph}`, keys.headKey(graph), (v) => this.headCache.set(graph, v === undefined ? 0 : records.decodeNumber(v)));
            }
            break;
          case 'tx': {
            const key = `${graph}\0${need.txId}`;
            if (!this.pendingTxs.has(key) && !this.txCache.has(key)) {
              get(`t\0${key}`, keys.txKey(graph, need.txId), (v) => this.txCache.set(key, v === undefined ? 'unseen' : records.decodeTx(v)));
            }
            break;
          }
          case 'atom': {
            const key = `${graph}\0${need.uid}`;
            if (!this.pendingAtoms.has(key) && !this.atomCache.has(key)) {
              get(`a\0${key}`, keys.atomKey(graph, need.uid), (v) => this.atomCache.set(key, v === undefined ? null : records.decodeAtom(need.uid, v)));
            }
            break;
          }
          case 'edges': {
            const key = edgesKey(graph, need.uid, need.direction);
            if (!this.edgeCache.has(key) && !scheduled.has(key)) {
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

  private stageTx(graph: string, txId: string, slice: number | null): void {
    this.pendingTxs.set(`${graph}\0${txId}`, { graph, txId, slice });
  }

  /** Stages one diff. Reads everything it needs before changing anything, so a NotLoaded leaves no trace. */
  private stageDiff(diff: GraphDiff): void {
    const { graph, slice } = diff;
    const head = this.headOf(graph);
    if (slice !== head + 1) {
      throw new StoreDivergedError(`diff for slice ${slice} of graph '${graph}' does not follow the store's head, slice ${head}`, { graph, slice, txId: diff.txId });
    }
    const before = new Map<Uid, AtomRecord>();
    const missing: Need[] = [];
    const createdHere = new Set<Uid>();
    for (const change of diff.changes) {
      if (change.op === 'Created') {
        createdHere.add(change.uid);
        continue;
      }
      if (createdHere.has(change.uid) || before.has(change.uid)) continue;
      try {
        const atom = this.atomOf(graph, change.uid);
        if (atom === null) throw new StoreDivergedError(`slice ${slice} of graph '${graph}' changes atom ${change.uid}, which the store does not hold`, { graph, slice, txId: diff.txId });
        before.set(change.uid, atom);
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        missing.push(...error.needs);
      }
    }
    if (missing.length > 0) throw new NotLoaded(missing);

    const current = (uid: Uid): AtomRecord => this.pendingAtoms.get(`${graph}\0${uid}`) ?? (before.get(uid) as AtomRecord);
    const put = (key: Buffer, value: Buffer): void => {
      this.ops.push({ type: 'put', key, value });
    };
    for (const change of diff.changes) {
      switch (change.op) {
        case 'Created': {
          const atom: AtomRecord =
            change.source !== undefined && change.target !== undefined
              ? { uid: change.uid, kind: change.kind, type: change.type, created: slice, source: change.source, target: change.target }
              : { uid: change.uid, kind: change.kind, type: change.type, created: slice };
          this.pendingAtoms.set(`${graph}\0${change.uid}`, atom);
          put(keys.typeKey(graph, atom.type, atom.uid), records.encodeLifetime({ created: slice }));
          this.stageEdges(graph, atom, { created: slice });
          break;
        }
        case 'Assigned': {
          const atom = current(change.uid);
          this.pendingAtoms.set(`${graph}\0${change.uid}`, { ...atom, value: change.value, assigned: slice });
          put(keys.valueKey(graph, change.uid, slice), records.encodeValue(change.value));
          break;
        }
        case 'Terminated': {
          const atom = current(change.uid);
          this.pendingAtoms.set(`${graph}\0${change.uid}`, { ...atom, terminated: slice });
          put(keys.typeKey(graph, atom.type, atom.uid), records.encodeLifetime({ created: atom.created, terminated: slice }));
          this.stageEdges(graph, atom, { created: atom.created, terminated: slice });
          break;
        }
      }
    }
    put(keys.sliceKey(graph, slice), records.encodeSlice({ slice, txId: diff.txId, time: diff.time, source: diff.source }));
    put(keys.changesKey(graph, slice), records.encodeChanges(diff.changes));
    this.pendingHeads.set(graph, slice);
    this.stageTx(graph, diff.txId, slice);
  }

  /** For a relation: its edge at both ends, and the staged edge lists. */
  private stageEdges(graph: string, relation: AtomRecord, lifetime: records.Lifetime): void {
    const { source, target } = relation;
    if (relation.kind !== 'relation' || source === undefined || target === undefined) return;
    for (const [direction, end, other] of [['out', source, target], ['in', target, source]] as const) {
      this.ops.push({ type: 'put', key: keys.edgeKey(graph, end, direction, relation.type, relation.uid), value: records.encodeEdge({ other, ...lifetime }) });
      const key = edgesKey(graph, end, direction);
      let delta = this.pendingEdges.get(key);
      if (delta === undefined) this.pendingEdges.set(key, (delta = pendingEdgeDelta()));
      if (lifetime.terminated === undefined) delta.added.push({ uid: relation.uid, type: relation.type, other });
      else delta.ended.add(relation.uid);
    }
  }

  // --- reading, as of any slice ---------------------------------------------------------------

  /** The graph's latest committed slice; 0 when it has none. */
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

  private async view(graph: string, atom: AtomRecord, slice: number): Promise<AtomAt> {
    const view: { -readonly [K in keyof AtomAt]: AtomAt[K] } = { uid: atom.uid, kind: atom.kind, type: atom.type, created: atom.created };
    if (atom.source !== undefined) view.source = atom.source;
    if (atom.target !== undefined) view.target = atom.target;
    const value = await this.valueOf(graph, atom, slice);
    if (value !== undefined) view.value = value;
    return view;
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

  /** The uids of the atoms of a type (entity/relation type or value type) that existed at `slice`. */
  async *atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    const at = slice ?? (await this.head(graph));
    const prefix = keys.typePrefix(graph, type);
    for await (const [key, value] of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      if (existsAt(records.decodeLifetime(value), at)) yield keys.uidOfTypeKey(key);
    }
  }

  /** The slice log from `from` to `to` (inclusive; default the whole log). */
  async *sliceLog(graph: string, from = 1, to = Number.MAX_SAFE_INTEGER - 1): AsyncGenerator<records.SliceInfo> {
    for await (const [key, value] of this.rocks.scan(keys.sliceKey(graph, from), keys.sliceKey(graph, to + 1))) {
      yield records.decodeSlice(keys.sliceOfKey(key), value);
    }
  }

  /** The slice a txId made; null when it changed nothing; undefined when never seen. */
  async sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    const value = await this.rocks.get(keys.txKey(graph, txId));
    return value === undefined ? undefined : records.decodeTx(value);
  }

  /** The slice diffs `from` to `to` (inclusive), as they were emitted. */
  async *diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    const changes = this.rocks.scan(keys.changesKey(graph, from), keys.changesKey(graph, to + 1));
    try {
      for await (const info of this.sliceLog(graph, from, to)) {
        const next = await changes.next();
        if (next.done === true) return;
        yield { graph, slice: info.slice, txId: info.txId, time: info.time, source: info.source, changes: records.decodeChanges(next.value[1]) };
      }
    } finally {
      await changes.return(undefined);
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

function mergeEdges(base: readonly RelationEdge[], delta: { readonly added: readonly RelationEdge[]; readonly ended: ReadonlySet<Uid> }): RelationEdge[] {
  return [...base, ...delta.added].filter((edge) => !delta.ended.has(edge.uid)).sort(byTypeThenUid);
}
