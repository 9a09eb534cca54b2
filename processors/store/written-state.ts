import type { Uid } from '../engine/model';
import type { GraphKeys } from './format/keys';
import * as records from './format/records';
import type { Adjacency, StoredAtom } from './format/records';
import type { Rocks } from './rocks';

/** The store's written state, decoded: the heads, records and adjacencies that queries read. */
export interface WrittenState {
  /** The graph's latest written slice; 0 when it has none. */
  head(keys: GraphKeys): Promise<number>;
  /** Records of some atoms, null where absent, in order. */
  atoms(keys: GraphKeys, uids: readonly Uid[]): Promise<(StoredAtom | null)[]>;
  /** Adjacencies of some atoms (empty where an atom has no relation), in order. */
  adjacencies(keys: GraphKeys, uids: readonly Uid[]): Promise<Adjacency[]>;
}

/** Written state read from RocksDB, a multi-get per call. */
export class RocksWrittenState implements WrittenState {
  constructor(private readonly rocks: Rocks) {}

  async head(keys: GraphKeys): Promise<number> {
    const value = await this.rocks.get(keys.head());
    return value === undefined ? 0 : records.decodeHead(value).slice;
  }

  async atoms(keys: GraphKeys, uids: readonly Uid[]): Promise<(StoredAtom | null)[]> {
    const values = await this.rocks.getMany(uids.map((uid) => keys.atom(uid)));
    return values.map((value, i) => (value === undefined ? null : records.decodeAtom(uids[i] as Uid, value)));
  }

  async adjacencies(keys: GraphKeys, uids: readonly Uid[]): Promise<Adjacency[]> {
    const values = await this.rocks.getMany(uids.map((uid) => keys.adjacency(uid)));
    return values.map((value) => (value === undefined ? records.noAdjacency : records.decodeAdjacency(value)));
  }
}
