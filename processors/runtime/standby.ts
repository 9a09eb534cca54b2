import { randomBytes } from 'node:crypto';
import type { Consumer, KafkaMessage } from 'kafkajs';
import { InputDecoder } from '../codec/input';
import type { GraphDiff } from '../engine/model';
import { FatalError, RetriableError, StoreAheadOfChangelogError } from '../errors';
import { GraphStore, StoreLayoutError } from '../store/graph-store';
import type { TaskContext } from './partition-task';
import { onlyPartitions } from './restore';
import { openFromSnapshot } from './snapshot-policy';
import { groupId, storeDirectory, storeOptions } from './topology';

/**
 * A standby replica of one partition of a processor: the partition's store on an instance that
 * does not own it, in the directory the owner's would be in, following the changelog
 * (read_committed) as the owner writes it. Reads may be served from it (with its lag) while the
 * partition has no ready owner; when the group gives the partition to this instance, the task
 * takes the open store over (`detach`) and restores only the changelog's tail.
 *
 * Opening (in this order):
 * 1. Read the changelog partition's offsets.
 * 2. Open the store (one of another layout is deleted; one that does not open fails the replica,
 *    which is opened again later); with snapshots configured, an empty one
 *    (or one far behind) is replaced by the newest valid owner's snapshot.
 * 3. A store that claims more than the changelog holds (the changelog lost history) is kept, as
 *    the last copy of that history, and the replica fails (StoreAheadOfChangelogError); one that
 *    claims less than its first offset fails it too (a changelog whose history is gone cannot be
 *    followed).
 * 4. Fetch from the store's checkpoint in a consumer group of its own (`<group>-standby-<p>-<random>`,
 *    committing nothing): each batch is replayed (no fold) and committed with the offset after it.
 * Any failure closes the replica (`failed` says why); the processor opens it again later.
 */
export class StandbyReplica {
  private written: Promise<void> = Promise.resolve();
  private end: number;
  private failure: Error | undefined;
  private closing: Promise<GraphStore | undefined> | undefined;
  private readonly decoder: InputDecoder;
  private reported = 0;

  private constructor(
    private readonly ctx: TaskContext,
    readonly partition: number,
    private store: GraphStore,
    private consumer: Consumer | undefined,
    end: number,
    private readonly onFailure: (replica: StandbyReplica, error: Error) => void,
  ) {
    this.end = end;
    this.decoder = new InputDecoder(Number.MAX_SAFE_INTEGER);
  }

  /** Opens and starts following (see the class comment). */
  static async open(ctx: TaskContext, partition: number, onFailure: (replica: StandbyReplica, error: Error) => void): Promise<StandbyReplica> {
    const { spec, topology } = ctx;
    const offsets = await ctx.admin.fetchTopicOffsets(spec.diffs);
    const mine = offsets.find((o) => o.partition === partition);
    if (mine === undefined) throw new FatalError(`changelog ${spec.diffs} has no partition ${partition}`, { topic: spec.diffs, partition });
    const low = Number(mine.low);
    const end = Number(mine.offset);
    const dir = storeDirectory(topology, spec, partition);
    const options = storeOptions(topology);
    const rebuilt = async (store: GraphStore | undefined, reason: string): Promise<GraphStore> => {
      ctx.instrumentation.emit('store.discarded', { processor: spec.name, partition, reason: `standby: ${reason}` });
      await store?.close();
      await GraphStore.destroy(dir);
      return GraphStore.open(dir, options);
    };
    let store: GraphStore;
    try {
      store = await GraphStore.open(dir, options);
    } catch (error) {
      // Only a store of another layout is rebuilt here: one that does not open may be held by a task closing it (the replica is opened again later).
      if (!(error instanceof StoreLayoutError)) throw error;
      store = await rebuilt(undefined, error.message);
    }
    store = await openFromSnapshot(store, ctx.snapshots, partition, options, { changelogEnd: end, minSavedRecords: topology.snapshots?.minSavedRecords ?? 0, roles: ['owner'], name: spec.name, instrumentation: ctx.instrumentation });
    const at = store.checkpoint().changelog ?? 0;
    if (at > end) {
      // Never deleted: the store may be the last copy of the history the changelog lost.
      await store.close();
      throw new StoreAheadOfChangelogError(
        `standby of partition ${partition}: the store ${dir} holds the changelog ${spec.diffs} up to offset ${at}, but the changelog ends at ${end}: it lost history (was the diffs topic deleted and recreated?), and this store may be its only copy, so it is kept and not followed; graphfold repair changelog --topology ${topology.origin} --processor ${spec.name} --partition ${partition} writes it back, graphfold repair store --topology ${topology.origin} --processor ${spec.name} --partition ${partition} --discard gives it up`,
        { processor: spec.name, topic: spec.diffs, partition, offset: end, dir },
      );
    } else if (at < low) {
      await store.close();
      throw new FatalError(`changelog ${spec.diffs} partition ${partition} starts at offset ${low}: its history was deleted, so no standby can rebuild it; the diffs topic needs retention.ms=-1 and cleanup.policy=delete`, { topic: spec.diffs, partition });
    }
    const replica = new StandbyReplica(ctx, partition, store, undefined, end, onFailure);
    try {
      await replica.follow();
    } catch (error) {
      await replica.close();
      throw error;
    }
    ctx.instrumentation.emit('standby.opened', { processor: spec.name, partition, position: replica.position, end });
    return replica;
  }

