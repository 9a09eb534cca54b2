import type { Uid } from '../engine/model';
import type { GraphKeys } from './format/keys';
import type { Adjacency, StoredAtom } from './format/records';
import { Generations } from './generations';
import type { WrittenKeys } from './pipeline';
import type { WrittenState } from './written-state';

/**
 * A caching layer over written state (as Kafka Streams' caching store wraps its inner store):
 * graph heads, atom records (null for a uid found absent) and adjacencies, decoded, forgotten
 * when not used lately past `capacity` entries. A written layer drops what it changed; a read
 * that raced a write keeps nothing (the epoch moved on), so nothing stale stays. Queries see
 * written state only, where the engine's views also hold staged state.
 */
export class CachingWrittenState implements WrittenState {
  private readonly heads = new Generations<string, number>();
  private readonly records = new Generations<string, StoredAtom | null>();
  private readonly adjacency = new Generations<string, Adjacency>();
  private writes = 0;

  constructor(
    private readonly inner: WrittenState,
    private readonly capacity: number,
  ) {}

  async head(keys: GraphKeys): Promise<number> {
    const cached = this.heads.get(keys.graph);
    if (cached !== undefined) return cached;
    const epoch = this.writes;
    const head = await this.inner.head(keys);
    if (epoch === this.writes) this.heads.set(keys.graph, head);
    this.trim();
    return head;
  }

  atoms(keys: GraphKeys, uids: readonly Uid[]): Promise<(StoredAtom | null)[]> {
    return this.cached(this.records, keys, uids, (missing) => this.inner.atoms(keys, missing));
  }

  adjacencies(keys: GraphKeys, uids: readonly Uid[]): Promise<Adjacency[]> {
    return this.cached(this.adjacency, keys, uids, (missing) => this.inner.adjacencies(keys, missing));
  }

  /** Layers were written: forgets their graphs' heads, and the records and adjacencies they changed. */
  written(changed: readonly WrittenKeys[]): void {
    this.writes += 1;
    for (const { graph, atoms, adjacency } of changed) {
      this.heads.delete(graph);
      if (this.records.size > 0) for (const uid of atoms) this.records.delete(`${graph}\u0000${uid}`);
      if (this.adjacency.size > 0) for (const uid of adjacency) this.adjacency.delete(`${graph}\u0000${uid}`);
    }
  }

  private async cached<V>(cache: Generations<string, V>, keys: GraphKeys, uids: readonly Uid[], read: (missing: Uid[]) => Promise<V[]>): Promise<V[]> {
    const epoch = this.writes;
    const found = uids.map((uid) => cache.get(`${keys.graph}\u0000${uid}`));
    const missing = uids.filter((_, i) => found[i] === undefined);
    if (missing.length === 0) return found as V[];
    const values = await read(missing);
    let j = 0;
    for (const [i, uid] of uids.entries()) {
      if (found[i] !== undefined) continue;
      const value = values[j++] as V;
      found[i] = value;
      if (epoch === this.writes) cache.set(`${keys.graph}\u0000${uid}`, value);
    }
    this.trim();
    return found as V[];
  }

  private trim(): void {
    if (this.heads.youngSize + this.records.youngSize + this.adjacency.youngSize < this.capacity / 2) return;
    this.heads.rotate();
    this.records.rotate();
    this.adjacency.rotate();
  }
}
