/**
 * The shapes of the query API answers the page reads (see /v1/openapi.json), as JSON: values in
 * the codec's JSON form, 64-bit numbers beyond 2^53 as decimal strings.
 */

/** A value: `{type, value}`, with `enum` for an Enum and `unit` for a Quantity. */
export interface JsonValue {
  readonly type: string;
  readonly value: unknown;
  readonly enum?: string;
  readonly unit?: string;
}

export type AtomKind = 'entity' | 'attribute' | 'relation';

export interface Field {
  /** The holding relation; its type is the field's name. */
  readonly uid: string;
  readonly type: string;
  readonly attribute: string;
  readonly value?: JsonValue;
}

export interface SubgraphNode {
  readonly uid: string;
  readonly kind: AtomKind;
  readonly type: string;
  readonly created: number;
  readonly distance: number;
  readonly value?: JsonValue;
  readonly fields: readonly Field[];
}

export interface SubgraphEdge {
  readonly uid: string;
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly created: number;
  readonly fields: readonly Field[];
}

export interface Subgraph {
  readonly graph: string;
  readonly slice: number;
  readonly head: number;
  readonly seeds: readonly string[];
  readonly nodes: readonly SubgraphNode[];
  readonly edges: readonly SubgraphEdge[];
  readonly truncated: boolean;
  readonly omitted: number;
}

export type Change =
  | { readonly op: 'Created'; readonly uid: string; readonly kind: AtomKind; readonly type: string; readonly source?: string; readonly target?: string }
  | { readonly op: 'Assigned'; readonly uid: string; readonly previous?: JsonValue; readonly value: JsonValue }
  | { readonly op: 'Terminated'; readonly uid: string; readonly cascade?: boolean };

export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface SliceInfo {
  readonly slice: number;
  readonly txId: string;
  /** Microseconds since the epoch. */
  readonly time: number;
  readonly source: SourcePosition;
}

export interface Diff extends SliceInfo {
  readonly graph: string;
  readonly changes: readonly Change[];
}

export interface Rejection {
  readonly txId: string;
  readonly code: string;
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source: SourcePosition;
  readonly head: number;
  readonly time: number;
}

export interface GraphInfo {
  readonly graph: string;
  readonly slice: number;
  readonly head: number;
  readonly time: number;
  readonly headTime: number;
  readonly processor: string;
  readonly partition: number;
  readonly owner: string;
}

export interface GraphListing {
  readonly graphs: readonly { readonly graph: string; readonly processor: string; readonly partition: number; readonly owner?: string }[];
  readonly next: string | null;
  readonly incomplete?: readonly string[];
}

export interface TypeCount {
  readonly kind: AtomKind;
  readonly type: string;
  readonly count: number;
}

export interface SearchMatch {
  readonly atom: { readonly uid: string; readonly kind: AtomKind; readonly type: string; readonly created: number };
  readonly field: Field;
}

/** An error answer: `{error, message, parameter?}`, with a restore's progress on a 503 while restoring. */
export interface ApiErrorBody {
  readonly error: string;
  readonly message: string;
  readonly parameter?: string;
  readonly partition?: number;
  readonly restore?: { readonly records: number; readonly position: number | null; readonly to: number | null; readonly etaSeconds: number | null };
}
