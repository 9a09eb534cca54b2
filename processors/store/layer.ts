import type { GraphDiff, Uid } from '../engine/model';
import type { Direction, RelationEdge } from '../engine/state';
import type { GraphView } from './graph-view';
import type { StagedRejections } from './rejections';
import type { StoredAtom } from './records';
import type { RocksBatch } from './rocks';

/** Changes to the live relations of one spilled direction of one atom, staged in a layer. */
export interface EdgeDelta {
  readonly added: RelationEdge[];
  readonly ended: Set<Uid>;
  /** `added` is the whole list: the direction spilled in this layer, with these relations live. */
  fresh: boolean;
}

/** What one layer staged for one graph. */
export class StagedGraph {
  /** The latest record of every atom the layer changed. */
  readonly atoms = new Map<Uid, StoredAtom>();
  head: number | undefined;
  /** The time of slice `head`. */
  headTime = 0;
  /** The slice each txId made, null for a no-op. */
  readonly txs = new Map<string, number | null>();
  /** Spilled directions' changes, by direction letter and uid (`o<uid>`, `i<uid>`). */
  readonly spilled = new Map<string, EdgeDelta>();
  /** The applied diffs, for the slice log. */
  readonly diffs: GraphDiff[] = [];
  /** Entities and relations created, for the type index: their types, uids and slices, in order. */
  readonly typed = { types: [] as string[], uids: [] as Uid[], slices: [] as number[] };

  delta(direction: Direction, uid: Uid): EdgeDelta {
    const key = spilledKey(direction, uid);
    let delta = this.spilled.get(key);
    if (delta === undefined) this.spilled.set(key, (delta = { added: [], ended: new Set(), fresh: false }));
    return delta;
  }

  addTyped(type: string, uid: Uid, slice: number): void {
    this.typed.types.push(type);
    this.typed.uids.push(uid);
    this.typed.slices.push(slice);
  }
}

export function spilledKey(direction: Direction, uid: Uid): string {
  return direction === 'out' ? `o${uid}` : `i${uid}`;
}

/**
 * What one batch staged, graph by graph, and its WriteBatch (puts that need no merging: value
 * history, spilled edges). Read before the cache; written to RocksDB as one WriteBatch.
 */
export class Layer {
  /** On disk: absorbed into the cache at the next safe point. */
  written = false;
  readonly graphs = new Map<GraphView, StagedGraph>();
  /** The rejections the batch records, by graph (see rejections.ts). */
  readonly rejections = new Map<string, StagedRejections>();

  constructor(readonly batch: RocksBatch) {}

  /** What this layer staged for a graph; registered with the graph's view on first use. */
  of(view: GraphView): StagedGraph {
    let staged = this.graphs.get(view);
    if (staged === undefined) {
      staged = new StagedGraph();
      this.graphs.set(view, staged);
      view.staged.push(staged);
    }
    return staged;
  }
}
