import type { Change, GraphDiff, SourcePosition, Uid, Value } from '../engine/model';
import { existsAt, type Direction, type RelationEdge } from '../engine/state';
import type { AtomAt, GraphStore, SliceInfo, StoredRejection } from '../store/graph-store';
import { entryOf, lastSliceWhere } from '../store/slice-search';
import { badParameter, QueryError } from './query-error';

/**
 * The query API's reads of one partition's store, as of any slice, in the shapes the API answers
 * with (values still as the model holds them: the server renders them in the codec's JSON form).
 * Built on the store's query methods only; what the store does not answer (paging, paths, as of a
 * time, a terminated atom's lifetime) is worked out here.
 */

/** Which slice a read is as of: `asOf` (a slice), `asOfTime` (microseconds), or the head. */
export interface AsOf {
  readonly asOf?: number;
  readonly asOfTime?: number;
}

/** The slice a read reflects, and the graph's head then. */
export interface ReadAt {
  readonly slice: number;
  readonly head: number;
}

export interface AtomJson {
  readonly uid: Uid;
  readonly kind: AtomAt['kind'];
  readonly type: string;
  readonly created: number;
  /**
   * The slice that ended it, when one did by the head: given by the atom endpoint only (lists
   * answer as of their slice alone, so the same slice always reads the same).
   */
  readonly terminated?: number;
  readonly source?: Uid;
  readonly target?: Uid;
  readonly value?: Value;
}

export type RelationDirection = Direction | 'both';

export interface RelationJson {
  readonly relation: { readonly uid: Uid; readonly type: string };
  /** `out`: the atom is the relation's source; `in`: its target. */
  readonly direction: Direction;
  readonly other: AtomJson;
}

export interface PathStep {
  readonly relation: { readonly uid: Uid; readonly type: string };
  readonly direction: Direction;
  /** The atom this step reaches. */
  readonly atom: Uid;
}

export type TransactionStatus = 'applied' | 'skipped' | 'rejected' | 'unknown';

export interface TransactionJson {
  readonly graph: string;
  readonly slice: number;
  readonly head: number;
  readonly txId: string;
  readonly status: TransactionStatus;
  readonly appliedSlice?: number;
  readonly rejection?: { readonly code: string; readonly message: string; readonly instructionIndex?: number; readonly source: SourcePosition; readonly head: number; readonly time: number };
}

/** Limits the reads enforce (the server's route schemas check the same bounds first). */
export interface ReadLimits {
  readonly maxHops: number;
  readonly maxLimit: number;
}

/** A page position: the slice the first page was read at (pages stay on it) and how many came before. */
interface Cursor {
  readonly slice: number;
  readonly skip: number;
  readonly type: string | null;
}

export class GraphReads {
  constructor(
    /** The partition's store (the explore routes read it too: explore/reads.ts). */
    readonly store: GraphStore,
    private readonly limits: ReadLimits,
  ) {}

  /** The graph's head; 0 when it has no slice here. */
  head(graph: string): Promise<number> {
    return this.store.head(graph);
  }

  /** The slice to read as of, checked against the head; a graph with no slice is 404. */
  async at(graph: string, asOf: AsOf): Promise<ReadAt> {
    const head = await this.store.head(graph);
    if (head === 0) throw new QueryError('not_found', `graph '${graph}' has no slice: no transaction of it was applied (or it is held by another processor: name it with processor=)`, { body: { graph } });
    if (asOf.asOf !== undefined) {
      if (asOf.asOf > head) throw badParameter('asOf', `graph '${graph}' is at slice ${head}: asOf must be 0 to ${head} (waitForSlice=${asOf.asOf} waits for a later slice)`);
      return { slice: asOf.asOf, head };
    }
    if (asOf.asOfTime !== undefined) {
      const time = asOf.asOfTime;
      return { slice: await lastSliceWhere(this.store, graph, head, (info) => info.time <= time), head };
    }
    return { slice: head, head };
  }

  /** The graph as of a slice: that slice's time, and the head's. */
  async graph(graph: string, at: ReadAt): Promise<{ readonly graph: string; readonly slice: number; readonly head: number; readonly time: number; readonly headTime: number }> {
    const [info, headInfo] = await Promise.all([entryOf(this.store, graph, at.slice), entryOf(this.store, graph, at.head)]);
    return { graph, slice: at.slice, head: at.head, time: info?.time ?? 0, headTime: headInfo?.time ?? 0 };
  }

