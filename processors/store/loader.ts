import type { GraphTransaction, Uid } from '../engine/model';
import { creationNeeds, followUpNeeds, prefetchNeeds } from '../engine/prefetch';
import type { Need } from '../engine/state';
import * as records from './format/records';
import type { GraphView } from './graph-view';
import type { KeyFilter } from './key-filter';
import type { Rocks } from './rocks';
import { directionKey } from './staging';

/** What to load, graph by graph. */
export type LoadPlan = ReadonlyMap<GraphView, readonly Need[]>;

/**
 * Load planning: turns what the engine needs (or will most likely need) into one multi-get, and
 * puts what it read into the graphs' views. Reads see written state; what layers staged is
 * read from the views, over it.
 */
export class Loader {
  constructor(
    private readonly rocks: Rocks,
    private readonly filter: KeyFilter,
  ) {}

  /**
   * Loads what folding these transactions will most likely read, in two rounds (uids and txIds
   * the key filter knows to be new are not read at all).
   */
  async prefetch(txs: readonly GraphTransaction[], view: (graph: string) => GraphView): Promise<void> {
    const plan = new Map<GraphView, Need[]>();
    const add = (target: GraphView, needs: readonly Need[]): void => {
      const list = plan.get(target);
      if (list === undefined) plan.set(target, [...needs]);
      else for (const need of needs) list.push(need);
    };
    const complete = this.filter.isComplete;
    for (const tx of txs) {
      const target = view(tx.graph);
      add(target, prefetchNeeds(tx));
      if (!complete) add(target, creationNeeds(tx));
    }
    await this.load(plan);
    plan.clear();
    for (const tx of txs) {
      const target = view(tx.graph);
      add(target, followUpNeeds(tx, target));
    }
    await this.load(plan);
  }

  /** Reads what the views do not hold of `plan`, in one multi-get. */
  async load(plan: LoadPlan): Promise<void> {
    const keys: Buffer[] = [];
    const targets: GraphView[] = [];
    const needs: Need[] = [];
    for (const [view, wanted] of plan) {
      const scheduled = new Set<string>();
      const get = (id: string, key: Buffer, need: Need): void => {
        if (scheduled.has(id)) return;
        scheduled.add(id);
        keys.push(key);
        targets.push(view);
        needs.push(need);
      };
      const atom = (uid: Uid): void => get(`a${uid}`, view.keys.atom(uid), { what: 'atom', uid });
      for (const need of wanted) {
        switch (need.what) {
          case 'head':
            if (view.knownHead() === undefined) get('h', view.keys.head(), need);
            break;
          case 'tx':
            if (!view.knowsTx(need.txId)) get(`t${need.txId}`, view.keys.tx(need.txId), need);
            break;
          case 'atom':
            if (view.knownRecord(need.uid) === undefined) atom(need.uid);
            break;
          case 'edges': {
            const record = view.knownRecord(need.uid);
            if (record === undefined) atom(need.uid);
            else if (record !== null && view.knownEdges(need.uid, need.direction) === undefined) get(`e${need.uid}`, view.keys.adjacency(need.uid), need);
            break;
          }
        }
      }
    }
    const values = await this.rocks.getMany(keys);
    for (const [i, value] of values.entries()) apply(targets[i] as GraphView, needs[i] as Need, value);
  }
}

function apply(view: GraphView, need: Need, value: Buffer | undefined): void {
  switch (need.what) {
    case 'head': {
      const head = value === undefined ? undefined : records.decodeHead(value);
      view.writtenHead = head?.slice ?? 0;
      view.writtenHeadTime = head?.time ?? 0;
      return;
    }
    case 'tx':
      view.txs.set(need.txId, value === undefined ? 'unseen' : records.decodeTx(value));
      return;
    case 'atom':
      view.atoms.set(need.uid, value === undefined ? null : records.decodeAtom(need.uid, value));
      return;
    case 'edges': {
      const adjacency = value === undefined ? records.noAdjacency : records.decodeAdjacency(value);
      view.edgeLists.set(directionKey('out', need.uid), records.liveEdges(adjacency, 'out'));
      view.edgeLists.set(directionKey('in', need.uid), records.liveEdges(adjacency, 'in'));
      return;
    }
  }
}
