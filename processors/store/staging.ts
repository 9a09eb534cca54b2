import { StoreDivergedError } from '../errors';
import type { GraphDiff, Uid } from '../engine/model';
import { NotLoaded, type Direction, type Need } from '../engine/state';
import type { Writer } from './format/binary';
import * as records from './format/records';
import { StoredAtom, type StoredRejection } from './format/records';
import { GraphKeys } from './format/keys';
import type { KeyFilter, KeySeed } from './key-filter';
import type { RocksBatch } from './rocks';

/**
 * An event of an atom's adjacency log, staged to be appended at commit; the engine reads the
 * events of its layers over the written lists of live relations.
 */
export type AdjacencyEvent =
  | { readonly ended: false; readonly direction: Direction; readonly type: string; readonly relation: Uid; readonly other: Uid; readonly slice: number }
  | { readonly ended: true; readonly direction: Direction; readonly relation: Uid; readonly slice: number };

/** The key of one direction of one atom in maps of relation lists (`o<uid>`, `i<uid>`). */
export function directionKey(direction: Direction, uid: Uid): string {
  return direction === 'out' ? `o${uid}` : `i${uid}`;
}

/** What one layer staged for one graph. */
export class StagedGraph {
  /** The latest record of every atom the layer changed. */
  readonly atoms = new Map<Uid, StoredAtom>();
  head: number | undefined;
  /** The time of slice `head`. */
  headTime = 0;
  /** The slice each txId made, null for a no-op. */
  readonly txs = new Map<string, number | null>();
  /** The events to append to each atom's adjacency entry, in slice order. */
  readonly adjacency = new Map<Uid, AdjacencyEvent[]>();
  /** The applied diffs, for the slice log. */
  readonly diffs: GraphDiff[] = [];
  /** Entities and relations created, for the type index: their types, uids and slices, in order. */
  readonly typed = { types: [] as string[], uids: [] as Uid[], slices: [] as number[] };

  readonly keys: GraphKeys;

  constructor(
    readonly graph: string,
    /** Staged by a bulk replay, not by a view: a fold may not stage into it. */
    readonly replayed: boolean,
  ) {
    this.keys = new GraphKeys(graph);
  }

  addEvent(uid: Uid, event: AdjacencyEvent): void {
    const events = this.adjacency.get(uid);
    if (events === undefined) this.adjacency.set(uid, [event]);
    else events.push(event);
  }

  addTyped(type: string, uid: Uid, slice: number): void {
    this.typed.types.push(type);
    this.typed.uids.push(uid);
    this.typed.slices.push(slice);
  }
}

/**
 * What one batch staged, graph by graph, and its WriteBatch (puts that need no merging: the value
 * history). Read before the cache; written to RocksDB as one WriteBatch. A layer knows graphs by
 * id only: each graph's view keeps its own list of the layers' staged graphs.
 */
export class Layer {
  /** On disk: absorbed into the cache at the next safe point. */
  written = false;
  readonly graphs = new Map<string, StagedGraph>();
  /** The transactions the batch refused, by graph, in order (written by rejections.ts). */
  readonly rejections = new Map<string, StoredRejection[]>();

  constructor(readonly batch: RocksBatch) {}

