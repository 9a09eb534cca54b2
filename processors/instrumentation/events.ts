import type { RejectionCode } from '../errors';

/**
 * The typed events graphfold emits. Logs and metrics subscribe to them; nothing is built for an
 * event no one listens to (see {@link Instrumentation.enabled}).
 */
export interface GraphfoldEvents {
  'processor.started': { readonly processor: string; readonly group: string; readonly inputs: readonly string[]; readonly diffs: string; readonly rejections: string };
  'processor.stopped': { readonly processor: string };
  'processor.failed': { readonly processor: string; readonly error: Error };
  'partitions.assigned': { readonly processor: string; readonly partitions: readonly number[] };
  'partitions.revoked': { readonly processor: string; readonly partitions: readonly number[] };
  /** A partition's task is open: producer fenced in, store restored, ready for input. */
  'task.ready': { readonly processor: string; readonly partition: number; readonly seconds: number };
  /** A partition's task failed to open or closed after a failure; it is opened again after `retryInMs`. */
  'task.failed': { readonly processor: string; readonly partition: number; readonly error: Error; readonly failures: number; readonly retryInMs: number };
  /** A partition's store was deleted: missing, damaged, or ahead of its changelog. */
  'store.discarded': { readonly processor: string; readonly partition: number; readonly reason: string };
  'restore.started': { readonly processor: string; readonly partition: number; readonly from: number; readonly to: number };
  'restore.progress': {
    readonly processor: string;
    readonly partition: number;
    readonly records: number;
    readonly position: number;
    readonly to: number;
    readonly recordsPerSecond: number;
    readonly etaSeconds: number;
  };
  'restore.finished': { readonly processor: string; readonly partition: number; readonly records: number; readonly seconds: number };
  'batch.committed': {
    readonly processor: string;
    readonly partition: number;
    readonly records: number;
    readonly applied: number;
    readonly rejected: number;
    readonly skipped: number;
    readonly nextOffset: number;
    /** Records behind the partition's end after this batch. */
    readonly lag: number;
    readonly milliseconds: number;
    /** Of which the Kafka transaction's commit. */
    readonly commitMilliseconds: number;
  };
  /** Measured on a timer from the broker's end offsets and the group's committed offsets, for the partitions this instance owns. */
  'partition.lag': { readonly processor: string; readonly partitions: readonly { readonly partition: number; readonly end: number; readonly committed: number; readonly lag: number }[] };
  /** An owned partition has input waiting but committed nothing for `seconds`. */
  'partition.stalled': { readonly processor: string; readonly partition: number; readonly lag: number; readonly seconds: number };
  /** A stalled partition commits again. */
  'partition.flowing': { readonly processor: string; readonly partition: number; readonly stalledSeconds: number };
  /** The processor cannot reach the Kafka cluster (reported once per outage). */
  'connection.lost': { readonly processor: string; readonly error: Error };
  /** The cluster answers again after `seconds` away. */
  'connection.restored': { readonly processor: string; readonly seconds: number };
  /** The group consumer stopped on an error and is started again after `inMs`. */
  'consumer.restarting': { readonly processor: string; readonly error: Error; readonly inMs: number };
  /** The size on disk of a partition's store, measured on a timer. */
  'store.size': { readonly processor: string; readonly partition: number; readonly bytes: number };
  /** The standalone server of /metrics, /healthz and /readyz listens at `url`. */
  'ops.listening': { readonly url: string };
  /** A stop was asked for; batches in flight finish or abort. */
  'processor.stopping': { readonly processor: string };
  /** A committed batch is in the partition's store: queries see it from now on. */
  'batch.written': { readonly processor: string; readonly partition: number };
  'batch.aborted': { readonly processor: string; readonly partition: number; readonly rewoundTo: number; readonly error: Error };
  /**
   * A snapshot of a partition's store is in the snapshot store. `longestStepMs`: the longest the
   * copy held the JavaScript thread at once (what it can delay processing by).
   */
  'snapshot.taken': {
    readonly name: string;
    readonly topic: string;
    readonly partition: number;
    readonly id: string;
    readonly changelogOffset: number;
    readonly entries: number;
    readonly bytes: number;
    readonly copySeconds: number;
    readonly seconds: number;
    readonly longestStepMs: number;
    readonly store: string;
  };
  /** A snapshot was not restored: damaged, incompatible, or of another history of the changelog. */
  'snapshot.skipped': { readonly name: string; readonly topic: string; readonly partition: number; readonly id: string; readonly reason: string };
  /** A partition's store was replaced by a snapshot; the changelog after `changelogOffset` is replayed next. */
  'snapshot.restored': {
    readonly name: string;
    readonly topic: string;
    readonly partition: number;
    readonly id: string;
    readonly changelogOffset: number;
    readonly bytes: number;
    readonly seconds: number;
    readonly takenBy: string;
    readonly createdAt: string;
  };
  /** Taking or fetching a snapshot failed (the snapshot store is unreachable, the disk full, ...): the next schedule tries again; a restore replays the changelog instead. */
  'snapshot.failed': { readonly name: string; readonly topic: string; readonly partition: number; readonly doing: 'take' | 'restore'; readonly error: Error };
  /** Old snapshots deleted by the retention setting (or abandoned half-written). */
  'snapshot.pruned': { readonly name: string; readonly topic: string; readonly partition: number; readonly ids: readonly string[] };
  /** A standby replica of a partition this instance does not own follows the changelog from `position` (the changelog ended at `end`). */
  'standby.opened': { readonly processor: string; readonly partition: number; readonly position: number; readonly end: number };
  /** A standby replica stopped: the partition moved here (`taken`: its task took the store over) or elsewhere, or it failed (opened again later). */
  'standby.closed': { readonly processor: string; readonly partition: number; readonly position: number; readonly why: 'taken' | 'unassigned' | 'stopping' };
  'standby.failed': { readonly processor: string; readonly partition: number; readonly error: Error };
  /** A standby replica wrote a batch (at most one event a second per replica): the changelog offset it reflects, and the offsets it is behind the changelog's end as last fetched. */
  'standby.progress': { readonly processor: string; readonly partition: number; readonly position: number; readonly behind: number };
  /** A follower fetches its diffs topic (every partition, into its own stores). */
  'follower.started': { readonly follower: string; readonly diffs: string; readonly partitions: number; readonly group: string };
  'follower.stopped': { readonly follower: string };
  'follower.failed': { readonly follower: string; readonly error: Error };
  /**
   * A follower wrote a fetched batch of diffs into a partition's store: queries see it from now
   * on. `highWatermark`: the partition's end when fetched (its lag is the offsets between);
   * `oldestTimestamp`, `newestTimestamp`: the batch's first and last diff's record times (ms),
   * when their owner produced them.
   */
  'follow.batch': { readonly follower: string; readonly partition: number; readonly records: number; readonly position: number; readonly highWatermark: number; readonly oldestTimestamp: number; readonly newestTimestamp: number };
  /** The query API listens (`url` is what the instance advertises to its group). */
  'query.started': { readonly url: string; readonly instance: string; readonly authenticated: boolean };
  /** A query request failed with an unexpected error (answered 500): a bug. */
  'query.failed': { readonly method: string; readonly url: string; readonly error: Error };
  'record.rejected': {
    readonly processor: string;
    readonly topic: string;
    readonly partition: number;
    readonly offset: number;
    readonly code: RejectionCode;
    readonly message: string;
    readonly graph?: string;
    readonly txId?: string;
  };
}

export type EventName = keyof GraphfoldEvents;
export type Listener<E extends EventName> = (payload: GraphfoldEvents[E]) => void;

/** Where events go. A listener that throws is dropped from the call, never from graphfold's work. */
export class Instrumentation {
  private readonly listeners = new Map<EventName, Set<Listener<never>>>();

  /** Subscribes; returns the unsubscribe function. */
  on<E extends EventName>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => set.delete(listener as Listener<never>);
  }

  /** True when someone listens: check before building a costly payload. */
  enabled(event: EventName): boolean {
    return (this.listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends EventName>(event: E, payload: GraphfoldEvents[E]): void {
    const set = this.listeners.get(event);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<E>)(payload);
      } catch {
        // A broken listener must not break a fold or a restore.
      }
    }
  }
}
