import type { AtomKind, GraphDiff, Uid, Value } from '../engine/model';
import { GraphStore, type GraphStoreOptions } from '../store/graph-store';

/**
 * A local copy of the graphs of a diffs topic that {@link import('./follow-diffs').followDiffs}
 * keeps current: each diff is applied before it is yielded. `head` says how far a graph is, so a
 * mirror that survives a restart (RocksDB) resumes without applying a diff twice.
 */
export interface DiffMirror {
  /** Applies one diff, the next slice of its graph. */
  apply(diff: GraphDiff): Promise<void>;
  /** The graph's latest applied slice; 0 for a graph it has not seen. */
  head(graph: string): Promise<number>;
  close(): Promise<void>;
}

/** An atom alive at a graph's head, as the in-memory mirror keeps it. */
export interface MirroredAtom {
  readonly uid: Uid;
  readonly kind: AtomKind;
  readonly type: string;
  readonly source?: Uid;
  readonly target?: Uid;
  /** Attributes: the current value. */
  readonly value?: Value;
  /** The slice that created it. */
  readonly created: number;
}

/** The live atoms of each graph at its head, in memory: what a cache, a search index or a dashboard needs. */
export class InMemoryMirror implements DiffMirror {
  private readonly graphs = new Map<string, { head: number; readonly atoms: Map<Uid, MirroredAtom> }>();

  async apply(diff: GraphDiff): Promise<void> {
    let graph = this.graphs.get(diff.graph);
    if (graph === undefined) this.graphs.set(diff.graph, (graph = { head: 0, atoms: new Map() }));
    for (const change of diff.changes) {
      switch (change.op) {
        case 'Created':
          graph.atoms.set(change.uid, {
            uid: change.uid,
            kind: change.kind,
            type: change.type,
            ...(change.source === undefined ? {} : { source: change.source, target: change.target as Uid }),
            created: diff.slice,
          });
          break;
        case 'Assigned': {
          const atom = graph.atoms.get(change.uid);
          if (atom !== undefined) graph.atoms.set(change.uid, { ...atom, value: change.value });
          break;
        }
        case 'Terminated':
          graph.atoms.delete(change.uid);
          break;
      }
    }
    graph.head = diff.slice;
  }

  async head(graph: string): Promise<number> {
    return this.graphs.get(graph)?.head ?? 0;
  }

  /** A live atom of a graph, or undefined. */
  atom(graph: string, uid: Uid): MirroredAtom | undefined {
    return this.graphs.get(graph)?.atoms.get(uid);
  }

  /** The live atoms of a graph, in creation order. */
  atoms(graph: string): readonly MirroredAtom[] {
    return [...(this.graphs.get(graph)?.atoms.values() ?? [])];
  }

  /** The graphs seen, with their heads. */
  heads(): ReadonlyMap<string, number> {
    return new Map([...this.graphs].map(([name, g]) => [name, g.head]));
  }

  async close(): Promise<void> {
    this.graphs.clear();
  }
}

/**
 * Every slice of every graph in a RocksDB store of its own (graphfold's GraphStore), readable as
 * of any slice (`store.atomAt`, `store.relationsAt`, `store.diff`, ...); it survives restarts, and
 * following again resumes after its heads.
 */
export class RocksDbMirror implements DiffMirror {
  private constructor(readonly store: GraphStore) {}

  static async open(dir: string, options: Partial<GraphStoreOptions> = {}): Promise<RocksDbMirror> {
    return new RocksDbMirror(await GraphStore.open(dir, { rocks: { cacheBytes: 16 << 20, writeBufferBytes: 8 << 20 }, cachedAtoms: 10_000, ...options }));
  }

  /** Applies and writes one diff: on disk when it resolves. */
  async apply(diff: GraphDiff): Promise<void> {
    await this.store.replay([diff]);
    // A mirror resumes after its heads, so the checkpoint names no offsets.
    await this.store.commit({});
  }

  async head(graph: string): Promise<number> {
    return this.store.head(graph);
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
