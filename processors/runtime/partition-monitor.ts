import type { Admin } from 'kafkajs';
import { classify, ClusterUnreachableError, type GraphfoldError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';

export interface PartitionMonitorOptions {
  /** How often lag is measured. @default 5000 */
  readonly intervalMs?: number;
  /** An owned partition with input waiting and no commit for this long is reported stalled. @default 30000 */
  readonly stallMs?: number;
  /** Store sizes are measured every this many intervals. @default 6 */
  readonly sizeEvery?: number;
}

/** What the monitor needs to know of its processor. */
export interface MonitoredProcessor {
  readonly name: string;
  readonly group: string;
  readonly inputs: readonly string[];
  /** The partitions this instance owns now. */
  owned(): readonly number[];
  /** The size on disk of the open stores, by partition. */
  storeSizes(): Promise<ReadonlyMap<number, number>>;
  /** Where the cluster is, for messages. */
  readonly cluster: string;
}

/**
 * The signals an operator reads, measured rather than inferred from the last batch: on a timer,
 * the broker's end offsets against the group's committed offsets give each owned partition's
 * lag (`partition.lag`), also while nothing commits; a partition with input waiting and no
 * commit for `stallMs` is `partition.stalled` (and `partition.flowing` when it commits again);
 * the cluster lost and found again is `connection.lost` / `connection.restored`, from these
 * measurements and from what the processor reports ({@link reportFailure}, {@link reportSuccess}).
 * Its admin client should not retry for long: a measurement that fails is simply the next one's to
 * make.
 */
export class PartitionMonitor {
  private readonly intervalMs: number;
  private readonly stallMs: number;
  private readonly sizeEvery: number;
  private timer: NodeJS.Timeout | undefined;
  private measuring = false;
  private ticks = 0;
  private lostSince: number | undefined;
  /** Per partition: the committed offsets' sum and when it last moved; since when it is reported stalled. */
  private readonly progress = new Map<number, { committed: number; movedAt: number; stalledAt?: number }>();

  constructor(
    private readonly admin: Admin,
    private readonly processor: MonitoredProcessor,
    private readonly instrumentation: Instrumentation,
    options: PartitionMonitorOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 5_000;
    this.stallMs = options.stallMs ?? 30_000;
    this.sizeEvery = options.sizeEvery ?? 6;
  }

  start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => void this.measure(), this.intervalMs);
    this.timer.unref();
  }

  /** Stops measuring. Idempotent. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.admin.disconnect().catch(() => undefined);
  }

  /** The processor failed to reach the cluster: the first such failure of an outage is a `connection.lost`. */
  reportFailure(error: GraphfoldError): void {
    if (!(error instanceof ClusterUnreachableError) || this.lostSince !== undefined) return;
    this.lostSince = Date.now();
    this.instrumentation.emit('connection.lost', { processor: this.processor.name, error });
  }

  /** The processor talked to the cluster: an outage, if any, is over. */
  reportSuccess(): void {
    if (this.lostSince === undefined) return;
    const seconds = (Date.now() - this.lostSince) / 1000;
    this.lostSince = undefined;
    this.instrumentation.emit('connection.restored', { processor: this.processor.name, seconds });
  }

  /** One measurement; skipped while the one before is still running. */
  async measure(): Promise<void> {
    if (this.measuring) return;
    this.measuring = true;
    try {
      await this.measureLag();
      this.ticks += 1;
      if (this.ticks % this.sizeEvery === 0) await this.measureStores();
    } finally {
      this.measuring = false;
    }
  }

  private async measureLag(): Promise<void> {
    const { processor } = this;
    const owned = processor.owned();
    let ends: { topic: string; offsets: Awaited<ReturnType<Admin['fetchTopicOffsets']>> }[];
    let committed: Awaited<ReturnType<Admin['fetchOffsets']>>;
    try {
      await this.admin.connect();
      ends = await Promise.all(processor.inputs.map(async (topic) => ({ topic, offsets: await this.admin.fetchTopicOffsets(topic) })));
      committed = await this.admin.fetchOffsets({ groupId: processor.group, topics: [...processor.inputs] });
    } catch (error) {
      this.reportFailure(classify(error, { doing: `measure the lag of processor ${processor.name}`, cluster: processor.cluster, context: { processor: processor.name } }));
      return;
    }
    this.reportSuccess();
    const now = Date.now();
    const partitions = owned.map((partition) => {
      let end = 0;
      let done = 0;
      for (const { topic, offsets } of ends) {
        const at = offsets.find((o) => o.partition === partition);
        const position = committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset;
        end += Number(at?.offset ?? 0);
        done += Math.max(Number(position ?? -1), Number(at?.low ?? 0));
      }
      return { partition, end, committed: done, lag: Math.max(0, end - done) };
    });
    this.instrumentation.emit('partition.lag', { processor: processor.name, partitions });
    for (const partition of [...this.progress.keys()]) if (!owned.includes(partition)) this.progress.delete(partition);
    for (const { partition, committed: done, lag } of partitions) {
      const seen = this.progress.get(partition);
      if (seen === undefined || seen.committed !== done) {
        if (seen?.stalledAt !== undefined) this.instrumentation.emit('partition.flowing', { processor: processor.name, partition, stalledSeconds: (now - seen.movedAt) / 1000 });
        this.progress.set(partition, { committed: done, movedAt: now });
        continue;
      }
      if (lag > 0 && now - seen.movedAt >= this.stallMs && (seen.stalledAt === undefined || now - seen.stalledAt >= this.stallMs)) {
        seen.stalledAt = now;
        this.instrumentation.emit('partition.stalled', { processor: processor.name, partition, lag, seconds: Math.round((now - seen.movedAt) / 1000) });
      }
      if (lag === 0) seen.movedAt = now;
    }
  }

  private async measureStores(): Promise<void> {
    if (!this.instrumentation.enabled('store.size')) return;
    const sizes = await this.processor.storeSizes().catch(() => new Map<number, number>());
    for (const [partition, bytes] of sizes) this.instrumentation.emit('store.size', { processor: this.processor.name, partition, bytes });
  }
}
