/**
 * graphfold's TypeScript SDK: typed transaction builders (with `graphfold schema codegen`), a
 * producer that sends them as graphfold folds them, and a follower of diffs topics.
 */
import type { Value } from '../engine/model';

export { TransactionBuilder, type AnySchema, type Atom, type FieldOf, type FieldValue, type FieldValueTypes, type SchemaTypes, type TransactionOptions } from './builder';
export { GraphProducer, transactionOutcome, type GraphProducerOptions, type OutcomeRejection, type QueryServiceOptions, type SentTransaction, type TransactionOutcome } from './producer';
export { DiffOrderError, followDiffs, type FollowedDiff, type FollowOptions } from './follow-diffs';
export { InMemoryMirror, RocksDbMirror, type DiffMirror, type MirroredAtom } from './mirror';
export type { AtomKind, Change, GraphDiff, GraphTransaction, Instruction, Ref, Uid, Value } from '../engine/model';
export type { PartitionerName } from '../codec/partitioner';

/** A Value of the given types: what a field of several value types takes. */
export type ValueOf<T extends Value['type']> = Extract<Value, { readonly type: T }>;
