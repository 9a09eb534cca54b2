import { diffBetween, type RangeDiff } from '../engine/diff';
import type { AtomKind, GraphDiff, Uid, Value } from '../engine/model';
import { existsAt, type Direction, type RelationEdge } from '../engine/state';
import * as keys from './format/keys';
import * as records from './format/records';
import type { SliceInfo, StoredAtom } from './format/records';
import type { Rocks } from './rocks';
import type { WrittenState } from './written-state';

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

/** An atom's kind, type and lifetime, whatever the slice. */
export interface Lifetime {
  readonly kind: AtomKind;
  readonly type: string;
  readonly created: number;
  /** The slice that terminated it, when one did. */
  readonly terminated?: number;
}

/** Reads of written state, as of any slice (default: the graph's latest written slice). */
export interface GraphReads {
  /** The graph's latest written slice; 0 when it has none. */
  head(graph: string): Promise<number>;
  /** Every graph the store holds. */
  graphs(): AsyncGenerator<string>;
  /** The atom as it was at `slice`; undefined when it did not exist then. */
  atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined>;
  /** Every atom of a graph that existed at `slice`, in uid order. */
  atoms(graph: string, slice?: number): AsyncGenerator<AtomAt>;
  /** An atom's kind, type and lifetime (created, and terminated when it was); undefined for a uid never created. */
  lifetimeOf(graph: string, uid: Uid): Promise<Lifetime | undefined>;
  /** An attribute's value at `slice`; undefined when none was assigned by then. */
  valueAt(graph: string, uid: Uid, slice?: number): Promise<Value | undefined>;
  /** The relations out of (or into) an atom that existed at `slice`, optionally of one type only; by type, then uid. */
  relationsAt(graph: string, uid: Uid, direction: Direction, options?: { readonly type?: string; readonly slice?: number }): Promise<RelationEdge[]>;
  /** The atoms within `hops` relations of `start` at `slice`, either direction, `start` first, then by distance. */
  neighbourhood(graph: string, start: Uid, hops: number, slice?: number): Promise<Uid[]>;
  /** The entities (or relations) of a type that existed at `slice`, in the order they were created. */
  atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid>;
  /** The slice log from `from` to `to` (inclusive; default the whole log). */
  sliceLog(graph: string, from?: number, to?: number): AsyncGenerator<SliceInfo>;
  /** The slice a txId made; null when it changed nothing; undefined when never seen. */
  sliceOfTx(graph: string, txId: string): Promise<number | null | undefined>;
  /** The slice diffs `from` to `to` (inclusive), as they were emitted. */
  diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff>;
  /** `diff(from, to)`: the changes that turn slice `from` into slice `to` (law 2). */
  diff(graph: string, from: number, to: number): Promise<RangeDiff>;
}

/**
 * Queries, as of any slice, over written state: records, adjacencies and heads through
 * `state` (the read cache over RocksDB), scans and seeks (value history, type index, slice log)
 * through RocksDB.
 */
export class GraphQueries implements GraphReads {
  constructor(
    private readonly rocks: Rocks,
    private readonly state: WrittenState,
    private readonly slicesPerBucket: { readonly slice: number; readonly type: number },
  ) {}

  head(graph: string): Promise<number> {
    return this.state.head(new keys.GraphKeys(graph));
  }

  async *graphs(): AsyncGenerator<string> {
    const range = keys.tagRange(keys.tags.head);
    for await (const entries of this.rocks.scan(range.gte, range.lt, { values: false })) for (const [key] of entries) yield keys.graphOfHeadKey(key);
  }

