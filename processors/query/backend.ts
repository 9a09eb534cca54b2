import type { RestoreProgress } from '../runtime/ownership';
import type { GraphReads } from './reads';

/**
 * A read served by a standby replica (or by the store a new owner is still restoring): it
 * reflects the changelog up to `position`, `lagSlices` changelog records (diffs, a slice each, and
 * transaction markers) before its end as last fetched, so no graph of the partition is more than
 * that many slices behind.
 */
export interface StandbyLag {
  readonly position: number;
  readonly lagSlices: number;
}

/** Where a graph's partition is served from, as this instance sees it now. */
export type Location =
  | { readonly where: 'local'; readonly processor: string; readonly partition: number; readonly reads: GraphReads; readonly standby?: StandbyLag }
  | { readonly where: 'restoring'; readonly processor: string; readonly partition: number; readonly progress: RestoreProgress | undefined }
  | {
      readonly where: 'remote';
      readonly processor: string;
      readonly partition: number;
      readonly instance: string;
      readonly url: string;
      /** This instance's standby replica of the partition: answers when the owner does not (it crashed, the group has not moved its partitions yet). */
      readonly standby?: Extract<Location, { where: 'local' }>;
    }
  | { readonly where: 'unassigned'; readonly processor: string; readonly partition: number; readonly why: string };

/** A partition's state on this instance, for /readyz. */
export interface PartitionHealth {
  readonly processor: string;
  readonly partition: number;
  readonly state: 'ready' | 'restoring' | 'standby';
  readonly restore?: RestoreProgress;
}

/**
 * What the query server needs of the processors it serves: where a graph lives, its reads when
 * it lives here, and a signal when a partition's store has written a batch. The runtime's
 * processors provide it (`runtime-backend.ts`); the server knows nothing of Kafka.
 */
export interface QueryBackend {
  /** This instance's id, in `graphfold-served-by`. */
  readonly instance: string;
  /** The processors' names; the first answers requests that name none. */
  readonly processors: readonly string[];
  /** Where the graph of a processor lives; undefined for a processor that is not running yet. */
  locate(processor: string, graph: string): Location | undefined;
  /** Calls `listener` after every batch a local partition's store writes; returns the unsubscribe. */
  onWritten(processor: string, partition: number, listener: () => void): () => void;
  /** The graphs of this instance's ready partitions of a processor, in no order. */
  localGraphs(processor: string): AsyncGenerator<{ readonly graph: string; readonly partition: number }>;
  /** The query URLs of the other instances of a processor's group. */
  peers(processor: string): readonly string[];
  /** Every partition this instance owns (ready or restoring) or keeps a standby replica of, with its state. */
  health(): readonly PartitionHealth[];
}
