import type { Uid } from '../engine/model';
import { NotLoaded, type Direction, type GraphState, type RelationEdge } from '../engine/state';
import { GraphKeys, tags } from './format/keys';
import { byTypeThenUid, type StoredAtom } from './format/records';
import { Generations } from './generations';
import type { KeyFilter, KeySeed } from './key-filter';
import { directionKey, type AdjacencyEvent, type StagedGraph, type StagingView } from './staging';

/**
 * One graph as the engine sees it (a {@link GraphState}): the latest record of every atom in
 * memory, staged or written; what it does not hold is either known absent from the key filter or
 * `NotLoaded`. Heads, txIds and live relations are what layers staged, newest first, over what
 * was read. Also the graph's cache and keys, for the store. The view owns the list of what the
 * layers staged for its graph: the write pipeline adds to it (`pushLayer`) and takes from it
 * (`unstage`, `absorb`).
 */
export class GraphView implements GraphState, StagingView {
  readonly keys: GraphKeys;
  readonly atomSeed: KeySeed;
  readonly txSeed: KeySeed;
  /** The written head; undefined until read. */
  writtenHead: number | undefined;
  /** The written head's time, read with it. */
  writtenHeadTime = 0;
  /**
   * The latest record of each atom in memory: staged by a layer (see `stage`) or written; null
   * for a uid read and found absent. The store keeps what unwritten layers staged in it.
   */
  readonly atoms = new Generations<Uid, StoredAtom | null>();
  /** The live relations of an atom's direction as written, by `directionKey`. */
  readonly edgeLists = new Generations<string, readonly RelationEdge[]>();
  /** txIds read from disk, from a batch's prefetch until the layer that staged them is written. */
  readonly txs = new Map<string, number | null | 'unseen'>();
  /** What the layers staged for this graph, oldest first. */
  private readonly staged: StagedGraph[] = [];

  constructor(
    readonly graph: string,
    private readonly filter: KeyFilter,
  ) {
    this.keys = new GraphKeys(graph);
    this.atomSeed = filter.seed(this.keys.tagged(tags.atom));
    this.txSeed = filter.seed(this.keys.tagged(tags.tx));
  }

  head(): number {
    const head = this.knownHead();
    if (head === undefined) throw new NotLoaded([{ what: 'head' }]);
    return head;
  }

  headTime(): number {
    for (let i = this.staged.length - 1; i >= 0; i -= 1) {
      const staged = this.staged[i] as StagedGraph;
      if (staged.head !== undefined) return staged.headTime;
    }
    if (this.writtenHead === undefined) throw new NotLoaded([{ what: 'head' }]);
    return this.writtenHeadTime;
  }

  knownHead(): number | undefined {
    for (let i = this.staged.length - 1; i >= 0; i -= 1) {
      const head = (this.staged[i] as StagedGraph).head;
      if (head !== undefined) return head;
    }
    return this.writtenHead;
  }

  txSlice(txId: string): number | null | undefined {
    for (let i = this.staged.length - 1; i >= 0; i -= 1) {
      const slice = (this.staged[i] as StagedGraph).txs.get(txId);
      if (slice !== undefined) return slice;
    }
    const read = this.txs.get(txId);
    if (read !== undefined) return read === 'unseen' ? undefined : read;
    if (!this.filter.mayHoldText(this.txSeed, txId)) return undefined;
    throw new NotLoaded([{ what: 'tx', txId }]);
  }

  /** True when `txSlice` can answer without reading. */
  knowsTx(txId: string): boolean {
    return this.staged.some((staged) => staged.txs.has(txId)) || this.txs.has(txId) || !this.filter.mayHoldText(this.txSeed, txId);
  }

  atom(uid: Uid): StoredAtom | undefined {
    return this.record(uid) ?? undefined;
  }

  /** The atom's latest record; null when it does not exist; throws NotLoaded when not in memory. */
  record(uid: Uid): StoredAtom | null {
    const known = this.knownRecord(uid);
    if (known === undefined) throw new NotLoaded([{ what: 'atom', uid }]);
    return known;
  }

  /** Like `record`, with undefined for an atom that is not in memory. */
  knownRecord(uid: Uid): StoredAtom | null | undefined {
    const cached = this.atoms.get(uid);
    if (cached !== undefined) return cached;
    return this.filter.mayHoldUid(this.atomSeed, uid) ? undefined : null;
  }

