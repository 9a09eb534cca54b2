import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, type Admin, type Consumer, type ConsumerRunConfig, type EachBatchPayload, type Kafka } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import type { PartitionerName } from '../codec/partitioner';
import { classify, coordinatorMissesForRefusal, FatalError, type GraphfoldError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';
import { CoordinatorMisses, FailureBudget, retry, unreachableBackoff } from '../retry';
import { accessRefusal, attempting, coordinatorMissed, refusalSignal, type AccessRefusedError, type Attempt } from './access-refusal';
import { coPartitionedAssigner } from './assigner';
import { kafkaClient } from './kafka-client';
import { Lifecycle } from './lifecycle';
import { outputLimits } from '../task/outputs';
import { PartitionMonitor } from './partition-monitor';
import { anonymousIdentity, Ownership, type MemberIdentity, type RestoreProgress } from './ownership';
import { PartitionQueues } from './partition-queues';
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
  created: ['starting', 'stopped'],
  starting: ['running', 'failed', 'stopping'],
  running: ['stopping', 'failed'],
  stopping: ['stopped', 'failed'],
  stopped: [],
  failed: ['stopping'],
};

/**
 * The group consumer rides out a broker outage on the member id it has: kafkajs gives a restarted
 * consumer a new member id, and the group then waits a whole session timeout for the old one
 * before it assigns anything, while the same member simply heartbeats on once the coordinator is
 * back. So its requests retry (briefly spaced) for as long as the outage lasts; a stop does not
 * wait for them (see `stop`).
 */
const groupRetry = { retries: 1_000_000, initialRetryTime: 100, maxRetryTime: 2_000 };

/** Kafka's default message.max.bytes. */
const kafkaDefaultMaxMessageBytes = 1_048_588;

/** A step of `stop` that does not finish in this long is left behind (a broker that is gone). */
const stopStepMs = 4_000;
/** How long a stop waits for the batches in flight to commit or abort. */
const batchDrainMs = 8_000;
/** How long a clean stop's snapshots may take (a stop must end within 20 s); one cut short is taken again at the next start's schedule. */
const finalSnapshotsMs = 8_000;

/**
 * One graph processor of a topology: a consumer group over its input topics (read_committed,
 * offsets committed only inside Kafka transactions), co-partitioned assignment, and a
 * {@link PartitionTask} per assigned partition, opened (and restored) on assignment.
 * Batches of one partition run one at a time; partitions run concurrently.
 *
 * Failures follow the one policy (errors.ts, retry.ts): a partition that fails is opened again
 * after a backoff with jitter, for as long as the cluster is unreachable and for up to
 * `taskTimeoutMs` of failing otherwise; then, or at once for an error that is not retriable, the
 * processor stops with the partition, the offset and the cause.
 */
