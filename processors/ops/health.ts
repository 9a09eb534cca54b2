import type { Instrumentation } from '../instrumentation/events';

/** One owned partition, as `/readyz` shows it. */
export type PartitionHealth =
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

/** `/readyz`: every processor runs and every partition it owns is restored. Keys are `<processor>/<partition>`. */
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
    return { ok, processors, partitions };
  }

  /** Stops listening. Idempotent. */
  close(): void {
    for (const unsubscribe of this.unsubscribes.splice(0)) unsubscribe();
  }
}
