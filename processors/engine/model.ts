/**
 * The graph model (schemas/README.md, "The model"): atoms, values, instructions, transactions and diffs, as plain
 * immutable values. The wire shapes (Avro) live in `processors/codec`; this is what the engine
 * reasons about.
 */

/** 32 lowercase hex characters (128 bits). */
export type Uid = string;

export type AtomKind = 'entity' | 'attribute' | 'relation';

export const atomKinds: readonly AtomKind[] = ['entity', 'attribute', 'relation'];

/**
 * A value held by an attribute. `Int` and `Time` are 64-bit and carried as bigint, never as a
 * lossy number. `Time` is microseconds since the epoch.
 */
export type Value =
  | { readonly type: 'String'; readonly value: string }
  | { readonly type: 'Int'; readonly value: bigint }
  | { readonly type: 'Float'; readonly value: number }
  | { readonly type: 'Bool'; readonly value: boolean }
  | { readonly type: 'Time'; readonly value: bigint }
  | { readonly type: 'Bytes'; readonly value: Uint8Array }
  | { readonly type: 'Enum'; readonly enum: string; readonly value: string }
  | { readonly type: 'Quantity'; readonly unit: string; readonly value: number };

/** A reference to an atom: by uid, or by a local name bound earlier in the same transaction. */
export type Ref = { readonly uid: Uid } | { readonly ref: string };

export type Instruction =
  | { readonly op: 'CreateEntity'; readonly ref?: string; readonly uid?: Uid; readonly type: string }
  | {
      readonly op: 'CreateAttribute';
      readonly ref?: string;
      readonly uid?: Uid;
      readonly valueType: string;
      readonly value?: Value;
    }
  | {
      readonly op: 'CreateRelation';
      readonly ref?: string;
      readonly uid?: Uid;
      readonly type: string;
      readonly source: Ref;
      readonly target: Ref;
    }
  | { readonly op: 'Assign'; readonly target: Ref; readonly value: Value }
  | { readonly op: 'SetField'; readonly subject: Ref; readonly relation: string; readonly value: Value }
  | { readonly op: 'Terminate'; readonly target: Ref }
  | {
      readonly op: 'Merge';
      readonly uid: Uid;
      readonly kind: AtomKind;
      /** Entity or relation type, or an attribute's value type. */
      readonly type: string;
      readonly source?: Ref;
      readonly target?: Ref;
      readonly value?: Value;
    };

export type InstructionOp = Instruction['op'];

export interface GraphTransaction {
  readonly graph: string;
  /** Chosen by the producer; the idempotency key within its graph. */
  readonly txId: string;
  /** Microseconds since the epoch; when absent the record's timestamp is used. */
  readonly time?: number;
  /** Optimistic concurrency: refuse unless the graph is at this slice. */
  readonly expectSlice?: number;
  readonly instructions: readonly Instruction[];
}

/** Where a transaction came from: the input record. */
export interface SourcePosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export type Change =
  | {
      readonly op: 'Created';
      readonly uid: Uid;
      readonly kind: AtomKind;
      /** Entity or relation type, or an attribute's value type. */
      readonly type: string;
      readonly source?: Uid;
      readonly target?: Uid;
    }
  | { readonly op: 'Assigned'; readonly uid: Uid; readonly previous?: Value; readonly value: Value }
  | {
      readonly op: 'Terminated';
      readonly uid: Uid;
      /** True when ended because an end of it ended (a relation whose source or target was terminated). */
      readonly cascade: boolean;
      /** The terminated atom's kind and type, so a consumer can fold the diff without a state of its own. */
      readonly kind: AtomKind;
      readonly type: string;
    };

/**
 * One applied transaction: the changes that turn slice `slice - 1` into slice `slice`, ordered
 * creations (in dependency order), then assignments, then terminations.
 */
export interface GraphDiff {
  readonly graph: string;
  readonly slice: number;
  readonly txId: string;
  /** Microseconds since the epoch. */
  readonly time: number;
  readonly source: SourcePosition;
  readonly changes: readonly Change[];
}