  /** What this layer staged for a graph, and whether it is new in this layer. */
  of(graph: string, replayed: boolean): { readonly staged: StagedGraph; readonly fresh: boolean } {
    const staged = this.graphs.get(graph);
    if (staged !== undefined) {
      if (staged.replayed !== replayed) throw new RangeError(`graph '${graph}': diffs replayed and transactions folded in one batch; commit one before the other`);
      return { staged, fresh: false };
    }
    const created = new StagedGraph(graph, replayed);
    this.graphs.set(graph, created);
    return { staged: created, fresh: true };
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

/** What staging reads and changes of a graph's view (graph-view.ts implements it). */
export interface StagingView {
  readonly keys: GraphKeys;
  readonly atomSeed: KeySeed;
  readonly txSeed: KeySeed;
  head(): number;
  /** The atom's latest record; null when it does not exist; throws NotLoaded when not in memory. */
  record(uid: Uid): StoredAtom | null;
  /** Makes `atom` the latest record of its uid, staged in `staged`. */
  stage(staged: StagedGraph, atom: StoredAtom): void;
}

function diverged(diff: GraphDiff, message: string): StoreDivergedError {
  return new StoreDivergedError(message, { graph: diff.graph, slice: diff.slice, txId: diff.txId });
}

/**
 * Stages one diff into `staged` (the newest layer's part for the view's graph): the records of
 * the atoms it changes, their adjacency events (a relation adds one to each end), the value
 * history (put into `batch`), the slice log and type index items. Reads everything it needs
 * before changing anything, so a NotLoaded (or a divergence) leaves no trace.
 */
export function stageDiff(view: StagingView, staged: StagedGraph, diff: GraphDiff, batch: RocksBatch, filter: KeyFilter, w: Writer): void {
  const { graph, slice, changes } = diff;
  const head = view.head();
  if (slice !== head + 1) throw diverged(diff, `diff for slice ${slice} of graph '${graph}' does not follow the store's head, slice ${head}`);

  const missing: Need[] = [];
  for (const change of changes) {
    if (change.op === 'Created' || createdIn(changes, change.uid)) continue;
    try {
      if (view.record(change.uid) === null) throw diverged(diff, `slice ${slice} of graph '${graph}' changes atom ${change.uid}, which the store does not hold`);
    } catch (error) {
      if (!(error instanceof NotLoaded)) throw error;
      for (const need of error.needs) missing.push(need);
    }
  }
  if (missing.length > 0) throw new NotLoaded(missing);

  for (const change of changes) {
    switch (change.op) {
      case 'Created': {
        const { uid, kind, type, source, target } = change;
        const relation = source !== undefined && target !== undefined;
        filter.addUid(view.atomSeed, uid);
        view.stage(staged, StoredAtom.created(uid, kind, type, slice, relation ? source : undefined, relation ? target : undefined));
        if (kind !== 'attribute') staged.addTyped(type, uid, slice);
        if (relation) addRelation(staged, uid, type, source, target, slice);
        break;
      }
      case 'Assigned': {
        const atom = view.record(change.uid) as StoredAtom;
        if (atom.value !== undefined && atom.assigned !== undefined) {
          records.writeValue(w.reset(), atom.value);
          batch.put(view.keys.valueScratch(atom.uid, atom.assigned), w.buffer, w.length);
        }
        view.stage(staged, atom.assignedTo(change.value, slice));
        break;
      }
      case 'Terminated': {
        const atom = view.record(change.uid) as StoredAtom;
        view.stage(staged, atom.terminatedAt(slice));
        if (atom.kind === 'relation') endRelation(staged, atom, slice);
        break;
      }
    }
  }
  staged.head = slice;
  staged.headTime = diff.time;
  staged.txs.set(diff.txId, slice);
  filter.addText(view.txSeed, diff.txId);
  staged.diffs.push(diff);
}

/** Stages a new relation at both its ends. */
export function addRelation(staged: StagedGraph, uid: Uid, type: string, source: Uid, target: Uid, slice: number): void {
  staged.addEvent(source, { ended: false, direction: 'out', type, relation: uid, other: target, slice });
  staged.addEvent(target, { ended: false, direction: 'in', type, relation: uid, other: source, slice });
}

/** Stages the end of a relation at both its ends. */
export function endRelation(staged: StagedGraph, relation: StoredAtom, slice: number): void {
  const source = relation.source as Uid;
  const target = relation.target as Uid;
  staged.addEvent(source, { ended: true, direction: 'out', relation: relation.uid, slice });
  staged.addEvent(target, { ended: true, direction: 'in', relation: relation.uid, slice });
}

/** Writes an atom's staged adjacency events, in order, into `w`. */
export function encodeEvents(w: Writer, events: readonly AdjacencyEvent[]): void {
  for (const event of events) {
    if (event.ended) records.encodeEdgeEnded(w, event.direction, event.relation, event.slice);
    else records.encodeEdgeAdded(w, event.direction, event.type, event.relation, event.other, event.slice);
  }
}
