import type { Location, PartitionHealth, QueryBackend } from '../../processors/query/backend';
import { GraphReads, type ReadLimits } from '../../processors/query/reads';
import type { GraphStore } from '../../processors/store/graph-store';

/**
 * A query backend over one real store, for tests of the query server without a broker: every
 * graph lives on its partition 0, here; `written()` plays the part of a batch being written.
 */
export class StoreBackend implements QueryBackend {
  readonly processors = ['graphs'];
  private readonly reads: GraphReads;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly instance: string,
    store: GraphStore,
    limits: ReadLimits = { maxHops: 4, maxLimit: 10_000 },
  ) {
    this.reads = new GraphReads(store, limits);
    this.store = store;
  }

  private readonly store: GraphStore;

  locate(processor: string): Location | undefined {
    return processor === 'graphs' ? { where: 'local', processor, partition: 0, reads: this.reads } : undefined;
  }

  onWritten(_processor: string, _partition: number, listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tells waiting requests and streams that a batch was written. */
  written(): void {
    for (const listener of [...this.listeners]) listener();
  }

  async *localGraphs(): AsyncGenerator<{ readonly graph: string; readonly partition: number }> {
    for await (const graph of this.store.graphs()) yield { graph, partition: 0 };
  }

  peers(): readonly string[] {
    return [];
  }

  health(): readonly PartitionHealth[] {
    return [{ processor: 'graphs', partition: 0, state: 'ready' }];
  }
}