  async atom(graph: string, uid: Uid, at: ReadAt): Promise<{ readonly atom: AtomJson; readonly heldBy?: readonly { readonly relation: { readonly uid: Uid; readonly type: string }; readonly atom: AtomJson }[] }> {
    const found = await this.existing(graph, uid, at, 'uid');
    const lifetime = await this.store.lifetimeOf(graph, uid);
    const atom = lifetime?.terminated === undefined ? found : { ...found, terminated: lifetime.terminated };
    if (atom.kind !== 'attribute') return { atom };
    const holders = await this.store.relationsAt(graph, uid, 'in', { slice: at.slice });
    const heldBy = await Promise.all(holders.map(async (edge) => ({ relation: { uid: edge.uid, type: edge.type }, atom: await this.atomJson(graph, edge.other, at.slice) })));
    return { atom, heldBy };
  }

  /** Atoms of a type (entities and relations; without a type, every atom in uid order), a page at a time. */
  async atoms(graph: string, at: ReadAt, options: { readonly type?: string; readonly limit: number; readonly cursor?: string }): Promise<{ readonly slice: number; readonly atoms: readonly AtomJson[]; readonly next: string | null }> {
    const type = options.type ?? null;
    let cursor: Cursor = { slice: at.slice, skip: 0, type };
    if (options.cursor !== undefined) {
      cursor = readCursor(options.cursor);
      if (cursor.type !== type) throw badParameter('cursor', `the cursor belongs to a listing ${cursor.type === null ? 'without a type' : `of type ${cursor.type}`}; repeat that type, or start again without a cursor`);
      if (cursor.slice > at.head) throw badParameter('cursor', `the cursor is as of slice ${cursor.slice}, beyond the head ${at.head}`);
    }
    const slice = cursor.slice;
    const page: AtomJson[] = [];
    let seen = 0;
    let more = false;
    if (type === null) {
      for await (const atom of this.store.atoms(graph, slice)) {
        if (seen++ < cursor.skip) continue;
        if (page.length === options.limit) {
          more = true;
          break;
        }
        page.push(atom);
      }
    } else {
      const uids: Uid[] = [];
      for await (const uid of this.store.atomsOfType(graph, type, slice)) {
        if (seen++ < cursor.skip) continue;
        if (uids.length === options.limit) {
          more = true;
          break;
        }
        uids.push(uid);
      }
      page.push(...(await Promise.all(uids.map((uid) => this.atomJson(graph, uid, slice)))));
    }
    return { slice, atoms: page, next: more ? writeCursor({ slice, skip: cursor.skip + page.length, type }) : null };
  }

  /** The relations of an atom alive at the slice, each with the atom at its other end; by direction, type, uid. */
  async relations(graph: string, uid: Uid, at: ReadAt, options: { readonly direction: RelationDirection; readonly type?: string; readonly limit: number }): Promise<{ readonly relations: readonly RelationJson[]; readonly truncated: boolean }> {
    await this.existing(graph, uid, at, 'uid');
    const edges: { edge: RelationEdge; direction: Direction }[] = [];
    for (const direction of directions(options.direction)) {
      const found = await this.store.relationsAt(graph, uid, direction, { slice: at.slice, ...(options.type === undefined ? {} : { type: options.type }) });
      for (const edge of found) edges.push({ edge, direction });
    }
    const shown = edges.slice(0, options.limit);
    const relations = await Promise.all(shown.map(async ({ edge, direction }) => ({ relation: { uid: edge.uid, type: edge.type }, direction, other: await this.atomJson(graph, edge.other, at.slice) })));
    return { relations, truncated: edges.length > shown.length };
  }

