import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import type { PartitionerName } from '../codec/partitioner';
import { FatalError, GraphfoldError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';
import { accessRefusal, attempting, refusalSignal, type AccessRefusedError } from './access-refusal';
import { coPartitionedAssigner } from './assigner';
import { kafkaClient } from './kafka-client';
import { Lifecycle } from './lifecycle';
import { anonymousIdentity, Ownership, type MemberIdentity, type RestoreProgress } from './ownership';
import { PartitionTask, type TaskContext } from './partition-task';
import { SchemaCatalog } from './schema-catalog';
import { SnapshotSchedule, snapshotsOf, type SnapshotSubject } from './snapshot-policy';
import { Standbys } from './standbys';
import { groupId, type ProcessorSpec, type Topology } from './topology';
import type { GroupMap } from './assigner';
import type { GraphStore } from '../store/graph-store';

/** A partition as the query service sees it on this instance. */
export type PartitionView =
  | { readonly state: 'ready'; readonly store: GraphStore }
  | { readonly state: 'restoring'; readonly progress: RestoreProgress | undefined; readonly standby?: { readonly store: GraphStore; readonly position: number; readonly lagSlices: number } }
  /** Not owned here: a standby replica follows its changelog. */
  | { readonly state: 'standby'; readonly store: GraphStore; readonly position: number; readonly lagSlices: number }
  | { readonly state: 'not-owned' };

type ProcessorState = 'created' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

const transitions: Record<ProcessorState, readonly ProcessorState[]> = {
  created: ['starting'],
  starting: ['running', 'failed', 'stopping'],
  running: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopping'],
};

/**
 * One graph processor of a topology: a consumer group over its input topics (read_committed,
 * offsets committed only inside Kafka transactions), co-partitioned assignment, and a
 * {@link PartitionTask} per assigned partition, opened (and restored) on its first batch.
 * Batches of one partition run one at a time; partitions run concurrently.
 */
export class GraphProcessor {
  private readonly lifecycle: Lifecycle<ProcessorState>;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly catalog: SchemaCatalog;
  private readonly consumer: Consumer;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly queues = new Map<number, Promise<void>>();
  private readonly failures = new Map<number, number>();
  private owned: readonly number[] = [];
  private inputPartitions = 0;
  /** Who owns which partition, for routing queries. */
  readonly ownership: Ownership;
  /** Set once the output schemas are registered. */
  private ctx: TaskContext | undefined;
  /** Snapshots the open tasks' stores, when the topology keeps snapshots. */
  private schedule: SnapshotSchedule | undefined;
  /** Standby replicas of partitions this instance does not own (`standbys:`). */
  private readonly standbys: Standbys;
  /** Stores taken over from a standby, while their task opens (restores the tail): reads are served from them meanwhile. */
  private readonly handed = new Map<number, { readonly store: GraphStore; readonly end: number }>();
  /** Rejects when a client meets a broker certificate that does not verify (raced against the start). */
  private readonly refusal = refusalSignal();
  /** Why the processor failed, once it has. */
  private failure: Error | undefined;
  private settleDone: (error?: Error) => void = () => undefined;
  /** Settles when the processor stops: resolves after `stop`, rejects if it fails. */
  readonly done: Promise<void>;

  constructor(
    private readonly topology: Topology,
    private readonly spec: ProcessorSpec,
    private readonly instrumentation: Instrumentation,
    readonly member: MemberIdentity = anonymousIdentity(),
  ) {
    this.lifecycle = new Lifecycle(`processor ${spec.name}`, 'created', transitions);
    this.kafka = kafkaClient(topology.kafka, spec.name, (refusal) => this.refused(refusal));
    this.admin = this.kafka.admin();
    this.catalog = new SchemaCatalog(topology.registry);
    this.consumer = this.kafka.consumer({
      groupId: groupId(topology, spec),
      partitionAssigners: [coPartitionedAssigner(() => ({ owned: this.owned, ...member, positions: this.positions() }), { standbys: spec.standbys })],
      sessionTimeout: spec.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(spec.sessionTimeoutMs / 10)),
      maxBytesPerPartition: 1 << 20,
      retry: { retries: 10 },
    });
    this.done = new Promise((resolve, reject) => {
      this.settleDone = (error) => (error === undefined ? resolve() : reject(error));
    });
    this.done.catch(() => undefined);
    this.ownership = new Ownership(this.admin, groupId(topology, spec), spec.name, instrumentation);
    this.standbys = new Standbys(spec.name, () => this.ctx, instrumentation);
  }

  get name(): string {
    return this.spec.name;
  }

  /** How the processor's producers map graph ids to partitions: where each graph lives. */
  get partitioner(): PartitionerName {
    return this.spec.partitioner;
  }

  /** The number of input partitions (known once started). */
  get partitions(): number {
    return this.inputPartitions;
  }

  /** The group map of the last rebalance, for routing. */
  get map(): GroupMap | undefined {
    return this.ownership.map;
  }

  /**
   * A partition on this instance: its store when its task is open; its restore while it opens
   * (with the store a standby handed over, which serves reads meanwhile); a standby replica's
   * store when another instance owns it.
   */
  partitionView(partition: number): PartitionView {
    if (!this.lifecycle.is('running')) return { state: 'not-owned' };
    const replica = this.standbys.replica(partition);
    if (!this.owned.includes(partition)) return replica === undefined ? { state: 'not-owned' } : { state: 'standby', store: replica.reads, position: replica.position, lagSlices: replica.behind };
    const task = this.tasks.get(partition);
    if (task !== undefined && !task.closed) return { state: 'ready', store: task.reads };
    const progress = this.ownership.restore(partition);
    const handed = this.handed.get(partition) ?? (replica === undefined ? undefined : { store: replica.reads, end: replica.position + replica.behind });
    if (handed === undefined || handed.store.isClosed) return { state: 'restoring', progress };
    const position = handed.store.checkpoint().changelog ?? 0;
    return { state: 'restoring', progress, standby: { store: handed.store, position, lagSlices: Math.max(0, (progress?.to ?? handed.end) - position) } };
  }

  /** Partition -> the changelog offset this instance's store of it reflects (open tasks, standbys): how caught up it is, for the assignor. */
  private positions(): Record<string, number> {
    const out: Record<string, number> = this.standbys.positions();
    for (const [partition, task] of this.tasks) if (!task.closed) out[String(partition)] = task.changelogPosition;
    return out;
  }

  /**
   * Keeps standby replicas of the partitions the group map names this instance a standby of,
   * once the tasks of those partitions (revoked from this instance) have closed their stores.
   */
  private async reconcileStandbys(): Promise<void> {
    if (this.spec.standbys === 0 || !this.lifecycle.is('running')) return;
    const standbys = this.ownership.map?.standbys ?? {};
    const mine = Object.entries(standbys).flatMap(([p, instances]) => (instances.includes(this.member.instance) ? [Number(p)] : []));
    await Promise.all(mine.map((p) => this.queues.get(p) ?? Promise.resolve()));
    this.standbys.reconcile(mine.filter((p) => !this.owned.includes(p) && this.tasks.get(p) === undefined));
  }

  /**
   * Checks the topics, registers the output schemas, joins the group and starts consuming. A
   * refusal (credentials, ACLs, certificates: `access-refusal.ts`) fails it at once.
   */
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
    const { spec } = this;
    const group = groupId(this.topology, spec);
    await this.admin.connect();
    const topics = [...spec.inputs, spec.diffs, spec.rejections];
    const partitions = await attempting(this.topology.kafka, { doing: `describe topics ${topics.join(', ')}`, needs: `Describe on topics ${topics.join(', ')}` }, () => this.checkTopics());
    const [diff, rejection] = await Promise.all([this.catalog.register(spec.diffs, avroTypes().diff), this.catalog.register(spec.rejections, avroTypes().rejection)]);
    this.ctx = {
      topology: this.topology,
      spec,
      kafka: this.kafka,
      admin: this.admin,
      catalog: this.catalog,
      schemaIds: { diff, rejection },
      rejectionPartitions: partitions.rejections,
      inputPartitions: partitions.inputs,
      instrumentation: this.instrumentation,
    };
    const snapshots = snapshotsOf(this.topology, spec.diffs, { role: 'owner', application: this.topology.application, name: spec.name, instance: this.member.instance }, this.instrumentation);
    if (snapshots !== undefined) {
      this.ctx = { ...this.ctx, snapshots };
      this.schedule = new SnapshotSchedule(snapshots, (this.topology.snapshots as NonNullable<Topology['snapshots']>).everyMs, () => this.snapshotSubjects(), spec.name, this.instrumentation);
    }
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned(payload.memberAssignment);
      void this.ownership.refresh(payload.memberId, this.member.instance, this.owned).then(() => this.reconcileStandbys());
    });
    const joining = { doing: `consume ${spec.inputs.join(', ')} in consumer group ${group}`, needs: `Read on group ${group}`, coordinated: `consumer group ${group}` };
    this.consumer.on(this.consumer.events.CRASH, ({ payload }) => {
      const refusal = accessRefusal(payload.error, this.topology.kafka, joining);
      if (refusal !== undefined) this.refused(refusal);
      else if (!payload.restart) this.fail(payload.error);
    });
    await attempting(this.topology.kafka, joining, async () => {
      await this.consumer.connect();
      await this.consumer.subscribe({ topics: [...spec.inputs], fromBeginning: true });
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        partitionsConsumedConcurrently: spec.concurrency,
        eachBatch: (payload) => this.eachBatch(payload),
      });
    });
    // The group may have refused us while joining (the processor failed meanwhile), or a stop came.
    if (this.failure !== undefined) throw this.failure;
    if (!this.lifecycle.is('starting')) return;
    this.lifecycle.to('running');
    this.schedule?.start();
    this.openOwned();
    void this.reconcileStandbys();
    this.instrumentation.emit('processor.started', { processor: spec.name, group, inputs: spec.inputs, diffs: spec.diffs, rejections: spec.rejections });
  }

  /** A refusal a client reported: the start fails with it, or the running processor does. */
  private refused(refusal: AccessRefusedError): void {
    this.refusal.report(refusal);
    if (!this.lifecycle.is('starting')) this.fail(refusal);
  }

  /**
   * Stops consuming, waits for batches in flight, leaves the group (the partitions move at once),
   * snapshots the stores that changed since their last snapshot (a clean stop, when the topology
   * keeps snapshots; a failed processor takes none), closes every task. Idempotent.
   */
  async stop(): Promise<void> {
    if (this.lifecycle.is('stopping', 'stopped', 'created')) return;
    const clean = !this.lifecycle.is('failed');
    this.lifecycle.to('stopping');
    await this.consumer.stop().catch(() => undefined);
    await Promise.all([...this.queues.values()]);
    await this.consumer.disconnect().catch(() => undefined);
    await this.standbys.close();
    if (clean) await this.schedule?.final(this.snapshotSubjects());
    else await this.schedule?.stop();
    await Promise.all([...this.tasks.values()].map((task) => task.close()));
    this.tasks.clear();
    await this.admin.disconnect().catch(() => undefined);
    this.ownership.close();
    this.lifecycle.to('stopped');
    this.instrumentation.emit('processor.stopped', { processor: this.spec.name });
    this.settleDone();
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const { partition } = batch;
    const work = this.serially(partition, async () => {
      const task = await this.task(partition);
      if (task === undefined || isStale()) return;
      try {
        await task.process(batch, { resolveOffset });
      } catch (error) {
        this.failed(partition, error as Error);
      }
    });
    await whileHeartbeating(work, heartbeat);
  }

  /**
   * The open task of an owned partition, opened (fenced, restored) if it is not; undefined when
   * the partition is no longer owned, the processor is stopping, or opening failed (reported,
   * and retried after a backoff on the next call).
   */
  private async task(partition: number): Promise<PartitionTask | undefined> {
    if (!this.owned.includes(partition) || !this.lifecycle.is('running') || this.ctx === undefined) return undefined;
    const open = this.tasks.get(partition);
    if (open !== undefined && !open.closed) return open;
    const failures = this.failures.get(partition) ?? 0;
    if (failures > 0) await sleep(Math.min(30_000, 200 * 2 ** Math.min(failures, 8)));
    try {
      // A standby replica of the partition hands its store over: only the changelog's tail is restored, and it serves reads meanwhile.
      const replica = this.standbys.replica(partition);
      if (replica !== undefined) this.handed.set(partition, { store: replica.reads, end: replica.position + replica.behind });
      const handed = await this.standbys.take(partition);
      const task = await PartitionTask.open(this.ctx, partition, handed).finally(() => this.handed.delete(partition));
      this.tasks.set(partition, task);
      this.failures.delete(partition);
      return task;
    } catch (error) {
      this.failed(partition, error as Error);
      return undefined;
    }
  }

  /** A task failed to open or to process a batch: fatal errors (refusals among them) stop the processor; others are retried. */
  private failed(partition: number, error: Error): void {
    const refusal = accessRefusal(error, this.topology.kafka);
    if (refusal !== undefined || error instanceof FatalError) {
      this.fail(refusal ?? error);
      return;
    }
    this.failures.set(partition, (this.failures.get(partition) ?? 0) + 1);
    this.instrumentation.emit('task.failed', { processor: this.spec.name, partition, error });
  }

  /** Runs work for one partition after the work queued before it. */
  private serially(partition: number, work: () => Promise<void>): Promise<void> {
    const run = (this.queues.get(partition) ?? Promise.resolve()).then(work);
    this.queues.set(
      partition,
      run.catch(() => undefined),
    );
    return run;
  }

  private assigned(assignment: Record<string, number[] | undefined>): void {
    const now = [...new Set(Object.values(assignment).flatMap((p) => p ?? []))].sort((a, b) => a - b);
    const revoked = this.owned.filter((p) => !now.includes(p));
    this.owned = now;
    this.instrumentation.emit('partitions.assigned', { processor: this.spec.name, partitions: now });
    this.openOwned();
    if (revoked.length === 0) return;
    this.instrumentation.emit('partitions.revoked', { processor: this.spec.name, partitions: revoked });
    for (const partition of revoked) {
      void this.serially(partition, async () => {
        await this.tasks.get(partition)?.close();
        this.tasks.delete(partition);
      });
    }
  }

  /** Opens the tasks of newly owned partitions in the background, so that every owned store is restored, with or without input. */
  private openOwned(): void {
    for (const partition of this.owned) {
      if (this.tasks.get(partition)?.closed === false) continue;
      void this.serially(partition, async () => {
        await this.task(partition);
      });
    }
  }

  /** The open tasks' stores, for the snapshot schedule. */
  private snapshotSubjects(): SnapshotSubject[] {
    return [...this.tasks.values()].filter((task) => !task.closed).map((task) => ({ partition: task.partition, store: task.reads }));
  }

  /** Input topics, changelog and rejections exist, with partition counts that fit. */
  private async checkTopics(): Promise<{ inputs: number; rejections: number }> {
    const { spec } = this;
    const topics = [...spec.inputs, spec.diffs, spec.rejections];
    const existing = new Set(await this.admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length > 0) {
      const user = this.topology.kafka.sasl?.username;
      const hidden = user === undefined ? '' : ` (or user ${user} may not Describe them: the cluster lists only the topics a user may see; graphfold topology describe prints the ACLs)`;
      throw new FatalError(`processor ${spec.name}: topics ${missing.join(', ')} do not exist${hidden}; create them with \`graphfold topology apply --topology ${this.topology.origin}\``);
    }
    const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics });
    const count = (topic: string): number => metadata.find((m) => m.name === topic)?.partitions.length ?? 0;
    const inputCounts = spec.inputs.map(count);
    const partitions = inputCounts[0] ?? 0;
    this.inputPartitions = partitions;
    if (inputCounts.some((c) => c !== partitions)) {
      throw new FatalError(`processor ${spec.name}: input topics must be co-partitioned, but have ${spec.inputs.map((t, i) => `${t}: ${inputCounts[i]}`).join(', ')} partitions`);
    }
    if (count(spec.diffs) < partitions) {
      throw new FatalError(`processor ${spec.name}: changelog ${spec.diffs} has ${count(spec.diffs)} partitions but the inputs have ${partitions}; it needs at least as many (partition p of the inputs writes to partition p)`);
    }
    return { inputs: partitions, rejections: count(spec.rejections) };
  }

  /** Reports the failure, settles `done` with it and stops. */
  private fail(error: Error): void {
    if (this.lifecycle.is('failed', 'stopping', 'stopped')) return;
    this.failure = error;
    this.lifecycle.to('failed');
    this.instrumentation.emit('processor.failed', { processor: this.spec.name, error });
    this.settleDone(error instanceof GraphfoldError ? error : new FatalError(`processor ${this.spec.name} stopped: ${error.message}`, {}, { cause: error }));
    void this.stop();
  }
}

/**
 * Awaits `work` while keeping the consumer's group session alive: kafkajs sends heartbeats only
 * between batches, and a batch may wait behind a long restore. A heartbeat that fails because the
 * group rebalances throws, so kafkajs rejoins; `work` goes on and finds its partition revoked.
 */
async function whileHeartbeating(work: Promise<void>, heartbeat: () => Promise<void>): Promise<void> {
  let settled = false;
  const watched = work.finally(() => {
    settled = true;
  });
  while (!settled) {
    await Promise.race([watched, sleep(3_000)]);
    if (!settled) await heartbeat();
  }
  await watched;
}
