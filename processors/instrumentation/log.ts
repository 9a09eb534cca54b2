import { describeContext, GraphfoldError } from '../errors';
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

  const totals = new Map<string, { applied: number; rejected: number; skipped: number; lag: Map<number, number> }>();
  const totalsOf = (processor: string): { applied: number; rejected: number; skipped: number; lag: Map<number, number> } => {
    let t = totals.get(processor);
    if (t === undefined) totals.set(processor, (t = { applied: 0, rejected: 0, skipped: 0, lag: new Map() }));
    return t;
  };

  /** Per follower: diffs applied since the last summary; per partition, the offsets it was behind and the oldest diff's age at its last write. */
  const follows = new Map<string, { applied: number; partitions: Map<number, { behind: number; lagMs: number }> }>();

  const handlers: { [E in EventName]?: (p: GraphfoldEvents[E]) => void } = {
    'processor.started': (p) => line('INFO', 'processor started', { processor: p.processor, group: p.group, inputs: p.inputs.join(','), diffs: p.diffs, rejections: p.rejections }),
    'processor.stopped': (p) => line('INFO', 'processor stopped', { processor: p.processor }),
    'processor.failed': (p) => line('ERROR', 'processor failed', { processor: p.processor, ...errorFields(p.error) }),
    'partitions.assigned': (p) => line('INFO', 'partitions assigned', { processor: p.processor, partitions: p.partitions.join(',') || 'none' }),
    'partitions.revoked': (p) => line('INFO', 'partitions revoked', { processor: p.processor, partitions: p.partitions.join(',') }),
    'task.ready': (p) => line('INFO', 'partition ready', { processor: p.processor, partition: p.partition, seconds: p.seconds.toFixed(1) }),
    'task.failed': (p) => line('WARN', 'partition task failed; opening it again', { processor: p.processor, partition: p.partition, ...errorFields(p.error) }),
    'store.discarded': (p) => line('WARN', 'store discarded; rebuilding it from the changelog', { processor: p.processor, partition: p.partition, reason: p.reason }),
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
      t.lag.set(p.partition, p.lag);
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

  const timer = setInterval(() => {
    for (const [processor, t] of totals) {
      const lag = [...t.lag.values()].reduce((a, b) => a + b, 0);
      line('INFO', 'progress', { processor, applied: t.applied, rejected: t.rejected, skipped: t.skipped, lag });
      t.applied = t.rejected = t.skipped = 0;
    }
    for (const [follower, f] of follows) {
      const partitions = [...f.partitions.values()];
      line('INFO', 'follower progress', { follower, applied: f.applied, behind: partitions.reduce((n, p) => n + p.behind, 0), lagMs: partitions.reduce((n, p) => Math.max(n, p.lagMs), 0) });
      f.applied = 0;
    }
  }, options.summaryMs ?? 10_000);
  timer.unref();

  return () => {
    clearInterval(timer);
    for (const unsubscribe of unsubscribes) unsubscribe();
  };
}

function errorFields(error: Error): Record<string, unknown> {
  return error instanceof GraphfoldError ? { error: error.name, message: error.message, context: describeContext(error.context) || undefined } : { error: error.name, message: error.message };
}

function render(value: unknown): string {
  const text = typeof value === 'string' ? value : String(value);
  return /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}