  /** The changelog offset the store's written state reflects. */
  get position(): number {
    return this.store.checkpoint().changelog ?? 0;
  }

  /** Changelog offsets between the store and the changelog's end as last fetched (diffs, and the transaction markers among them). */
  get behind(): number {
    return Math.max(0, this.end - this.position);
  }

  /** The store, for standby reads (written state only); valid until the replica closes. */
  get reads(): GraphStore {
    return this.store;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /** Why it stopped following, if it failed. */
  get failed(): Error | undefined {
    return this.failure;
  }

  /**
   * Stops following and hands the open store over (the task of the partition takes it). After the
   * write in flight; the replica is closed. Resolves to undefined if it was closed already.
   */
  detach(): Promise<GraphStore | undefined> {
    this.closing ??= (async () => {
      await this.consumer?.stop().catch(() => undefined);
      await this.consumer?.disconnect().catch(() => undefined);
      await this.written.catch(() => undefined);
      this.store.discard();
      return this.store;
    })();
    return this.closing;
  }

  /** Stops following and closes the store. Idempotent. */
  async close(): Promise<void> {
    const fresh = this.closing === undefined;
    const store = await this.detach();
    if (fresh) await store?.close().catch(() => undefined);
  }

  private async follow(): Promise<void> {
    const { spec, kafka, topology } = this.ctx;
    const group = `${groupId(topology, spec)}-standby-${this.partition}-${randomBytes(4).toString('hex')}`;
    const consumer = kafka.consumer({ groupId: group, partitionAssigners: [onlyPartitions(spec.diffs, [this.partition])], readUncommitted: false, maxBytesPerPartition: 8 << 20, maxWaitTimeInMs: 100, retry: { retries: 8 } });
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      if (payload.partition !== this.partition) return;
      this.end = Math.max(this.end, Number(payload.highWatermark));
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) this.fail(new RetriableError(`standby of ${spec.diffs} partition ${this.partition} stopped fetching: ${payload.error.message}`, { topic: spec.diffs, partition: this.partition }, { cause: payload.error }));
    });
    await consumer.connect();
    await consumer.subscribe({ topic: spec.diffs });
    await consumer.run({ autoCommit: false, eachBatch: async ({ batch }) => this.apply(batch.messages, Number(batch.highWatermark)) });
    consumer.seek({ topic: spec.diffs, partition: this.partition, offset: String(this.position) });
  }

  private async apply(fetched: readonly KafkaMessage[], highWatermark: number): Promise<void> {
    if (this.closed) return;
    const from = this.position;
    const messages = fetched.filter((m) => Number(m.offset) >= from);
    this.end = Math.max(this.end, highWatermark);
    if (messages.length === 0) return;
    const next = Number((messages[messages.length - 1] as KafkaMessage).offset) + 1;
    try {
      await this.ctx.catalog.fetch(messages.flatMap((m) => (m.value === null || m.value.length < 5 ? [] : [m.value.readUInt32BE(1)])));
      const diffs: GraphDiff[] = messages.flatMap((m) => (m.value === null ? [] : [this.decode(m.value, Number(m.offset))]));
      await this.store.replay(diffs);
      await this.written;
      this.written = this.store.commit({ ...this.store.checkpoint(), changelog: next });
      await this.written;
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    this.ctx.instrumentation.emit('batch.written', { processor: this.ctx.spec.name, partition: this.partition });
    if (Date.now() - this.reported >= 1_000) {
      this.reported = Date.now();
      this.ctx.instrumentation.emit('standby.progress', { processor: this.ctx.spec.name, partition: this.partition, position: this.position, behind: this.behind });
    }
  }

  private decode(value: Buffer, offset: number): GraphDiff {
    const topic = this.ctx.spec.diffs;
    try {
      return this.decoder.decodeDiff(value, this.ctx.catalog.known);
    } catch (error) {
      throw new FatalError(`changelog record at ${topic}/${this.partition}@${offset} is not a GraphDiff: ${(error as Error).message}; only graphfold may write to a diffs topic`, { topic, partition: this.partition, offset }, { cause: error });
    }
  }

  private fail(error: Error): void {
    if (this.failure !== undefined || this.closed) return;
    this.failure = error;
    this.onFailure(this, error);
    void this.close();
  }
}