  /**
   * The atoms within `hops` relations of `from` (following relations of `type` only, in
   * `direction` only, when given), nearest first, each with its distance; at most `limit`.
   */
  async neighbourhood(
    graph: string,
    from: Uid,
    at: ReadAt,
    options: { readonly hops: number; readonly direction: RelationDirection; readonly type?: string; readonly limit: number; readonly details: boolean },
  ): Promise<{ readonly atoms: readonly { readonly uid: Uid; readonly distance: number; readonly atom?: AtomJson }[]; readonly truncated: boolean }> {
    this.checkHops('hops', options.hops);
    await this.existing(graph, from, at, 'from');
    const reached = new Map<Uid, number>([[from, 0]]);
    let frontier: Uid[] = [from];
    let truncated = false;
    for (let hop = 1; hop <= options.hops && frontier.length > 0 && !truncated; hop += 1) {
      const next: Uid[] = [];
      const lists = await Promise.all(frontier.map((uid) => this.edgesOf(graph, uid, at.slice, options.direction, options.type)));
      for (const list of lists) {
        for (const { edge } of list) {
          if (reached.has(edge.other)) continue;
          if (reached.size === options.limit) {
            truncated = true;
            break;
          }
          reached.set(edge.other, hop);
          next.push(edge.other);
        }
        if (truncated) break;
      }
      frontier = next;
    }
    const atoms = [...reached].map(([uid, distance]) => ({ uid, distance }));
    if (!options.details) return { atoms, truncated };
    const details = await Promise.all(atoms.map((a) => this.atomJson(graph, a.uid, at.slice)));
    return { atoms: atoms.map((a, i) => ({ ...a, atom: details[i] as AtomJson })), truncated };
  }

  /** A shortest path from `from` to `to` within `maxHops` relations (breadth first), or null. */
  async path(
    graph: string,
    from: Uid,
    to: Uid,
    at: ReadAt,
    options: { readonly maxHops: number; readonly direction: RelationDirection; readonly type?: string },
  ): Promise<{ readonly path: readonly PathStep[] | null }> {
    this.checkHops('maxHops', options.maxHops);
    await this.existing(graph, from, at, 'from');
    await this.existing(graph, to, at, 'to');
    if (from === to) return { path: [] };
    const parents = new Map<Uid, PathStep & { readonly previous: Uid }>();
    const visited = new Set<Uid>([from]);
    let frontier: Uid[] = [from];
    for (let hop = 1; hop <= options.maxHops && frontier.length > 0; hop += 1) {
      const next: Uid[] = [];
      const lists = await Promise.all(frontier.map((uid) => this.edgesOf(graph, uid, at.slice, options.direction, options.type)));
      for (const [i, list] of lists.entries()) {
        for (const { edge, direction } of list) {
          if (visited.has(edge.other)) continue;
          visited.add(edge.other);
          parents.set(edge.other, { previous: frontier[i] as Uid, relation: { uid: edge.uid, type: edge.type }, direction, atom: edge.other });
          if (edge.other === to) return { path: walkBack(parents, from, to) };
          next.push(edge.other);
        }
      }
      frontier = next;
    }
    return { path: null };
  }

  /** `diff(from, to)`: the compacted changes that turn slice `from` into slice `to` (law 2). */
  async diff(graph: string, from: number, to: number): Promise<{ readonly head: number; readonly changes: readonly Change[] }> {
    const head = await this.store.head(graph);
    if (head === 0) await this.at(graph, {});
    if (to > head) throw badParameter('to', `graph '${graph}' is at slice ${head}: to must be at most ${head}`);
    if (from > to) throw badParameter('from', `from (${from}) must be at most to (${to})`);
    const range = await this.store.diff(graph, from, to);
    return { head, changes: range.changes };
  }

  /** The slice log from `from` to `to` (clamped to the head), a page of `limit` at a time. */
  async slices(graph: string, options: { readonly from: number; readonly to?: number; readonly limit: number }): Promise<{ readonly head: number; readonly slices: readonly SliceInfo[]; readonly next: number | null }> {
    const { head } = await this.at(graph, {});
    const to = Math.min(options.to ?? head, head);
    if (options.to !== undefined && options.from > options.to) throw badParameter('from', `from (${options.from}) must be at most to (${options.to})`);
    const last = Math.min(to, options.from + options.limit - 1);
    const slices: SliceInfo[] = [];
    for await (const info of this.store.sliceLog(graph, options.from, last)) slices.push(info);
    return { head, slices, next: last < to ? last + 1 : null };
  }

  /** The diffs from `from` to `to`, as emitted. */
  diffs(graph: string, from: number, to: number): AsyncGenerator<GraphDiff> {
    return this.store.diffs(graph, from, to);
  }

  /** What became of a transaction: the slice it made, skipped as a no-op, rejected (with why), or unknown. */
  async transaction(graph: string, txId: string): Promise<TransactionJson> {
    const [head, slice] = await Promise.all([this.store.head(graph), this.store.sliceOfTx(graph, txId)]);
    if (typeof slice === 'number') return { graph, slice, head, txId, status: 'applied', appliedSlice: slice };
    if (slice === null) return { graph, slice: head, head, txId, status: 'skipped' };
    const rejection = await this.store.rejectionOf(graph, txId);
    if (rejection !== undefined) return { graph, slice: head, head, txId, status: 'rejected', rejection: rejectionJson(rejection) };
    return { graph, slice: head, head, txId, status: 'unknown' };
  }