  async atomAt(graph: string, uid: Uid, slice?: number): Promise<AtomAt | undefined> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[atom], at] = await Promise.all([this.state.atoms(graphKeys, [uid]), slice ?? this.state.head(graphKeys)]);
    return atom !== undefined && atom !== null && existsAt(atom, at) ? this.viewAt(graphKeys, atom, at) : undefined;
  }

  async *atoms(graph: string, slice?: number): AsyncGenerator<AtomAt> {
    const graphKeys = new keys.GraphKeys(graph);
    const at = slice ?? (await this.state.head(graphKeys));
    const prefix = graphKeys.tagged(keys.tags.atom);
    for await (const entries of this.rocks.scan(prefix, keys.prefixEnd(prefix))) {
      for (const [key, value] of entries) {
        const atom = records.decodeAtom(keys.uidOfAtomKey(key), value);
        if (existsAt(atom, at)) yield await this.viewAt(graphKeys, atom, at);
      }
    }
  }

  async lifetimeOf(graph: string, uid: Uid): Promise<Lifetime | undefined> {
    const [atom] = await this.state.atoms(new keys.GraphKeys(graph), [uid]);
    if (atom === undefined || atom === null) return undefined;
    const { kind, type, created, terminated } = atom;
    return terminated === undefined ? { kind, type, created } : { kind, type, created, terminated };
  }

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

  /** The latest value is in the record; an older one is one seek into the history. */
  private async valueOf(graphKeys: keys.GraphKeys, atom: StoredAtom, slice: number): Promise<Value | undefined> {
    if (atom.assigned === undefined) return undefined;
    if (atom.assigned <= slice) return atom.value;
    const entry = await this.rocks.first(graphKeys.value(atom.uid, slice), keys.prefixEnd(graphKeys.valuePrefix(atom.uid)));
    return entry === undefined ? undefined : records.decodeValue(entry[1]);
  }

  async relationsAt(graph: string, uid: Uid, direction: Direction, options: { readonly type?: string; readonly slice?: number } = {}): Promise<RelationEdge[]> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[atom], at] = await Promise.all([this.state.atoms(graphKeys, [uid]), options.slice ?? this.state.head(graphKeys)]);
    if (atom === undefined || atom === null) return [];
    const [adjacency] = await this.state.adjacencies(graphKeys, [uid]);
    const edges: RelationEdge[] = [];
    for (const edge of direction === 'out' ? (adjacency as records.Adjacency).out : (adjacency as records.Adjacency).in) {
      if ((options.type === undefined || edge.type === options.type) && existsAt(edge, at)) edges.push({ uid: edge.uid, type: edge.type, other: edge.other });
    }
    return edges;
  }

  /**
   * Each hop reads the frontier's adjacencies in one multi-get (through the read cache, so a warm
   * neighbourhood is walked in memory); only the start's record is read, to know it existed.
   */
  async neighbourhood(graph: string, start: Uid, hops: number, slice?: number): Promise<Uid[]> {
    const graphKeys = new keys.GraphKeys(graph);
    const [[first], at] = await Promise.all([this.state.atoms(graphKeys, [start]), slice ?? this.state.head(graphKeys)]);
    if (first === undefined || first === null || !existsAt(first, at)) return [];
    const reached = new Set<Uid>([start]);
    let frontier: Uid[] = [start];
    for (let hop = 0; hop < hops && frontier.length > 0; hop += 1) {
      const next: Uid[] = [];
      for (const adjacency of await this.state.adjacencies(graphKeys, frontier)) {
        for (const edges of [adjacency.out, adjacency.in]) {
          for (const edge of edges) {
            if (!existsAt(edge, at) || reached.has(edge.other)) continue;
            reached.add(edge.other);
            next.push(edge.other);
          }
        }
      }
      frontier = next;
    }
    return [...reached];
  }

  /**
   * The index lists a graph's creations of all types, a bucket of slices per entry; each of the
   * type is checked against its atom's record. Attributes are not indexed by type.
   */
  async *atomsOfType(graph: string, type: string, slice?: number): AsyncGenerator<Uid> {
    const graphKeys = new keys.GraphKeys(graph);
    const at = slice ?? (await this.state.head(graphKeys));
    const prefix = graphKeys.tagged(keys.tags.type);
    for await (const entries of this.rocks.scan(keys.bucketKey(prefix, 0), keys.bucketKey(prefix, Math.floor(at / this.slicesPerBucket.type) + 1))) {
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

  async *sliceLog(graph: string, from = 1, to = Number.MAX_SAFE_INTEGER - 1): AsyncGenerator<SliceInfo> {
    for await (const diff of this.diffs(graph, from, to)) yield { slice: diff.slice, txId: diff.txId, time: diff.time, source: diff.source };
  }

  async sliceOfTx(graph: string, txId: string): Promise<number | null | undefined> {
    const value = await this.rocks.get(new keys.GraphKeys(graph).tx(txId));
    return value === undefined ? undefined : records.decodeTx(value);
  }

  async *diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    if (from > to) return;
    const prefix = new keys.GraphKeys(graph).tagged(keys.tags.slice);
    const bucketOf = (slice: number): number => Math.floor(slice / this.slicesPerBucket.slice);
    const out: GraphDiff[] = [];
    for await (const entries of this.rocks.scan(keys.bucketKey(prefix, bucketOf(from)), keys.bucketKey(prefix, bucketOf(to) + 1))) {
      for (const [, bucket] of entries) {
        records.decodeSlices(graph, bucket, from, to, out);
        yield* out;
        out.length = 0;
      }
    }
  }

  async diff(graph: string, from: number, to: number): Promise<RangeDiff> {
    const head = await this.head(graph);
    if (!(Number.isSafeInteger(from) && Number.isSafeInteger(to) && 0 <= from && from <= to && to <= head)) {
      throw new RangeError(`diff(${from}, ${to}) of graph '${graph}': need 0 <= from <= to <= ${head} (its latest slice)`);
    }
    const slices: GraphDiff[] = [];
    for await (const diff of this.diffs(graph, from + 1, to)) slices.push(diff);
    return diffBetween(graph, from, to, slices);
  }
}