  edges(uid: Uid, direction: Direction): readonly RelationEdge[] {
    const atom = this.record(uid);
    if (atom === null) return [];
    const edges = this.knownEdges(uid, direction);
    if (edges === undefined) throw new NotLoaded([{ what: 'edges', uid, direction }]);
    return edges;
  }

  /** The live relations of a direction: the written list with the layers' events; undefined when the list is not in memory. */
  knownEdges(uid: Uid, direction: Direction): readonly RelationEdge[] | undefined {
    const base = this.edgeLists.get(directionKey(direction, uid));
    if (base === undefined) return undefined;
    let edges: readonly RelationEdge[] = base;
    for (const staged of this.staged) {
      const events = staged.adjacency.get(uid);
      if (events !== undefined) edges = applyEvents(edges, events, direction);
    }
    return edges;
  }

  /** The newest layer staged for this graph for the first time. */
  pushLayer(staged: StagedGraph): void {
    this.staged.push(staged);
  }

  /** Makes `atom` the latest record of its uid, staged in `staged` (the newest layer). */
  stage(staged: StagedGraph, atom: StoredAtom): void {
    staged.atoms.set(atom.uid, atom);
    this.atoms.set(atom.uid, atom);
  }

  /**
   * Forgets what the newest layer staged: its atoms leave the cache (the records before it are on
   * disk, or in an older layer, which `pin` puts back).
   */
  unstage(staged: StagedGraph): void {
    if (this.staged[this.staged.length - 1] !== staged) throw new RangeError(`graph '${this.graph}': discarding a layer out of order`);
    this.staged.pop();
    for (const uid of staged.atoms.keys()) this.atoms.delete(uid);
  }

  /** Makes what `staged` staged the latest again and recently used: it is not on disk yet. Oldest layer first. */
  pin(staged: StagedGraph): void {
    for (const [uid, atom] of staged.atoms) this.atoms.set(uid, atom);
  }

  /** Moves what a written layer staged into the cache; it must be the oldest layer. */
  absorb(staged: StagedGraph): void {
    if (this.staged[0] !== staged) throw new RangeError(`graph '${this.graph}': absorbing a layer out of order`);
    this.staged.shift();
    if (staged.head !== undefined) {
      this.writtenHead = staged.head;
      this.writtenHeadTime = staged.headTime;
    }
    for (const txId of staged.txs.keys()) this.txs.delete(txId);
    for (const [uid, events] of staged.adjacency) {
      for (const direction of ['out', 'in'] as const) {
        const key = directionKey(direction, uid);
        const base = this.edgeLists.get(key);
        if (base !== undefined) this.edgeLists.set(key, applyEvents(base, events, direction));
      }
    }
  }

  /** Entries cached since the last rotation. */
  get youngSize(): number {
    return this.atoms.youngSize + this.edgeLists.youngSize;
  }

  /** True when the view holds nothing worth keeping: no cache, nothing staged. */
  get idle(): boolean {
    return this.atoms.size === 0 && this.edgeLists.size === 0 && this.staged.length === 0 && this.txs.size === 0;
  }

  /** True while a layer not yet absorbed staged something for this graph. */
  get hasStaged(): boolean {
    return this.staged.length > 0;
  }

  rotate(): void {
    this.atoms.rotate();
    this.edgeLists.rotate();
  }
}

/**
 * The live relations of one direction after an atom's events (of both directions), in order.
 * Idempotent: a relation already present is not added twice, one already ended stays ended.
 */
function applyEvents(base: readonly RelationEdge[], events: readonly AdjacencyEvent[], direction: Direction): readonly RelationEdge[] {
  let added = false;
  let touched = false;
  for (const event of events) {
    if (event.direction !== direction) continue;
    touched = true;
    if (!event.ended) added = true;
  }
  if (!touched) return base;
  if (!added) return base.filter((edge) => !events.some((event) => event.ended && event.direction === direction && event.relation === edge.uid));
  const edges = new Map(base.map((edge) => [edge.uid, edge]));
  for (const event of events) {
    if (event.direction !== direction) continue;
    if (event.ended) edges.delete(event.relation);
    else edges.set(event.relation, { uid: event.relation, type: event.type, other: event.other });
  }
  return [...edges.values()].sort(byTypeThenUid);
}
