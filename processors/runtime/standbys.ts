import type { Instrumentation } from '../instrumentation/events';
import type { GraphStore } from '../store/graph-store';
import { PartitionQueues } from './partition-queues';
import type { TaskContext } from './partition-task';
import { StandbyReplica } from './standby';

/** A standby replica that failed is opened again after this long (or at the next rebalance). */
const reopenAfterMs = 5_000;

/**
 * The standby replicas one processor keeps on this instance: the partitions the group map names
 * this instance a standby of (and it does not own), each a {@link StandbyReplica}. `reconcile`
 * opens and closes them to match the map; `take` hands a replica's store to the partition's task
 * when the partition moves here. One change at a time per partition.
 */
export class Standbys {
  private readonly replicas = new Map<number, StandbyReplica>();
  private readonly queues = new PartitionQueues();
  private wanted = new Set<number>();
  private stopped = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly name: string,
    private readonly ctx: () => TaskContext | undefined,
    private readonly instrumentation: Instrumentation,
  ) {
    // Replicas that failed are opened again on this beat.
    this.timer = setInterval(() => this.reconcile([...this.wanted]), reopenAfterMs);
    this.timer.unref();
  }

  /** Keeps replicas of exactly `partitions` (the map's standbys of this instance, less what it owns). */
  reconcile(partitions: readonly number[]): void {
    if (this.stopped) return;
    this.wanted = new Set(partitions);
    for (const partition of new Set([...this.replicas.keys(), ...partitions])) {
      void this.queues.run(partition, async () => {
        const replica = this.replicas.get(partition);
        if (replica !== undefined && (replica.closed || !this.wanted.has(partition) || this.stopped)) {
          this.replicas.delete(partition);
          if (!replica.closed) {
            await replica.close();
            this.instrumentation.emit('standby.closed', { processor: this.name, partition, position: replica.position, why: this.stopped ? 'stopping' : 'unassigned' });
          }
        }
        const ctx = this.ctx();
        if (!this.wanted.has(partition) || this.replicas.has(partition) || this.stopped || ctx === undefined) return;
        try {
          const opened = await StandbyReplica.open(ctx, partition, (failed, error) => {
            this.instrumentation.emit('standby.failed', { processor: this.name, partition: failed.partition, error });
          });
          if (this.stopped || !this.wanted.has(partition)) await opened.close();
          else this.replicas.set(partition, opened);
        } catch (error) {
          this.instrumentation.emit('standby.failed', { processor: this.name, partition, error: error as Error });
        }
      });
    }
  }

  /**
   * The partition moved here: stops its replica, if this instance keeps one, and hands over its
   * open store (the task restores only the tail); undefined when there is none.
   */
  async take(partition: number): Promise<GraphStore | undefined> {
    this.wanted.delete(partition);
    let store: GraphStore | undefined;
    await this.queues.run(partition, async () => {
      const replica = this.replicas.get(partition);
      this.replicas.delete(partition);
      if (replica === undefined || replica.closed) return;
      store = await replica.detach();
      this.instrumentation.emit('standby.closed', { processor: this.name, partition, position: replica.position, why: 'taken' });
    });
    return store;
  }

  /** The open replica of a partition, for standby reads. */
  replica(partition: number): StandbyReplica | undefined {
    const replica = this.replicas.get(partition);
    return replica === undefined || replica.closed ? undefined : replica;
  }

  /** Partition -> the changelog offset each open replica's store reflects (for the assignor). */
  positions(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [partition, replica] of this.replicas) if (!replica.closed) out[String(partition)] = replica.position;
    return out;
  }

  /** Closes every replica (after the changes in flight). Idempotent. */
  async close(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.queues.settled();
    await Promise.all(
      [...this.replicas.values()].map(async (replica) => {
        await replica.close();
        this.instrumentation.emit('standby.closed', { processor: this.name, partition: replica.partition, position: replica.position, why: 'stopping' });
      }),
    );
    this.replicas.clear();
  }
}
