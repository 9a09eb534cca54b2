import { StoreDivergedError } from '../errors';
import type { GraphDiff, Uid } from '../engine/model';
import { isUid } from '../engine/uid';
import { Writer } from './format/binary';
import { GraphKeys, tags } from './format/keys';
import * as records from './format/records';
import { StoredAtom } from './format/records';
import { Generations } from './generations';
import type { KeyFilter, KeySeed } from './key-filter';
import type { WritePipeline } from './pipeline';
import type { Rocks } from './rocks';
import { addRelation, endRelation, type StagedGraph } from './staging';

/** One graph as a replay knows it: its head and the records it has read or staged. */
class ReplayGraph {
  readonly keys: GraphKeys;
  readonly atomSeed: KeySeed;
  readonly txSeed: KeySeed;
  head: number | undefined;
  /** Latest records (null: absent), read or staged by this replay. */
  readonly atoms = new Generations<Uid, StoredAtom | null>();

  constructor(
    readonly graph: string,
    filter: KeyFilter,
  ) {
    this.keys = new GraphKeys(graph);
    this.atomSeed = filter.seed(this.keys.tagged(tags.atom));
    this.txSeed = filter.seed(this.keys.tagged(tags.tx));
  }
}

/**
 * The bulk replay of diffs read from the changelog (restore): the diffs were validated when they
 * were folded, so they are applied as they are, without the engine, many per WriteBatch:
 * 1. one multi-get reads what the chunk changes and the store does not hold in memory (the heads
 *    of its graphs, the records of atoms it assigns or terminates that it did not create);
 * 2. a tight loop stages each diff into the staging layer, keeping the latest record of each
 *    touched atom in memory (put once per commit, as every staged key), the relation events of
 *    each end (one append per atom per commit), the value history and the slice log and type
 *    index items;
 * 3. the caller's commit writes it all as one WriteBatch.
 * A diff that does not follow its graph's head, or that changes an atom the store does not hold,
 * throws {@link StoreDivergedError}: the store must be rebuilt.
 *
 * The replay's records stay valid only while nothing else stages: the store calls `reset` when
 * a fold stages or a layer is discarded.
 */
export class BulkReplay {
  private readonly graphs = new Map<string, ReplayGraph>();
  private readonly w = new Writer();

  constructor(
    private readonly rocks: Rocks,
    private readonly pipeline: WritePipeline,
    private readonly filter: KeyFilter,
    private readonly cachedAtoms: number,
  ) {}

  /** Forgets what this replay knows (something else staged meanwhile). */
  reset(): void {
    this.graphs.clear();
  }

  /** Stages `diffs`, in changelog order, for the next commit. */
  async add(diffs: readonly GraphDiff[]): Promise<void> {
    this.pipeline.settle();
    this.trim();
    await this.read(diffs);
    for (const diff of diffs) this.stage(diff);
  }

  private graph(graph: string): ReplayGraph {
    let known = this.graphs.get(graph);
    if (known === undefined) {
      this.pipeline.forget(graph);
      known = new ReplayGraph(graph, this.filter);
      this.graphs.set(graph, known);
    }
    return known;
  }

  /** Step 1. */
  private async read(diffs: readonly GraphDiff[]): Promise<void> {
    const keys: Buffer[] = [];
    const targets: ReplayGraph[] = [];
    const uids: (Uid | undefined)[] = [];
    /** Per graph, the uids this chunk creates or reads. */
    const known = new Map<ReplayGraph, Set<Uid>>();
    for (const diff of diffs) {
      const g = this.graph(diff.graph);
      let seen = known.get(g);
      if (seen === undefined) {
        known.set(g, (seen = new Set()));
        if (g.head === undefined) {
          keys.push(g.keys.head());
          targets.push(g);
          uids.push(undefined);
        }
      }
      for (const change of diff.changes) {
        if (!isUid(change.uid)) throw diverged(diff, `slice ${diff.slice} of graph '${diff.graph}' names '${change.uid}', which is not a uid`);
        if (seen.has(change.uid)) continue;
        seen.add(change.uid);
        if (change.op === 'Created' || g.atoms.has(change.uid)) continue;
        keys.push(g.keys.atom(change.uid));
        targets.push(g);
        uids.push(change.uid);
      }
    }
    const values = await this.rocks.getMany(keys);
    for (const [i, value] of values.entries()) {
      const g = targets[i] as ReplayGraph;
      const uid = uids[i];
      if (uid === undefined) g.head = value === undefined ? 0 : records.decodeHead(value).slice;
      else g.atoms.set(uid, value === undefined ? null : records.decodeAtom(uid, value));
    }
  }

  /** Step 2, for one diff. */
  private stage(diff: GraphDiff): void {
    const { slice } = diff;
    const g = this.graph(diff.graph);
    const head = g.head as number;
    if (slice !== head + 1) throw diverged(diff, `diff for slice ${slice} of graph '${diff.graph}' does not follow the store's head, slice ${head}`);
    const { staged } = this.pipeline.staging.of(diff.graph, true);
    for (const change of diff.changes) {
      switch (change.op) {
        case 'Created': {
          const { uid, kind, type, source, target } = change;
          const relation = source !== undefined && target !== undefined;
          this.filter.addUid(g.atomSeed, uid);
          keep(g, staged, StoredAtom.created(uid, kind, type, slice, relation ? source : undefined, relation ? target : undefined));
          if (kind !== 'attribute') staged.addTyped(type, uid, slice);
          if (relation) addRelation(staged, uid, type, source, target, slice);
          break;
        }
        case 'Assigned': {
          const atom = latest(g, diff, change.uid);
          if (atom.value !== undefined && atom.assigned !== undefined) {
            records.writeValue(this.w.reset(), atom.value);
            this.pipeline.staging.batch.put(g.keys.valueScratch(atom.uid, atom.assigned), this.w.buffer, this.w.length);
          }
          keep(g, staged, atom.assignedTo(change.value, slice));
          break;
        }
        case 'Terminated': {
          const atom = latest(g, diff, change.uid);
          keep(g, staged, atom.terminatedAt(slice));
          if (atom.kind === 'relation') endRelation(staged, atom, slice);
          break;
        }
      }
    }
    g.head = slice;
    staged.head = slice;
    staged.headTime = diff.time;
    staged.txs.set(diff.txId, slice);
    this.filter.addText(g.txSeed, diff.txId);
    staged.diffs.push(diff);
  }

  /** Forgets records not used lately once the replay holds more than `cachedAtoms`. */
  private trim(): void {
    let young = 0;
    for (const g of this.graphs.values()) young += g.atoms.youngSize;
    if (young < this.cachedAtoms / 2) return;
    for (const g of this.graphs.values()) g.atoms.rotate();
  }
}

function diverged(diff: GraphDiff, message: string): StoreDivergedError {
  return new StoreDivergedError(message, { graph: diff.graph, slice: diff.slice, txId: diff.txId });
}

/** The latest record of an atom a diff changes; the store must hold it. */
function latest(g: ReplayGraph, diff: GraphDiff, uid: Uid): StoredAtom {
  const atom = g.atoms.get(uid);
  if (atom === undefined || atom === null) throw diverged(diff, `slice ${diff.slice} of graph '${diff.graph}' changes atom ${uid}, which the store does not hold`);
  return atom;
}

function keep(g: ReplayGraph, staged: StagedGraph, atom: StoredAtom): void {
  g.atoms.set(atom.uid, atom);
  staged.atoms.set(atom.uid, atom);
}
