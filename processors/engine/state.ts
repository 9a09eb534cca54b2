import type { AtomKind, Uid, Value } from './model';

/** What the engine knows of one atom at the head of its graph. */
export interface AtomRecord {
  readonly uid: Uid;
  readonly kind: AtomKind;
  /** Entity or relation type, or an attribute's value type. */
  readonly type: string;
  readonly created: number;
  readonly terminated?: number;
  /** Relations only. */
  readonly source?: Uid;
  readonly target?: Uid;
  /** Attributes only: the latest value and the slice that assigned it. */
  readonly value?: Value;
  readonly assigned?: number;
}

export type Direction = 'out' | 'in';

/** A relation seen from one of its ends: its uid, its type and the atom at its other end. */
export interface RelationEdge {
  readonly uid: Uid;
  readonly type: string;
  readonly other: Uid;
}

/**
 * The engine's read-only window on one graph at its latest slice.
 *
 * A state backed by disk may not hold everything in memory. When asked for something it has not
 * loaded, it throws {@link NotLoaded} naming what it needs; the owner loads it and runs the fold
 * again. Folding has no side effects until it returns, so running it again is always safe.
 */
export interface GraphState {
  readonly graph: string;
  /** The latest slice; 0 for a graph that has none. */
  head(): number;
  /** The latest slice's time (microseconds since the epoch); 0 for a graph that has none. */
  headTime(): number;
  /** The slice a txId made; null when it was applied as all no-ops; undefined when never seen. */
  txSlice(txId: string): number | null | undefined;
  /** The atom with this uid, live or terminated; undefined when no such uid was ever created. */
  atom(uid: Uid): AtomRecord | undefined;
  /** The live relations out of (or into) an atom, in a stable order (by type, then uid). */
  edges(uid: Uid, direction: Direction): readonly RelationEdge[];
}

/** A piece of a graph's state that a {@link GraphState} may have to load before answering. */
export type Need =
  | { readonly what: 'head' }
  | { readonly what: 'tx'; readonly txId: string }
  | { readonly what: 'atom'; readonly uid: Uid }
  | { readonly what: 'edges'; readonly uid: Uid; readonly direction: Direction };

/**
 * Thrown by a {@link GraphState} that must load something before it can answer. Not an Error: it
 * is control flow, thrown often on a hot path, and capturing a stack trace would cost more than
 * the fold.
 */
export class NotLoaded {
  constructor(readonly needs: readonly Need[]) {}
}

/** True when an atom exists at slice `slice`: created at or before it and not yet terminated. */
export function existsAt(atom: { readonly created: number; readonly terminated?: number }, slice: number): boolean {
  return atom.created <= slice && (atom.terminated === undefined || slice < atom.terminated);
}
