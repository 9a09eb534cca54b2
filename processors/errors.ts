/**
 * The one error hierarchy of graphfold.
 *
 * - {@link TerminalError}: the input is wrong; retrying cannot help. In the processor it becomes a
 *   Rejection record and processing goes on.
 * - {@link RetriableError}: the broker, the registry or the disk is in trouble; the operation may
 *   succeed if retried (the runtime aborts the Kafka transaction and rewinds).
 * - {@link FatalError}: graphfold itself cannot go on (a bad topology, a corrupt store it may not
 *   discard); the operator has to act.
 *
 * Every error carries its context (graph, topic, partition, offset, slice, txId) so a log line
 * names the record it is about, and a message that says what an operator should do.
 */
export interface ErrorContext {
  readonly graph?: string;
  readonly txId?: string;
  readonly topic?: string;
  readonly partition?: number;
  readonly offset?: number;
  readonly slice?: number;
}

export abstract class GraphfoldError extends Error {
  abstract readonly retriable: boolean;
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** Codes of refused input; schemas/README.md says what each means and what to do. */
export type RejectionCode =
  | 'DECODE_ERROR'
  | 'UNKNOWN_SCHEMA'
  | 'INVALID_INSTRUCTION'
  | 'CONFLICT'
  | 'NOT_FOUND'
  | 'TYPE_MISMATCH'
  | 'SCHEMA_VIOLATION'
  | 'STALE_SLICE'
  | 'TOO_LARGE'
  | 'WRONG_PARTITION';

export const rejectionCodes: readonly RejectionCode[] = [
  'DECODE_ERROR',
  'UNKNOWN_SCHEMA',
  'INVALID_INSTRUCTION',
  'CONFLICT',
  'NOT_FOUND',
  'TYPE_MISMATCH',
  'SCHEMA_VIOLATION',
  'STALE_SLICE',
  'TOO_LARGE',
  'WRONG_PARTITION',
];

/** Bad input. Never retried: it is rejected with its code, and nothing of it is applied. */
export class TerminalError extends GraphfoldError {
  readonly retriable = false;
  readonly code: RejectionCode;
  /** Index of the offending instruction inside its transaction, when one is to blame. */
  readonly instructionIndex?: number;

  constructor(
    code: RejectionCode,
    message: string,
    context: ErrorContext = {},
    options?: { cause?: unknown; instructionIndex?: number },
  ) {
    super(message, context, options);
    this.code = code;
    if (options?.instructionIndex !== undefined) this.instructionIndex = options.instructionIndex;
  }
}

/** Trouble outside the input (broker, registry, disk). Retrying may help. */
export class RetriableError extends GraphfoldError {
  readonly retriable = true;
}

/** graphfold cannot go on without an operator. */
export class FatalError extends GraphfoldError {
  readonly retriable = false;
}

/** Renders an error's context as `graph=g partition=3 offset=42` for log lines. */
export function describeContext(context: ErrorContext): string {
  return Object.entries(context)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(' ');
}

/**
 * A partition's store does not match its changelog (a slice out of step, or more than the
 * changelog holds). The store is discarded and rebuilt from the changelog; it never serves state
 * the changelog does not hold.
 */
export class StoreDivergedError extends FatalError {}