  /** Every graph of the store. */
  graphs(): AsyncGenerator<string> {
    return this.store.graphs();
  }

  /** Every atom alive at the slice: a snapshot, for a changes stream. */
  async *snapshot(graph: string, slice: number): AsyncGenerator<AtomJson> {
    yield* this.store.atoms(graph, slice);
  }

  private checkHops(parameter: string, hops: number): void {
    if (hops > this.limits.maxHops) throw badParameter(parameter, `${parameter} is ${hops}; this server allows at most ${this.limits.maxHops} (query.maxHops)`);
  }

  /** The atom as of the slice, or 404 saying when it existed. */
  private async existing(graph: string, uid: Uid, at: ReadAt, parameter: string): Promise<AtomJson> {
    const lifetime = await this.store.lifetimeOf(graph, uid);
    if (lifetime === undefined) throw new QueryError('not_found', `atom ${uid} (${parameter}) does not exist in graph '${graph}'`, { parameter, body: { graph, uid } });
    if (lifetime.created > at.head) throw new QueryError('not_found', `atom ${uid} (${parameter}) does not exist in graph '${graph}'`, { parameter, body: { graph, uid } });
    if (!existsAt(lifetime, at.slice)) {
      const when = at.slice < lifetime.created ? `it was created at slice ${lifetime.created}` : `it was terminated at slice ${lifetime.terminated}`;
      throw new QueryError('not_found', `atom ${uid} (${parameter}) did not exist at slice ${at.slice} of graph '${graph}': ${when}`, {
        parameter,
        body: { graph, uid, slice: at.slice, head: at.head, created: lifetime.created, ...(lifetime.terminated === undefined ? {} : { terminated: lifetime.terminated }) },
      });
    }
    return this.atomJson(graph, uid, at.slice);
  }

  /** An atom alive at the slice (as the relations that reach it say), with its lifetime. */
  private async atomJson(graph: string, uid: Uid, slice: number): Promise<AtomJson> {
    const atom = await this.store.atomAt(graph, uid, slice);
    if (atom === undefined) throw new Error(`graph '${graph}': atom ${uid}, reached by a relation alive at slice ${slice}, is not alive then (a bug in the store)`);
    return atom;
  }

  private async edgesOf(graph: string, uid: Uid, slice: number, direction: RelationDirection, type: string | undefined): Promise<{ edge: RelationEdge; direction: Direction }[]> {
    const out: { edge: RelationEdge; direction: Direction }[] = [];
    for (const d of directions(direction)) {
      const edges = await this.store.relationsAt(graph, uid, d, { slice, ...(type === undefined ? {} : { type }) });
      for (const edge of edges) out.push({ edge, direction: d });
    }
    return out;
  }
}

function directions(direction: RelationDirection): readonly Direction[] {
  return direction === 'both' ? ['out', 'in'] : [direction];
}

function walkBack(parents: ReadonlyMap<Uid, PathStep & { readonly previous: Uid }>, from: Uid, to: Uid): PathStep[] {
  const steps: PathStep[] = [];
  for (let at = to; at !== from; ) {
    const step = parents.get(at) as PathStep & { readonly previous: Uid };
    steps.push({ relation: step.relation, direction: step.direction, atom: step.atom });
    at = step.previous;
  }
  return steps.reverse();
}

function rejectionJson(rejection: StoredRejection): NonNullable<TransactionJson['rejection']> {
  const { code, message, instructionIndex, source, head, time } = rejection;
  return instructionIndex === undefined ? { code, message, source, head, time } : { code, message, instructionIndex, source, head, time };
}

function writeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.slice, cursor.skip, cursor.type])).toString('base64url');
}

function readCursor(text: string): Cursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 3) {
      const [slice, skip, type] = parsed as unknown[];
      if (Number.isSafeInteger(slice) && (slice as number) >= 0 && Number.isSafeInteger(skip) && (skip as number) >= 0 && (type === null || typeof type === 'string')) {
        return { slice: slice as number, skip: skip as number, type: type as string | null };
      }
    }
  } catch {
    // Reported below.
  }
  throw badParameter('cursor', 'the cursor is not one this API handed out: pass the `next` of the previous page as it was, or start again without a cursor');
}