export class GraphProcessor {
  private readonly lifecycle: Lifecycle<ProcessorState>;
  private readonly kafka: Kafka;
  private readonly admin: Admin;
  private readonly catalog: SchemaCatalog;
  private readonly consumer: Consumer;
  private readonly monitor: PartitionMonitor;
  private readonly tasks = new Map<number, PartitionTask>();
  private readonly queues = new PartitionQueues();
  private readonly budgets = new Map<number, FailureBudget>();
  private readonly retryAt = new Map<number, number>();
  /** The offset a failing partition is stuck at (the first of the batch that failed), for the message that gives up. */
  private readonly stuckAt = new Map<number, string>();
  private readonly stopRequested = new AbortController();
  private readonly cluster: string;
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
  private stopped: Promise<void> | undefined;
  /** Rejects when a client meets a broker certificate that does not verify (raced against the start). */
  private readonly refusal = refusalSignal();
  /** Why the processor failed, once it has. */
  private failure: GraphfoldError | undefined;
  /** Consecutive failures of the group consumer to find its coordinator (see `crashed`). */
  private readonly coordinatorMisses = new CoordinatorMisses();
  private readonly joining: Attempt;
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
    this.cluster = `Kafka cluster at ${topology.kafka.brokers.join(',')}`;
    const onRefused = (refusal: AccessRefusedError): void => this.refused(refusal);
    this.kafka = kafkaClient(topology.kafka, spec.name, { onRefused });
    this.admin = this.kafka.admin();
    this.catalog = new SchemaCatalog(topology.registry);
    const group = groupId(topology, spec);
    this.joining = { doing: `consume ${spec.inputs.join(', ')} in consumer group ${group}`, needs: `Read on group ${group}`, coordinated: `consumer group ${group}` };
    this.consumer = kafkaClient(topology.kafka, spec.name, { onRefused, retry: groupRetry }).consumer({
      groupId: groupId(topology, spec),
      partitionAssigners: [coPartitionedAssigner(() => ({ owned: this.owned, ...member, positions: this.positions() }), { standbys: spec.standbys })],
      sessionTimeout: spec.sessionTimeoutMs,
      heartbeatInterval: Math.max(500, Math.floor(spec.sessionTimeoutMs / 10)),
      maxBytesPerPartition: 1 << 20,
      retry: groupRetry,
    });
    const monitorClient = kafkaClient(topology.kafka, `${spec.name}-monitor`, { retry: { retries: 0 }, requestTimeoutMs: Math.min(topology.kafka.requestTimeoutMs, 5_000) });
    this.monitor = new PartitionMonitor(
      monitorClient.admin(),
      {
        name: spec.name,
        group: groupId(topology, spec),
        inputs: spec.inputs,
        cluster: this.cluster,
        owned: () => this.owned,
        storeSizes: async () => new Map(await Promise.all([...this.tasks].filter(([, task]) => !task.closed).map(async ([p, task]) => [p, await task.sizeOnDisk()] as const))),
      },
      instrumentation,
    );
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
    await this.queues.settled(mine);
    this.standbys.reconcile(mine.filter((p) => !this.owned.includes(p) && this.tasks.get(p) === undefined));
  }

  /**
   * Checks the topics, registers the output schemas, joins the group and starts consuming. A
   * refusal (credentials, ACLs, certificates: `access-refusal.ts`) fails it at once; a `stop`
   * meanwhile ends it (it resolves, and the processor is stopped).
   */
  async start(): Promise<void> {
    this.lifecycle.to('starting');
    try {
      await Promise.race([this.starting(), this.refusal.refused]);
    } catch (error) {
      if (this.lifecycle.is('stopping', 'stopped')) return;
      const failure = accessRefusal(error, this.topology.kafka) ?? classify(error, { doing: `start processor ${this.spec.name}`, cluster: this.cluster, context: { processor: this.spec.name } });
      this.fail(failure);
      throw failure;
    }
  }

  private async starting(): Promise<void> {
    const { spec } = this;
    {
      await this.admin.connect();
      const names = [...spec.inputs, spec.diffs, spec.rejections];
      const topics = await attempting(this.topology.kafka, { doing: `describe topics ${names.join(', ')}`, needs: `Describe on topics ${names.join(', ')}` }, () => this.checkTopics());
      const [diff, rejection] = await Promise.all([this.catalog.register(spec.diffs, avroTypes().diff), this.catalog.register(spec.rejections, avroTypes().rejection)]);
      this.ctx = {
        topology: this.topology,
        spec,
        kafka: this.kafka,
        admin: this.admin,
        catalog: this.catalog,
        schemaIds: { diff, rejection },
        rejectionPartitions: topics.rejections,
        inputPartitions: topics.inputs,
        limits: outputLimits(spec.maxRecordBytes, topics.maxMessageBytes),
        instrumentation: this.instrumentation,
      };
      const snapshots = snapshotsOf(this.topology, spec.diffs, { role: 'owner', application: this.topology.application, name: spec.name, instance: this.member.instance }, this.instrumentation);
      if (snapshots !== undefined) {
        this.ctx = { ...this.ctx, snapshots };
        this.schedule = new SnapshotSchedule(snapshots, (this.topology.snapshots as NonNullable<Topology['snapshots']>).everyMs, () => this.snapshotSubjects(), spec.name, this.instrumentation);
      }
      if (!this.lifecycle.is('starting')) return;
      this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
        this.coordinatorMisses.reset();
        this.monitor.reportSuccess();
        this.assigned(payload.memberAssignment);
        void this.ownership.refresh(payload.memberId, this.member.instance, this.owned).then(() => this.reconcileStandbys());
      });
      this.consumer.on(this.consumer.events.CRASH, ({ payload }) => this.crashed(payload.error, payload.restart));
      await attempting(this.topology.kafka, this.joining, async () => {
        await this.consumer.connect();
        await this.consumer.subscribe({ topics: [...spec.inputs], fromBeginning: true });
        await this.consumer.run(this.runConfig());
      });
      // The group may have refused us while joining (the processor failed meanwhile), or a stop came.
      if (this.failure !== undefined) throw this.failure;
      if (!this.lifecycle.is('starting')) return;
      this.lifecycle.to('running');
      this.monitor.start();
      this.schedule?.start();
      this.openOwned();
      void this.reconcileStandbys();
      this.instrumentation.emit('processor.started', { processor: spec.name, group: groupId(this.topology, spec), inputs: spec.inputs, diffs: spec.diffs, rejections: spec.rejections });
    }
  }

  /** A refusal a client reported: the start fails with it, or the running processor does. */
  private refused(refusal: AccessRefusedError): void {
    this.refusal.report(refusal);
    if (!this.lifecycle.is('starting')) this.fail(refusal);
  }

  /**
   * Stops consuming, waits for batches in flight, leaves the group (the partitions move at once),
   * closes the standby replicas, snapshots the stores that changed since their last snapshot (a
   * clean stop, when the topology keeps snapshots; a failed processor takes none; given
   * `finalSnapshotsMs`), closes every task. Safe in
   * every state, also while starting; each step that talks to the cluster is given `stopStepMs`,
   * so a stop with the cluster gone ends too. Idempotent: every call shares one stop.
   */
  stop(): Promise<void> {
    this.stopped ??= this.stopNow();
    return this.stopped;
  }

  private async stopNow(): Promise<void> {
    if (this.lifecycle.is('created')) {
      this.lifecycle.to('stopped');
      this.settleDone();
      return;
    }
    const clean = !this.lifecycle.is('failed');
    this.lifecycle.to('stopping');
    this.instrumentation.emit('processor.stopping', { processor: this.spec.name });
    this.stopRequested.abort();
    await bounded(this.consumer.stop());
    await bounded(this.queues.settled(), batchDrainMs);
    await bounded(this.consumer.disconnect());
    await bounded(this.standbys.close());
    if (clean) await bounded(this.schedule?.final(this.snapshotSubjects()) ?? Promise.resolve(), finalSnapshotsMs);
    else await bounded(this.schedule?.stop() ?? Promise.resolve());
    const tasks = [...this.tasks.values()];
    this.tasks.clear();
    await bounded(Promise.all([...tasks.map((task) => task.close()), this.admin.disconnect(), this.monitor.stop()]));
    this.ownership.close();
    this.lifecycle.to('stopped');
    this.instrumentation.emit('processor.stopped', { processor: this.spec.name });
    this.settleDone();
  }

  private runConfig(): ConsumerRunConfig {
    return {
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.spec.concurrency,
      eachBatch: (payload) => this.eachBatch(payload),
    };
  }

  /**
   * The group consumer stopped on an error. A refusal stops the processor. kafkajs restarts the
   * consumer itself when it judges the error retriable; when it does not, the one policy decides:
   * a coordinator, leadership or connection error restarts it here after a backoff, anything else
   * stops the processor. kafkajs gives up on a group coordinator it could not find (a connection
   * that closed under the lookup, as in a broker restart); only when that repeats
   * (`coordinatorMissed`) is it the broker refusing to name the coordinator to a principal
   * without an ACL on the group.
   */
  private crashed(thrown: Error, restarting: boolean): void {
    const persistent = coordinatorMissed(thrown) && this.coordinatorMisses.missed();
    const refusal = accessRefusal(thrown, this.topology.kafka, this.joining, { coordinatorMisses: persistent ? coordinatorMissesForRefusal : 0 });
    if (refusal !== undefined) {
      this.refused(refusal);
      return;
    }
    const error = classify(thrown, { doing: this.joining.doing, cluster: this.cluster, context: { processor: this.spec.name } });
    this.monitor.reportFailure(error);
    if (!this.lifecycle.is('running', 'starting')) return;
    if (restarting) {
      this.instrumentation.emit('consumer.restarting', { processor: this.spec.name, error, inMs: 0 });
      return;
    }
    if (!error.retriable) {
      this.fail(error);
      return;
    }
    void retry(
      async () => {
        if (!this.lifecycle.is('running', 'starting')) return;
        await this.consumer.connect();
        await this.consumer.run(this.runConfig());
      },
      {
        site: { doing: `restart the consumer of processor ${this.spec.name}`, cluster: this.cluster },
        policy: unreachableBackoff,
        signal: this.stopRequested.signal,
        onRetry: (failure, _attempt, inMs) => this.instrumentation.emit('consumer.restarting', { processor: this.spec.name, error: failure, inMs }),
      },
    ).catch((failure: unknown) => {
      if (this.lifecycle.is('running', 'starting')) this.fail(classify(failure));
    });
  }

  private async eachBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
    if (!isRunning() || isStale()) return;
    const { partition } = batch;
    const work = this.queues.run(partition, async () => {
      const task = await this.task(partition);
      if (task === undefined || isStale()) return;
      try {
        await task.process(batch, { resolveOffset });
        this.succeeded(partition);
      } catch (error) {
        const offset = batch.firstOffset() ?? '?';
        this.stuckAt.set(partition, offset);
        this.failed(partition, error, `offset ${offset}`);
      }
    });
    await whileHeartbeating(work, heartbeat);
  }

  /**
   * The open task of an owned partition, opened (fenced, restored) if it is not, after the
   * backoff its last failure asked for; undefined when the partition is no longer owned, the
   * processor is stopping, or opening failed (reported, and tried again after a backoff).
   */
  private async task(partition: number): Promise<PartitionTask | undefined> {
    if (!this.owns(partition)) return undefined;
    const open = this.tasks.get(partition);
    if (open !== undefined && !open.closed) return open;
    const wait = (this.retryAt.get(partition) ?? 0) - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal: this.stopRequested.signal }).catch(() => undefined);
    if (!this.owns(partition) || this.ctx === undefined) return undefined;
    try {
      // A standby replica of the partition hands its store over: only the changelog's tail is restored, and it serves reads meanwhile.
      const replica = this.standbys.replica(partition);
      if (replica !== undefined) this.handed.set(partition, { store: replica.reads, end: replica.position + replica.behind });
      const handed = await this.standbys.take(partition);
      const task = await PartitionTask.open(this.ctx, partition, handed).finally(() => this.handed.delete(partition));
      this.tasks.set(partition, task);
      this.monitor.reportSuccess();
      return task;
    } catch (error) {
      const stuck = this.stuckAt.get(partition);
      if (this.failed(partition, error, stuck === undefined ? 'while opening' : `offset ${stuck} (reopening its task)`)) {
        // A partition with no input would otherwise never be opened again.
        void this.queues.run(partition, async () => {
          await this.task(partition);
        });
      }
      return undefined;
    }
  }

  private owns(partition: number): boolean {
    return this.owned.includes(partition) && this.lifecycle.is('running');
  }

  private succeeded(partition: number): void {
    this.budgets.get(partition)?.succeeded();
    this.retryAt.delete(partition);
    this.stuckAt.delete(partition);
    this.monitor.reportSuccess();
  }

  /**
   * A task failed to open or to process a batch: the policy says when to try again, or that the
   * processor stops. Returns true when it is tried again.
   */
  private failed(partition: number, thrown: unknown, where: string): boolean {
    const refusal = accessRefusal(thrown, this.topology.kafka);
    if (refusal !== undefined) {
      this.fail(refusal);
      return false;
    }
    const error = classify(thrown, { doing: `run partition ${partition} of processor ${this.spec.name}`, cluster: this.cluster, context: { processor: this.spec.name, partition } });
    this.monitor.reportFailure(error);
    let budget = this.budgets.get(partition);
    if (budget === undefined) this.budgets.set(partition, (budget = new FailureBudget(this.spec.taskTimeoutMs)));
    const verdict = budget.failed(error, `partition ${partition} ${where}`);
    if ('fatal' in verdict) {
      this.fail(verdict.fatal);
      return false;
    }
    this.retryAt.set(partition, Date.now() + verdict.retryInMs);
    this.instrumentation.emit('task.failed', { processor: this.spec.name, partition, error, failures: budget.failures, retryInMs: verdict.retryInMs });
    return true;
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
      this.budgets.delete(partition);
      this.retryAt.delete(partition);
      this.stuckAt.delete(partition);
      void this.queues.run(partition, async () => {
        await this.tasks.get(partition)?.close();
        this.tasks.delete(partition);
      });
    }
  }

  /** Opens the tasks of newly owned partitions in the background, so that every owned store is restored, with or without input. */
  private openOwned(): void {
    for (const partition of this.owned) {
      if (this.tasks.get(partition)?.closed === false) continue;
      void this.queues.run(partition, async () => {
        await this.task(partition);
      });
    }
  }

  /** The open tasks' stores, for the snapshot schedule. */
  private snapshotSubjects(): SnapshotSubject[] {
    return [...this.tasks.values()].filter((task) => !task.closed).map((task) => ({ partition: task.partition, store: task.reads }));
  }

  /**
   * Input topics, changelog and rejections exist, with partition counts that fit; returns the
   * rejections' partition count and the record size the diffs and rejections topics accept.
   */
  private async checkTopics(): Promise<{ inputs: number; rejections: number; maxMessageBytes: { diffs: number; rejections: number } }> {
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
    // A principal without DescribeConfigs on them is not refused: the topics are taken to accept
    // what Kafka accepts by default.
    const { resources } = await this.admin
      .describeConfigs({ resources: [spec.diffs, spec.rejections].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['max.message.bytes'] })), includeSynonyms: false })
      .catch((error: unknown) => {
        if (accessRefusal(error, this.topology.kafka) === undefined) throw error;
        return { resources: [] };
      });
    const accepts = (topic: string): number => Number(resources.find((r) => r.resourceName === topic)?.configEntries.find((e) => e.configName === 'max.message.bytes')?.configValue ?? kafkaDefaultMaxMessageBytes);
    return { inputs: partitions, rejections: count(spec.rejections), maxMessageBytes: { diffs: accepts(spec.diffs), rejections: accepts(spec.rejections) } };
  }

  /** Reports the failure, settles `done` with it and stops. */
  private fail(error: GraphfoldError): void {
    if (this.lifecycle.is('failed', 'stopping', 'stopped')) return;
    this.failure = error;
    this.lifecycle.to('failed');
    this.instrumentation.emit('processor.failed', { processor: this.spec.name, error });
    this.settleDone(error);
    void this.stop();
  }
}

/** Waits for `work`, but no longer than `withinMs`: a stop must end also when the cluster is gone. */
async function bounded(work: Promise<unknown>, withinMs = stopStepMs): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, withinMs)))]);
  clearTimeout(timer);
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
