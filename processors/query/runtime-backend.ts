import { partitionOf, type PartitionerName } from '../codec/partitioner';
import type { Instrumentation } from '../instrumentation/events';
import type { GroupMap } from '../runtime/assigner';
import type { PartitionView } from '../runtime/graph-processor';
import type { GraphStore } from '../store/graph-store';
import type { Location, PartitionHealth, QueryBackend } from './backend';
import { GraphReads, type ReadLimits } from './reads';

/** What the backend serves: a processor (`GraphProcessor`) or a follower of a diffs topic (`Follower`). */
export interface ServedGraphs {
  readonly name: string;
  readonly partitioner: PartitionerName;
  /** The partitions of its topics; 0 until it started. */
  readonly partitions: number;
  /** Who owns which partition, for a processor's group; undefined for a follower, which holds them all. */
  readonly map: GroupMap | undefined;
  partitionView(partition: number): PartitionView;
}

/**
 * The query backend of a running topology: its processors' partitions, routed by the group map,
 * and its followers' (every partition local). A
 * graph lives on the partition its processor's partitioner gives its id (the same check that
 * refuses a record on another partition, WRONG_PARTITION).
 */
export class RuntimeBackend implements QueryBackend {
  readonly processors: readonly string[];
  private readonly byName: ReadonlyMap<string, ServedGraphs>;
  private readonly reads = new WeakMap<GraphStore, GraphReads>();
  private readonly listeners = new Map<string, Set<() => void>>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly instance: string,
    processors: readonly ServedGraphs[],
    instrumentation: Instrumentation,
    private readonly limits: ReadLimits,
  ) {
    this.processors = processors.map((p) => p.name);
    this.byName = new Map(processors.map((p) => [p.name, p]));
    this.unsubscribe = instrumentation.on('batch.written', ({ processor, partition }) => {
      for (const listener of this.listeners.get(`${processor}/${partition}`) ?? []) listener();
    });
  }

  locate(processorName: string, graph: string): Location | undefined {
    const processor = this.byName.get(processorName);
    if (processor === undefined || processor.partitions === 0) return undefined;
    const partition = partitionOf(graph, processor.partitions, processor.partitioner);
    const here = processor.partitionView(partition);
    if (here.state === 'ready') return { where: 'local', processor: processorName, partition, reads: this.readsOf(here.store) };
    const standby = (view: { readonly store: GraphStore; readonly position: number; readonly lagSlices: number }): Extract<Location, { where: 'local' }> => ({
      where: 'local',
      processor: processorName,
      partition,
      reads: this.readsOf(view.store),
      standby: { position: view.position, lagSlices: view.lagSlices },
    });
    if (here.state === 'restoring') return here.standby === undefined ? { where: 'restoring', processor: processorName, partition, progress: here.progress } : standby(here.standby);
    const map = processor.map;
    const owner = map?.partitions[String(partition)];
    const replica = here.state === 'standby' ? standby(here) : undefined;
    if (owner === undefined) return replica ?? { where: 'unassigned', processor: processorName, partition, why: 'the group has not assigned it yet (a rebalance is under way)' };
    if (owner === this.instance) return replica ?? { where: 'restoring', processor: processorName, partition, progress: undefined };
    const url = map?.instances[owner];
    if (url === undefined || url === null) return replica ?? { where: 'unassigned', processor: processorName, partition, why: `its owner, ${owner}, serves no query API` };
    return { where: 'remote', processor: processorName, partition, instance: owner, url, ...(replica === undefined ? {} : { standby: replica }) };
  }

  onWritten(processor: string, partition: number, listener: () => void): () => void {
    const key = `${processor}/${partition}`;
    let set = this.listeners.get(key);
    if (set === undefined) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(key);
    };
  }

  async *localGraphs(processorName: string): AsyncGenerator<{ readonly graph: string; readonly partition: number }> {
    const processor = this.byName.get(processorName);
    if (processor === undefined) return;
    for (let partition = 0; partition < processor.partitions; partition += 1) {
      const view = processor.partitionView(partition);
      if (view.state !== 'ready') continue;
      for await (const graph of view.store.graphs()) yield { graph, partition };
    }
  }

  peers(processorName: string): readonly string[] {
    const map = this.byName.get(processorName)?.map;
    if (map === undefined) return [];
    return Object.entries(map.instances).flatMap(([instance, url]) => (instance === this.instance || url === null ? [] : [url]));
  }

  health(): readonly PartitionHealth[] {
    const out: PartitionHealth[] = [];
    for (const [name, processor] of this.byName) {
      for (let partition = 0; partition < processor.partitions; partition += 1) {
        const view = processor.partitionView(partition);
        if (view.state === 'ready') out.push({ processor: name, partition, state: 'ready' });
        else if (view.state === 'standby') out.push({ processor: name, partition, state: 'standby' });
        else if (view.state === 'restoring') out.push({ processor: name, partition, state: 'restoring', ...(view.progress === undefined ? {} : { restore: view.progress }) });
      }
    }
    return out;
  }

  close(): void {
    this.unsubscribe();
    this.listeners.clear();
  }

  private readsOf(store: GraphStore): GraphReads {
    let reads = this.reads.get(store);
    if (reads === undefined) this.reads.set(store, (reads = new GraphReads(store, this.limits)));
    return reads;
  }
}
