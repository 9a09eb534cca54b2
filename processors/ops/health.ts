import type { Instrumentation } from '../instrumentation/events';

/**
 * One partition, as `/readyz` shows it: owned (opening, restoring, ready, failed), or kept as a
 * standby replica of another instance's (with the changelog offset it reflects and how far behind
 * the changelog's end it is), which readiness does not wait for.
 */
export type PartitionHealth =
  | { readonly state: 'standby'; readonly position: number; readonly behind: number }
  | { readonly state: 'opening' }
  | { readonly state: 'restoring'; readonly records: number; readonly position: number; readonly to: number; readonly etaSeconds?: number }
  | { readonly state: 'ready' }
  | { readonly state: 'failed'; readonly error: string; readonly retryInSeconds: number };

export type ProcessorHealthState = 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

/** `/healthz`: the process is alive and none of its processors failed. */
export interface Liveness {
  readonly ok: boolean;
  readonly processors: Readonly<Record<string, ProcessorHealthState>>;
}

/** `/readyz`: every processor (and follower) runs and every partition it owns (a follower: every partition) is restored. Keys are `<processor>/<partition>`. */
export interface Readiness {
  readonly ok: boolean;
  readonly processors: Readonly<Record<string, ProcessorHealthState>>;
  readonly partitions: Readonly<Record<string, PartitionHealth>>;
}

/**
 * Liveness and readiness from graphfold's instrumentation events, for the topology's processors:
 * live while none failed; ready once each runs and each partition it owns has restored its store
 * (while one restores, its progress is shown).
 */
export class Health {
  private readonly processors = new Map<string, ProcessorHealthState>();
  private readonly partitions = new Map<string, Map<number, PartitionHealth>>();
  private readonly standbys = new Map<string, Map<number, PartitionHealth>>();
  private readonly unsubscribes: (() => void)[];

  constructor(instrumentation: Instrumentation, processorNames: readonly string[]) {
    for (const name of processorNames) {
      this.processors.set(name, 'starting');
      this.partitions.set(name, new Map());
    }
    const on = instrumentation.on.bind(instrumentation);
    const set = (processor: string, partition: number, health: PartitionHealth): void => {
      const owned = this.partitions.get(processor);
      if (owned?.has(partition) === true) owned.set(partition, health);
    };
    this.unsubscribes = [
      on('processor.started', (p) => this.processors.set(p.processor, 'running')),
      on('processor.stopping', (p) => {
        if (this.processors.get(p.processor) !== 'failed') this.processors.set(p.processor, 'stopping');
      }),
      on('processor.stopped', (p) => {
        if (this.processors.get(p.processor) !== 'failed') this.processors.set(p.processor, 'stopped');
      }),
      on('processor.failed', (p) => this.processors.set(p.processor, 'failed')),
      on('partitions.assigned', (p) => {
        const owned = this.partitions.get(p.processor) ?? new Map<number, PartitionHealth>();
        this.partitions.set(p.processor, owned);
        for (const partition of [...owned.keys()]) if (!p.partitions.includes(partition)) owned.delete(partition);
        for (const partition of p.partitions) if (!owned.has(partition)) owned.set(partition, { state: 'opening' });
      }),
      on('restore.started', (p) => set(p.processor, p.partition, { state: 'restoring', records: 0, position: p.from, to: p.to })),
      on('restore.progress', (p) => set(p.processor, p.partition, { state: 'restoring', records: p.records, position: p.position, to: p.to, etaSeconds: Math.ceil(p.etaSeconds) })),
      on('task.ready', (p) => set(p.processor, p.partition, { state: 'ready' })),
      on('follower.started', (p) => this.processors.set(p.follower, 'running')),
      on('follower.stopped', (p) => {
        if (this.processors.get(p.follower) !== 'failed') this.processors.set(p.follower, 'stopped');
      }),
      on('follower.failed', (p) => this.processors.set(p.follower, 'failed')),
      on('standby.opened', (p) => this.standbysOf(p.processor).set(p.partition, { state: 'standby', position: p.position, behind: Math.max(0, p.end - p.position) })),
      on('standby.progress', (p) => {
        const standbys = this.standbysOf(p.processor);
        if (standbys.has(p.partition)) standbys.set(p.partition, { state: 'standby', position: p.position, behind: p.behind });
      }),
      on('standby.closed', (p) => this.standbysOf(p.processor).delete(p.partition)),
      on('standby.failed', (p) => this.standbysOf(p.processor).delete(p.partition)),
      // Until the task is open again (its store reopened, restored), the partition is not ready.
      on('task.failed', (p) => set(p.processor, p.partition, { state: 'failed', error: p.error.message, retryInSeconds: Math.ceil(p.retryInMs / 1000) })),
    ];
  }

  live(): Liveness {
    const processors = Object.fromEntries(this.processors);
    return { ok: !Object.values(processors).includes('failed'), processors };
  }

  ready(): Readiness {
    const processors = Object.fromEntries(this.processors);
    const partitions: Record<string, PartitionHealth> = {};
    for (const [processor, owned] of this.partitions) for (const [partition, health] of [...owned].sort((a, b) => a[0] - b[0])) partitions[`${processor}/${partition}`] = health;
    const ok = Object.values(processors).every((state) => state === 'running') && Object.values(partitions).every((p) => p.state === 'ready');
    for (const [processor, kept] of this.standbys) {
      for (const [partition, health] of [...kept].sort((a, b) => a[0] - b[0])) if (!this.partitions.get(processor)?.has(partition)) partitions[`${processor}/${partition}`] = health;
    }
    return { ok, processors, partitions };
  }

  private standbysOf(processor: string): Map<number, PartitionHealth> {
    let kept = this.standbys.get(processor);
    if (kept === undefined) this.standbys.set(processor, (kept = new Map()));
    return kept;
  }

  /** Stops listening. Idempotent. */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
