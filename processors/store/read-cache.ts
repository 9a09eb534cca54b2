import type { Uid } from '../engine/model';
import type { Direction } from '../engine/state';
import { Generations } from './generations';
import { spilledKey } from './layer';
import type { StoredAtom } from './records';

/** A relation of a spilled direction, with its lifetime: what one edge entry holds. */
export interface HistoricEdge {
  readonly uid: Uid;
  readonly type: string;
  readonly other: Uid;
  readonly created: number;
  readonly terminated?: number;
}

/**
 * Written state, decoded, for queries (which see written state only, where the engine's views
 * also hold staged state): graph heads, atom records (null for a uid found absent), and the
 * relations of spilled directions with their lifetimes. It forgets what was not used lately past `capacity`
 * entries. A written layer drops what it changed; a read that raced a write keeps nothing (the
 * epoch moved on), so nothing stale stays.
 */
export class ReadCache {
  private readonly heads = new Generations<string, number>();
  private readonly atoms = new Generations<string, StoredAtom | null>();
  private readonly spilled = new Generations<string, readonly HistoricEdge[]>();
  private writes = 0;

  constructor(private readonly capacity: number) {}

  /** Taken before a read; the read's result is kept only if no write landed meanwhile. */
  get epoch(): number {
    return this.writes;
  }

  head(graph: string): number | undefined {
    return this.heads.get(graph);
  }

  keepHead(epoch: number, graph: string, head: number): void {
    if (epoch !== this.writes) return;
    this.heads.set(graph, head);
    this.trim();
  }

  atom(graph: string, uid: Uid): StoredAtom | null | undefined {
    return this.atoms.get(`${graph}\u0000${uid}`);
  }

  keepAtom(epoch: number, graph: string, uid: Uid, atom: StoredAtom | null): void {
    if (epoch !== this.writes) return;
    this.atoms.set(`${graph}\u0000${uid}`, atom);
    this.trim();
  }

  edges(graph: string, direction: Direction, uid: Uid): readonly HistoricEdge[] | undefined {
    return this.spilled.get(`${graph}\u0000${spilledKey(direction, uid)}`);
  }

  keepEdges(epoch: number, graph: string, direction: Direction, uid: Uid, edges: readonly HistoricEdge[]): void {
    if (epoch !== this.writes) return;
    this.spilled.set(`${graph}\u0000${spilledKey(direction, uid)}`, edges);
    this.trim();
  }

  /** A layer was written to a graph: forgets its head, and the records (by uid) and spilled directions (by `spilledKey`) the layer changed. */
  written(graph: string, atoms: Iterable<Uid>, spilled: Iterable<string>): void {
    this.writes += 1;
    this.heads.delete(graph);
    if (this.atoms.size === 0 && this.spilled.size === 0) return;
    for (const uid of atoms) this.atoms.delete(`${graph}\u0000${uid}`);
    for (const key of spilled) this.spilled.delete(`${graph}\u0000${key}`);
  }

  private trim(): void {
    if (this.heads.youngSize + this.atoms.youngSize + this.spilled.youngSize < this.capacity / 2) return;
    this.heads.rotate();
    this.atoms.rotate();
    this.spilled.rotate();
  }
}
