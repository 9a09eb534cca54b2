import { randomBytes } from 'node:crypto';
import type { Admin, Batch, Consumer, Kafka, KafkaMessage } from 'kafkajs';
import { InputDecoder } from '../codec/input';
import type { PartitionerName } from '../codec/partitioner';
import type { GraphDiff } from '../engine/model';
import { FatalError, GraphfoldError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';
import { GraphStore, StoreLayoutError } from '../store/graph-store';
import { accessRefusal, attempting, refusalSignal, type AccessRefusedError } from './access-refusal';
import type { GroupMap } from './assigner';
import type { PartitionView } from './graph-processor';
import { kafkaClient } from './kafka-client';
import { Lifecycle } from './lifecycle';
import { anonymousIdentity, type MemberIdentity, type RestoreProgress } from './ownership';
import { onlyPartitions } from './restore';
import { SchemaCatalog } from './schema-catalog';
import { openFromSnapshot, SnapshotSchedule, snapshotsOf, type SnapshotSubject } from './snapshot-policy';
import type { Snapshots } from '../snapshots/snapshots';
import { storeDirectory, storeOptions, type FollowerSpec, type Topology } from './topology';

type FollowerState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const transitions: Record<FollowerState, readonly FollowerState[]> = {
  created: ['starting'],
  starting: ['running', 'failed', 'stopping'],
  running: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopping'],
};

/** One partition of the followed topic, in its local store. */
interface Followed {
  readonly partition: number;
  store: GraphStore;
  /** The next offset to apply: the store's checkpoint, once its last write is on disk. */
  position: number;
  /** `restoring` until the position first reaches `catchUpTo` (the topic's end when the follower started); then `ready`. */
  state: 'restoring' | 'ready';
  readonly catchUpTo: number;
  readonly from: number;
  readonly started: number;
  records: number;
  lastReport: number;
  written: Promise<void>;
}

/**
 * A read-only copy of a diffs topic (a processor's changelog, this topology's or another team's):
 * every partition folded into a local store as it is written, served by the query API under the
 * follower's name. It never writes to Kafka: no producer, no committed offsets; its consumer group
 * (`<application>-follower-<name>-<random>`) is a group of one, used only to fetch.
 *
 * Starting (in this order):
 * 1. Read the topic's partitions and their offsets (read_committed). A missing topic is fatal.
 * 2. Open each partition's store (`<store.dir>/<name>/<partition>`); one that fails to open is
 *    deleted. With snapshots configured, an empty store (or one far behind) is replaced by the
 *    newest valid snapshot of the topic's partition, an owner's or a follower's.
 * 3. A store that claims more than the topic holds is deleted (the topic was recreated); one
 *    behind the topic's first offset cannot be rebuilt (its history was deleted): fatal.
 * 4. Fetch every partition from its store's checkpoint (read_committed: never a diff of an
 *    aborted transaction). Each fetched batch is replayed into the store (no fold: the owner
 *    validated the diffs) and committed with the offset after it, in one WriteBatch. A partition
 *    is `restoring` (reads answer 503 with the progress) until it reaches the end the topic had
 *    at the start, then `ready`, and stays so while it follows.
 * A diff that does not follow its graph's head stops the follower (the topic is not one graph
 * changelog, or the store is damaged: delete the follower's store directory and start it again).
 */
export class Follower {
  private readonly lifecycle: Lifecycle<FollowerState>;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly catalog: SchemaCatalog;
  private readonly decoder: InputDecoder;
  private consumer: Consumer | undefined;
  private readonly followed = new Map<number, Followed>();
  private count = 0;
  private snapshots: Snapshots | undefined;
  private schedule: SnapshotSchedule | undefined;
  private readonly refusal = refusalSignal();
  private failure: Error | undefined;
  private settleDone: (error?: Error) => void = () => undefined;
  /** Settles when the follower stops: resolves after `stop`, rejects if it fails. */
  readonly done: Promise<void>;

  constructor(
    private readonly topology: Topology,
    private readonly spec: FollowerSpec,
    private readonly instrumentation: Instrumentation,
    private readonly member: MemberIdentity = anonymousIdentity(),
  ) {
    this.lifecycle = new Lifecycle(`follower ${spec.name}`, 'created', transitions);
    this.kafka = kafkaClient(topology.kafka, spec.name, { onRefused: (refusal) => this.refused(refusal) });
    this.admin = this.kafka.admin();
    this.catalog = new SchemaCatalog(topology.registry);
    this.decoder = new InputDecoder(Number.MAX_SAFE_INTEGER);
    this.done = new Promise((resolve, reject) => {
      this.settleDone = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.done.catch(() => undefined);
  }

  get name(): string {
    return this.spec.name;
  }

  get partitioner(): PartitionerName {
    return this.spec.partitioner;
  }

  /** The followed topic's partitions (known once started). */
  get partitions(): number {
    return this.count;
  }

  /** A follower holds every partition: there is no group map to route by. */
  get map(): GroupMap | undefined {
    return undefined;
  }

  partitionView(partition: number): PartitionView {
    const followed = this.followed.get(partition);
    if (followed === undefined || !this.lifecycle.is('running')) return { state: 'not-owned' };
    if (followed.state === 'ready') return { state: 'ready', store: followed.store };
    return { state: 'restoring', progress: progressOf(followed, Date.now()) };
  }

  /** Starts following (see the class comment); a refusal (credentials, ACLs, certificates) fails it at once. */
  async start(): Promise<void> {
    this.lifecycle.to('starting');
    try {
      await Promise.race([this.starting(), this.refusal.refused]);
    } catch (error) {
      const failure = accessRefusal(error, this.topology.kafka) ?? (error as Error);
      this.fail(failure);
      throw failure;
    }
  }

  private async starting(): Promise<void> {
    const { spec, topology } = this;
    const topic = spec.diffs;
    await this.admin.connect();
    // 1.
    const describing = { doing: `describe topic ${topic}`, needs: `Describe on topic ${topic}` };
    const existing = await attempting(topology.kafka, describing, () => this.admin.listTopics());
    if (!existing.includes(topic)) throw new FatalError(`follower ${spec.name}: topic ${topic} does not exist (or this user may not Describe it); a follower reads a processor's diffs topic`, { topic });
    const offsets = await attempting(topology.kafka, { doing: `read the offsets of topic ${topic}`, needs: `Describe on topic ${topic}` }, () => this.admin.fetchTopicOffsets(topic));
    this.count = offsets.length;
    this.snapshots = snapshotsOf(topology, topic, { role: 'follower', application: topology.application, name: spec.name, instance: this.member.instance }, this.instrumentation);
    this.instrumentation.emit('partitions.assigned', { processor: spec.name, partitions: offsets.map((o) => o.partition).sort((a, b) => a - b) });
    // 2. and 3.
    for (const { partition, low, offset } of offsets.sort((a, b) => a.partition - b.partition)) {
      const store = await this.openStore(partition, Number(low), Number(offset));
      const position = store.checkpoint().changelog ?? 0;
      const now = Date.now();
      this.followed.set(partition, { partition, store, position, state: position >= Number(offset) ? 'ready' : 'restoring', catchUpTo: Number(offset), from: position, started: now, records: 0, lastReport: now, written: Promise.resolve() });
      if (position < Number(offset)) this.instrumentation.emit('restore.started', { processor: spec.name, partition, from: position, to: Number(offset) });
    }
    if (this.snapshots !== undefined) {
      this.schedule = new SnapshotSchedule(this.snapshots, (topology.snapshots as NonNullable<Topology['snapshots']>).everyMs, () => this.snapshotSubjects(), spec.name, this.instrumentation);
    }
    // 4.
    const group = `${topology.application}-follower-${spec.name}-${randomBytes(4).toString('hex')}`;
    const consumer = this.kafka.consumer({ groupId: group, partitionAssigners: [onlyPartitions(topic, [...this.followed.keys()])], readUncommitted: false, maxBytesPerPartition: 8 << 20, maxWaitTimeInMs: 250, retry: { retries: 10 } });
    this.consumer = consumer;
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      // Transaction markers occupy offsets but never reach eachBatch: a batch of markers only moves the position here.
      const followed = this.followed.get(payload.partition);
      if (followed !== undefined) void followed.written.then(() => this.reached(followed, Number(payload.lastOffset) + 1));
    });
    const fetching = { doing: `read topic ${topic} as follower ${spec.name} (consumer group ${group})`, needs: `Read on topic ${topic} and on the groups prefixed ${topology.application}-follower-${spec.name}-`, coordinated: `consumer group ${group}` };
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      const refusal = accessRefusal(payload.error, topology.kafka, fetching);
      if (refusal !== undefined) this.refused(refusal);
      else if (!payload.restart) this.fail(payload.error);
    });
    await attempting(topology.kafka, fetching, async () => {
      await consumer.connect();
      await consumer.subscribe({ topic });
      await consumer.run({ autoCommit: false, partitionsConsumedConcurrently: Math.max(1, this.count), eachBatch: async ({ batch }) => this.apply(batch) });
    });
    for (const followed of this.followed.values()) consumer.seek({ topic, partition: followed.partition, offset: String(followed.position) });
    if (this.failure !== undefined) throw this.failure;
    if (!this.lifecycle.is('starting')) return;
    this.lifecycle.to('running');
    this.schedule?.start();
    for (const followed of this.followed.values()) if (followed.state === 'ready') this.instrumentation.emit('task.ready', { processor: spec.name, partition: followed.partition, seconds: 0 });
    this.instrumentation.emit('follower.started', { follower: spec.name, diffs: topic, partitions: this.count, group });
  }

  /** Step 4 for one fetched batch. */
  private async apply(batch: Batch): Promise<void> {
    const followed = this.followed.get(batch.partition);
    if (followed === undefined || this.failure !== undefined) return;
    const messages = batch.messages.filter((m) => Number(m.offset) >= followed.position);
    if (messages.length === 0) return;
    const last = messages[messages.length - 1] as KafkaMessage;
    const next = Number(last.offset) + 1;
    try {
      await this.catalog.fetch(messages.flatMap((m) => (m.value === null || m.value.length < 5 ? [] : [m.value.readUInt32BE(1)])));
      const diffs: GraphDiff[] = messages.flatMap((m) => (m.value === null ? [] : [this.decodeDiff(m.value, batch.partition, Number(m.offset))]));
      await followed.store.replay(diffs);
      await followed.written;
      followed.written = followed.store.commit({ ...followed.store.checkpoint(), changelog: next });
      await followed.written;
    } catch (error) {
      followed.store.discard();
      if (error instanceof FatalError) {
        this.fail(error);
        return;
      }
      throw error;
    }
    followed.records += messages.length;
    this.instrumentation.emit('batch.written', { processor: this.spec.name, partition: batch.partition });
    if (this.instrumentation.enabled('follow.batch')) {
      this.instrumentation.emit('follow.batch', { follower: this.spec.name, partition: batch.partition, records: messages.length, position: next, highWatermark: Number(batch.highWatermark), oldestTimestamp: Number((messages[0] as KafkaMessage).timestamp), newestTimestamp: Number(last.timestamp) });
    }
    this.reached(followed, next);
  }

  /** The partition's store reflects the topic up to `position`: ready once it reached where the topic ended at the start. */
  private reached(followed: Followed, position: number): void {
    if (position > followed.position) {
      followed.position = position;
    }
    if (followed.state === 'ready') return;
    const now = Date.now();
    if (followed.position >= followed.catchUpTo) {
      followed.state = 'ready';
      const seconds = (now - followed.started) / 1000;
      this.instrumentation.emit('restore.finished', { processor: this.spec.name, partition: followed.partition, records: followed.records, seconds });
      this.instrumentation.emit('task.ready', { processor: this.spec.name, partition: followed.partition, seconds });
    } else if (now - followed.lastReport >= 2_000) {
      followed.lastReport = now;
      const progress = progressOf(followed, now);
      this.instrumentation.emit('restore.progress', { processor: this.spec.name, partition: followed.partition, records: progress.records, position: progress.position, to: progress.to, recordsPerSecond: followed.records / Math.max((now - followed.started) / 1000, 1e-3), etaSeconds: progress.etaSeconds ?? 0 });
    }
  }

  /** Steps 2 and 3 for one partition. */
  private async openStore(partition: number, low: number, end: number): Promise<GraphStore> {
    const { spec, topology } = this;
    const dir = storeDirectory(topology, spec, partition);
    const options = storeOptions(topology);
    const discard = async (store: GraphStore | undefined, reason: string): Promise<GraphStore> => {
      this.instrumentation.emit('store.discarded', { processor: spec.name, partition, reason });
      await store?.close();
      await GraphStore.destroy(dir);
      return GraphStore.open(dir, options);
    };
    let store: GraphStore;
    try {
      store = await GraphStore.open(dir, options);
    } catch (error) {
      store = await discard(undefined, error instanceof StoreLayoutError ? error.message : `it does not open: ${(error as Error).message}`);
    }
    store = await openFromSnapshot(store, this.snapshots, partition, options, { changelogEnd: end, minSavedRecords: topology.snapshots?.minSavedRecords ?? 0, roles: ['owner', 'follower'], name: spec.name, instrumentation: this.instrumentation });
    const at = store.checkpoint().changelog ?? 0;
    if (at > end) store = await discard(store, `the store reflects topic ${spec.diffs} up to offset ${at}, but the topic ends at ${end}`);
    const from = store.checkpoint().changelog ?? 0;
    if (from < low) {
      await store.close();
      throw new FatalError(`topic ${spec.diffs} partition ${partition} starts at offset ${low}: its history was deleted (retention or compaction), so follower ${spec.name} cannot rebuild its graphs; a diffs topic needs retention.ms=-1 and cleanup.policy=delete`, { topic: spec.diffs, partition });
    }
    return store;
  }

  private decodeDiff(value: Buffer, partition: number, offset: number): GraphDiff {
    const topic = this.spec.diffs;
    try {
      return this.decoder.decodeDiff(value, this.catalog.known);
    } catch (error) {
      throw new FatalError(`record at ${topic}/${partition}@${offset} is not a GraphDiff: ${(error as Error).message}; follower ${this.spec.name} follows only a graphfold diffs topic`, { topic, partition, offset }, { cause: error });
    }
  }

  private snapshotSubjects(): SnapshotSubject[] {
    return [...this.followed.values()].filter((f) => !f.store.isClosed).map((f) => ({ partition: f.partition, store: f.store }));
  }

  /**
   * Stops fetching, waits for the writes in flight, snapshots the stores that changed since their
   * last snapshot (a clean stop, with snapshots configured), closes the stores. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.lifecycle.is('stopping', 'stopped', 'created')) return;
    const clean = !this.lifecycle.is('failed');
    this.lifecycle.to('stopping');
    await this.consumer?.stop().catch(() => undefined);
    await this.consumer?.disconnect().catch(() => undefined);
    await Promise.all([...this.followed.values()].map((f) => f.written.catch(() => undefined)));
    if (clean) await this.schedule?.final(this.snapshotSubjects());
    else await this.schedule?.stop();
    await Promise.all([...this.followed.values()].map((f) => f.store.close().catch(() => undefined)));
    await this.admin.disconnect().catch(() => undefined);
    this.lifecycle.to('stopped');
    this.instrumentation.emit('follower.stopped', { follower: this.spec.name });
    this.settleDone();
  }

  private refused(refusal: AccessRefusedError): void {
    this.refusal.report(refusal);
    if (!this.lifecycle.is('starting')) this.fail(refusal);
  }

  private fail(error: Error): void {
    if (this.lifecycle.is('failed', 'stopping', 'stopped')) return;
    this.failure = error;
    this.lifecycle.to('failed');
    this.instrumentation.emit('follower.failed', { follower: this.spec.name, error });
    this.settleDone(error instanceof GraphfoldError ? error : new FatalError(`follower ${this.spec.name} stopped: ${error.message}`, {}, { cause: error }));
    void this.stop();
  }
}

function progressOf(followed: Followed, now: number): RestoreProgress {
  const rate = followed.records / Math.max((now - followed.started) / 1000, 1e-3);
  const left = Math.max(0, followed.catchUpTo - followed.position);
  return { records: followed.records, position: followed.position, to: followed.catchUpTo, etaSeconds: followed.records === 0 ? null : left / Math.max(rate, 1e-3) };
}
