import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Instrumentation } from '../instrumentation/events';

/**
 * graphfold's Prometheus metrics, fed by its instrumentation events (nothing in the processor
 * knows of them), in a registry of their own with the Node.js process metrics. Lag is what the
 * processor measures from the broker's end offsets, so it keeps rising while nothing commits.
 */
export class OpsMetrics {
  readonly registry = new Registry();
  private readonly unsubscribes: (() => void)[] = [];

  constructor(instrumentation: Instrumentation) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    const records = new Counter({ name: 'graphfold_records_total', help: 'Input records processed, by outcome: applied (a diff written), rejected (a rejection written), skipped (nothing to write: its txId was already applied, or it changed nothing, a no-op)', labelNames: ['processor', 'outcome'], registers });
    const rejections = new Counter({ name: 'graphfold_rejections_total', help: 'Input records rejected, by rejection code', labelNames: ['processor', 'code'], registers });
    const lag = new Gauge({ name: 'graphfold_partition_lag', help: "Records of an owned input partition not yet committed: the broker's end offset minus the group's committed offset, measured every 5 s", labelNames: ['processor', 'partition'], registers });
    const stalled = new Gauge({ name: 'graphfold_partition_stalled', help: '1 while an owned partition has input waiting and committed nothing for 30 s', labelNames: ['processor', 'partition'], registers });
    const batch = new Histogram({ name: 'graphfold_batch_duration_seconds', help: 'Time to process one committed batch: decode, fold, produce, commit', labelNames: ['processor'], buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    const commit = new Histogram({ name: 'graphfold_commit_duration_seconds', help: "Time of a batch's Kafka transaction commit", labelNames: ['processor'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers });
    const restoring = new Gauge({ name: 'graphfold_restore_remaining_records', help: 'Changelog records a partition still has to restore (0 when restored)', labelNames: ['processor', 'partition'], registers });
    const restored = new Counter({ name: 'graphfold_restore_records_total', help: 'Changelog records restored', labelNames: ['processor', 'partition'], registers });
    const eta = new Gauge({ name: 'graphfold_restore_eta_seconds', help: 'Estimated seconds until a restoring partition is restored', labelNames: ['processor', 'partition'], registers });
    const storeSize = new Gauge({ name: 'graphfold_store_size_bytes', help: "A partition store's size on disk, measured every 30 s", labelNames: ['processor', 'partition'], registers });
    const rebalances = new Counter({ name: 'graphfold_rebalances_total', help: 'Assignments received from the consumer group', labelNames: ['processor'], registers });
    const assigned = new Gauge({ name: 'graphfold_assigned_partitions', help: 'Input partitions this instance owns', labelNames: ['processor'], registers });
    const connected = new Gauge({ name: 'graphfold_connected', help: '1 while the processor reaches the Kafka cluster, 0 while it does not', labelNames: ['processor'], registers });
    const up = new Gauge({ name: 'graphfold_processor_up', help: '1 while the processor runs', labelNames: ['processor'], registers });
    const failures = new Counter({ name: 'graphfold_task_failures_total', help: 'Failures of a partition task (it is opened again after a backoff), by error', labelNames: ['processor', 'partition', 'error'], registers });
    const standbyLag = new Gauge({ name: 'graphfold_standby_lag_records', help: "Changelog offsets a standby replica is behind the changelog's end as it last fetched", labelNames: ['processor', 'partition'], registers });
    const standbyPosition = new Gauge({ name: 'graphfold_standby_position', help: 'The changelog offset a standby replica reflects', labelNames: ['processor', 'partition'], registers });
    const followerLag = new Gauge({ name: 'graphfold_follower_lag_records', help: "Offsets of a followed topic's partition a follower had not applied when it last wrote (its end when fetched minus the follower's position)", labelNames: ['follower', 'partition'], registers });
    const followerAge = new Gauge({ name: 'graphfold_follower_lag_seconds', help: "Age of the oldest diff of a follower's last written batch (from the owner's send to the follower's write)", labelNames: ['follower', 'partition'], registers });
    const followed = new Counter({ name: 'graphfold_follower_records_total', help: 'Diffs topic records a follower applied', labelNames: ['follower'], registers });
    const on = instrumentation.on.bind(instrumentation);
    const restoreProgress = new Map<string, number>();
    this.unsubscribes.push(
      on('processor.started', (p) => {
        up.set({ processor: p.processor }, 1);
        connected.set({ processor: p.processor }, 1);
      }),
      on('processor.stopped', (p) => up.set({ processor: p.processor }, 0)),
      on('processor.failed', (p) => up.set({ processor: p.processor }, 0)),
      on('batch.committed', (p) => {
        records.inc({ processor: p.processor, outcome: 'applied' }, p.applied);
        records.inc({ processor: p.processor, outcome: 'rejected' }, p.rejected);
        records.inc({ processor: p.processor, outcome: 'skipped' }, p.skipped);
        batch.observe({ processor: p.processor }, p.milliseconds / 1000);
        commit.observe({ processor: p.processor }, p.commitMilliseconds / 1000);
      }),
      on('record.rejected', (p) => rejections.inc({ processor: p.processor, code: p.code })),
      on('partition.lag', (p) => {
        lag.reset();
        for (const { partition, lag: behind } of p.partitions) lag.set({ processor: p.processor, partition: String(partition) }, behind);
      }),
      on('partition.stalled', (p) => stalled.set({ processor: p.processor, partition: String(p.partition) }, 1)),
      on('partition.flowing', (p) => stalled.set({ processor: p.processor, partition: String(p.partition) }, 0)),
      on('restore.started', (p) => {
        restoring.set({ processor: p.processor, partition: String(p.partition) }, p.to - p.from);
        restoreProgress.set(`${p.processor}/${p.partition}`, 0);
      }),
      on('restore.progress', (p) => {
        const labels = { processor: p.processor, partition: String(p.partition) };
        restoring.set(labels, Math.max(0, p.to - p.position));
        eta.set(labels, p.etaSeconds);
        restored.inc(labels, p.records - (restoreProgress.get(`${p.processor}/${p.partition}`) ?? 0));
        restoreProgress.set(`${p.processor}/${p.partition}`, p.records);
      }),
      on('restore.finished', (p) => {
        const labels = { processor: p.processor, partition: String(p.partition) };
        restoring.set(labels, 0);
        eta.set(labels, 0);
        restored.inc(labels, Math.max(0, p.records - (restoreProgress.get(`${p.processor}/${p.partition}`) ?? 0)));
        restoreProgress.delete(`${p.processor}/${p.partition}`);
      }),
      on('store.size', (p) => storeSize.set({ processor: p.processor, partition: String(p.partition) }, p.bytes)),
      on('partitions.assigned', (p) => {
        rebalances.inc({ processor: p.processor });
        assigned.set({ processor: p.processor }, p.partitions.length);
      }),
      on('partitions.revoked', (p) => {
        for (const partition of p.partitions) {
          const labels = { processor: p.processor, partition: String(partition) };
          for (const gauge of [lag, stalled, restoring, eta, storeSize]) gauge.remove(labels);
        }
      }),
      on('connection.lost', (p) => connected.set({ processor: p.processor }, 0)),
      on('connection.restored', (p) => connected.set({ processor: p.processor }, 1)),
      on('task.failed', (p) => failures.inc({ processor: p.processor, partition: String(p.partition), error: p.error.name })),
      on('standby.opened', (p) => {
        const labels = { processor: p.processor, partition: String(p.partition) };
        standbyLag.set(labels, Math.max(0, p.end - p.position));
        standbyPosition.set(labels, p.position);
      }),
      on('standby.progress', (p) => {
        const labels = { processor: p.processor, partition: String(p.partition) };
        standbyLag.set(labels, p.behind);
        standbyPosition.set(labels, p.position);
      }),
      on('standby.closed', (p) => {
        for (const gauge of [standbyLag, standbyPosition]) gauge.remove({ processor: p.processor, partition: String(p.partition) });
      }),
      on('follow.batch', (p) => {
        const labels = { follower: p.follower, partition: String(p.partition) };
        followerLag.set(labels, Math.max(0, p.highWatermark - p.position));
        followerAge.set(labels, Math.max(0, Date.now() - p.oldestTimestamp) / 1000);
        followed.inc({ follower: p.follower }, p.records);
      }),
    );
  }

  /** The metrics in Prometheus' text format, with its content type. */
  async text(): Promise<{ readonly contentType: string; readonly body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** Stops listening. Idempotent. */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
