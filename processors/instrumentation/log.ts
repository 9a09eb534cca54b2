import { BugError, causeChain, describeContext, GraphfoldError } from '../errors';
import type { EventName, GraphfoldEvents, Instrumentation } from './events';

export interface LogOptions {
  /** `text`: one readable line per event; `json`: one JSON object per line. @default 'text' */
  readonly format?: 'text' | 'json';
  /** Log every committed batch and rejected record, not just a summary every `summaryMs`. @default false */
  readonly verbose?: boolean;
  /** @default 10000 */
  readonly summaryMs?: number;
  /** @default stderr */
  readonly write?: (line: string) => void;
}

type Level = 'INFO' | 'WARN' | 'ERROR' | 'DEBUG';

/**
 * Logs graphfold's events for an operator: lifecycle, restores with progress, aborted batches
 * with the error and what was rewound, and every `summaryMs` a line per processor with what was
 * applied, rejected and how far behind it is. Returns a function that stops logging.
 */
export function attachLog(instrumentation: Instrumentation, options: LogOptions = {}): () => void {
  const format = options.format ?? 'text';
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const line = (level: Level, message: string, fields: Record<string, unknown>): void => {
    if (format === 'json') {
      write(JSON.stringify({ time: new Date().toISOString(), level, message, ...fields }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      return;
    }
    const rendered = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${render(v)}`)
      .join(' ');
    write(`${new Date().toISOString()} ${level.padEnd(5)} ${message}${rendered === '' ? '' : ` ${rendered}`}`);
  };

  interface Totals {
    applied: number;
    rejected: number;
    skipped: number;
    /** Per owned partition, as last measured from the broker's end offsets. */
    lag: Map<number, number>;
    lagAt: number | undefined;
    lostAt: number | undefined;
  }
  const totals = new Map<string, Totals>();
  const totalsOf = (processor: string): Totals => {
    let t = totals.get(processor);
    if (t === undefined) totals.set(processor, (t = { applied: 0, rejected: 0, skipped: 0, lag: new Map(), lagAt: undefined, lostAt: undefined }));
    return t;
  };
  const summaryMs = options.summaryMs ?? 10_000;

  /** Per follower: diffs applied since the last summary; per partition, the offsets it was behind and the oldest diff's age at its last write. */
  const follows = new Map<string, { applied: number; partitions: Map<number, { behind: number; lagMs: number }> }>();

  const handlers: { [E in EventName]?: (p: GraphfoldEvents[E]) => void } = {
    'processor.started': (p) => line('INFO', 'processor started', { processor: p.processor, group: p.group, inputs: p.inputs.join(','), diffs: p.diffs, rejections: p.rejections }),
    'processor.stopped': (p) => line('INFO', 'processor stopped', { processor: p.processor }),
    'processor.failed': (p) => line('ERROR', 'processor failed', { processor: p.processor, ...errorFields(p.error) }),
    'partitions.assigned': (p) => line('INFO', 'partitions assigned', { processor: p.processor, partitions: p.partitions.join(',') || 'none' }),
    'partitions.revoked': (p) => line('INFO', 'partitions revoked', { processor: p.processor, partitions: p.partitions.join(',') }),
    'task.ready': (p) => line('INFO', 'partition ready', { processor: p.processor, partition: p.partition, seconds: p.seconds.toFixed(1) }),
    'ops.listening': (p) => line('INFO', 'ops endpoints listening', { url: p.url, metrics: `${p.url}/metrics`, health: `${p.url}/healthz`, ready: `${p.url}/readyz` }),
    'processor.stopping': (p) => line('INFO', 'processor stopping', { processor: p.processor }),
    'task.failed': (p) => line('WARN', 'partition task failed; opening it again', { processor: p.processor, partition: p.partition, ...errorFields(p.error), failures: p.failures, retryIn: `${(p.retryInMs / 1000).toFixed(1)}s` }),
    'store.discarded': (p) => line('WARN', 'store discarded; rebuilding it from the changelog', { processor: p.processor, partition: p.partition, reason: p.reason }),
    'partition.lag': (p) => {
      const t = totalsOf(p.processor);
      t.lag = new Map(p.partitions.map(({ partition, lag }) => [partition, lag]));
      t.lagAt = Date.now();
    },
    'partition.stalled': (p) => line('WARN', 'partition stalled: input waits but nothing was committed', { processor: p.processor, partition: p.partition, lag: p.lag, seconds: p.seconds }),
    'partition.flowing': (p) => line('INFO', 'partition flowing again', { processor: p.processor, partition: p.partition, stalledSeconds: Math.round(p.stalledSeconds) }),
    'connection.lost': (p) => {
      totalsOf(p.processor).lostAt = Date.now();
      line('WARN', 'lost the connection to the Kafka cluster; retrying', { processor: p.processor, ...errorFields(p.error) });
    },
    'connection.restored': (p) => {
      totalsOf(p.processor).lostAt = undefined;
      line('INFO', 'connection to the Kafka cluster is back', { processor: p.processor, seconds: p.seconds.toFixed(1) });
    },
    'consumer.restarting': (p) => line('WARN', 'group consumer stopped; starting it again', { processor: p.processor, ...errorFields(p.error), in: `${(p.inMs / 1000).toFixed(1)}s` }),
    'restore.started': (p) => line('INFO', 'restore started', { processor: p.processor, partition: p.partition, from: p.from, to: p.to, records: p.to - p.from }),
    'restore.progress': (p) =>
      line('INFO', 'restore progress', {
        processor: p.processor,
        partition: p.partition,
        records: p.records,
        position: `${p.position}/${p.to}`,
        rate: `${Math.round(p.recordsPerSecond)}/s`,
        eta: `${Math.ceil(p.etaSeconds)}s`,
      }),
    'restore.finished': (p) => line('INFO', 'restore finished', { processor: p.processor, partition: p.partition, records: p.records, seconds: p.seconds.toFixed(1), rate: `${Math.round(p.records / Math.max(p.seconds, 1e-3))}/s` }),
    'batch.committed': (p) => {
      const t = totalsOf(p.processor);
      t.applied += p.applied;
      t.rejected += p.rejected;
      t.skipped += p.skipped;
      if (options.verbose === true) {
        line('DEBUG', 'batch committed', { processor: p.processor, partition: p.partition, records: p.records, applied: p.applied, rejected: p.rejected, skipped: p.skipped, next: p.nextOffset, lag: p.lag, ms: p.milliseconds });
      }
    },
    'batch.aborted': (p) => line('WARN', 'batch aborted; rewound and retrying', { processor: p.processor, partition: p.partition, rewoundTo: p.rewoundTo, ...errorFields(p.error) }),
    'snapshot.taken': (p) =>
      line('INFO', 'snapshot taken', {
        name: p.name,
        topic: p.topic,
        partition: p.partition,
        id: p.id,
        changelogOffset: p.changelogOffset,
        entries: p.entries,
        mib: (p.bytes / 2 ** 20).toFixed(1),
        seconds: p.seconds.toFixed(1),
        longestStepMs: p.longestStepMs.toFixed(2),
        store: p.store,
      }),
    'snapshot.skipped': (p) => line('WARN', 'snapshot skipped', { name: p.name, topic: p.topic, partition: p.partition, id: p.id, reason: p.reason }),
    'snapshot.restored': (p) =>
      line('INFO', 'snapshot restored', { name: p.name, topic: p.topic, partition: p.partition, id: p.id, changelogOffset: p.changelogOffset, mib: (p.bytes / 2 ** 20).toFixed(1), seconds: p.seconds.toFixed(1), takenBy: p.takenBy, createdAt: p.createdAt }),
    'snapshot.failed': (p) => line('WARN', p.doing === 'take' ? 'snapshot failed; the next one is tried on schedule' : 'snapshot restore failed; replaying the changelog instead', { name: p.name, topic: p.topic, partition: p.partition, ...errorFields(p.error) }),
    'snapshot.pruned': (p) => line('INFO', 'snapshots pruned', { name: p.name, topic: p.topic, partition: p.partition, ids: p.ids.join(',') }),
    'standby.opened': (p) => line('INFO', 'standby replica following', { processor: p.processor, partition: p.partition, position: p.position, end: p.end, behind: Math.max(0, p.end - p.position) }),
    'standby.closed': (p) => line('INFO', p.why === 'taken' ? 'standby replica taken over by the partition\'s task' : 'standby replica closed', { processor: p.processor, partition: p.partition, position: p.position, why: p.why }),
    'standby.failed': (p) => line('WARN', 'standby replica failed; opening it again later', { processor: p.processor, partition: p.partition, ...errorFields(p.error) }),
    'follower.started': (p) => line('INFO', 'follower started', { follower: p.follower, diffs: p.diffs, partitions: p.partitions, group: p.group }),
    'follower.stopped': (p) => line('INFO', 'follower stopped', { follower: p.follower }),
    'follower.failed': (p) => line('ERROR', 'follower failed', { follower: p.follower, ...errorFields(p.error) }),
    'follow.batch': (p) => {
      const now = Date.now();
      let f = follows.get(p.follower);
      if (f === undefined) follows.set(p.follower, (f = { applied: 0, partitions: new Map() }));
      f.applied += p.records;
      f.partitions.set(p.partition, { behind: Math.max(0, p.highWatermark - p.position), lagMs: now - p.oldestTimestamp });
      if (options.verbose === true) line('DEBUG', 'follower batch written', { follower: p.follower, partition: p.partition, records: p.records, position: p.position, highWatermark: p.highWatermark, behind: Math.max(0, p.highWatermark - p.position), lagMs: now - p.oldestTimestamp });
    },
    'query.started': (p) => line('INFO', 'query API listening', { url: p.url, instance: p.instance, token: p.authenticated ? 'required' : 'none' }),
    'query.failed': (p) => line('ERROR', 'query request failed (a bug)', { method: p.method, url: p.url, ...errorFields(p.error), stack: p.error.stack }),
    'record.rejected': (p) => {
      if (options.verbose === true) line('DEBUG', 'record rejected', { processor: p.processor, topic: p.topic, partition: p.partition, offset: p.offset, code: p.code, graph: p.graph, txId: p.txId, message: p.message });
    },
  };
  const unsubscribes = (Object.keys(handlers) as EventName[]).map((event) => instrumentation.on(event, handlers[event] as (p: GraphfoldEvents[typeof event]) => void));

  // Lag as measured from the broker's end offsets; `unknown` when no measurement is recent (the
  // cluster does not answer), never a stale 0.
  const timer = setInterval(() => {
    for (const [processor, t] of totals) {
      const recent = t.lagAt !== undefined && Date.now() - t.lagAt < 2 * summaryMs && t.lostAt === undefined;
      const lag = recent ? [...t.lag.values()].reduce((a, b) => a + b, 0) : 'unknown';
      line('INFO', 'progress', { processor, applied: t.applied, rejected: t.rejected, skipped: t.skipped, lag, ...(t.lostAt === undefined ? {} : { disconnected: `${Math.round((Date.now() - t.lostAt) / 1000)}s` }) });
      t.applied = t.rejected = t.skipped = 0;
    }
    for (const [follower, f] of follows) {
      const partitions = [...f.partitions.values()];
      line('INFO', 'follower progress', { follower, applied: f.applied, rate: `${Math.round((f.applied * 1000) / summaryMs)}/s`, behind: partitions.reduce((n, p) => n + p.behind, 0), lagMs: partitions.reduce((n, p) => Math.max(n, p.lagMs), 0) });
      f.applied = 0;
    }
  }, summaryMs);
  timer.unref();

  return () => {
    clearInterval(timer);
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

/**
 * An error as log fields: its name, message, context and cause chain (`causes`: in text, the
 * causes' messages joined with ` <- `; in JSON, a list), so that the OS or client error under a
 * failure is never lost. A bug carries its stack.
 */
export function errorFields(error: Error): Record<string, unknown> {
  const chain = causeChain(error);
  const causes = chain.length === 0 ? undefined : chain.map((c) => `${c.name}: ${c.message}${c.code === undefined || c.message.includes(c.code) ? '' : ` (${c.code})`}`);
  return {
    error: error.name,
    detail: error.message,
    ...(error instanceof GraphfoldError ? { context: describeContext(error.context) || undefined } : {}),
    ...(causes === undefined ? {} : { causes }),
    ...(error instanceof BugError ? { stack: rootStack(error) } : {}),
  };
}

function rootStack(error: Error): string | undefined {
  let deepest: unknown = error;
  while ((deepest as { cause?: unknown }).cause instanceof Error) deepest = (deepest as { cause: Error }).cause;
  return (deepest as Error).stack;
}

function render(value: unknown): string {
  const text = Array.isArray(value) ? value.map(String).join(' <- ') : typeof value === 'string' ? value : String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}
