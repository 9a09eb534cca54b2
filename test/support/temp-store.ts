import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphStore, type Layout } from '../../processors/store/graph-store';
import { dumpStore } from './store-dump';

export interface TempStore {
  /** The open store; replaced by `dump`, which closes and reopens it. */
  readonly store: GraphStore;
  readonly dir: string;
  /** Every key-value pair on disk, as hex (closes the store for the dump and opens it again). */
  dump(): Promise<[string, string][]>;
  /** Closes the store and opens it again. */
  reopen(): Promise<void>;
  /** Closes the store and deletes its directory. */
  close(): Promise<void>;
}

/** A small layout, so that a few transactions spill relations to edge entries and fill several buckets. */
export const smallLayout: Layout = { sliceBucket: 3, typeBucket: 4 };

/** A GraphStore in a fresh temporary directory. */
export async function openTempStore(cachedAtoms = 10_000, layout: Layout = smallLayout): Promise<TempStore> {
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-store-'));
  const options = { rocks: { cacheBytes: 8 << 20, writeBufferBytes: 4 << 20 }, cachedAtoms, layout };
  let store = await GraphStore.open(dir, options);
  return {
    get store() {
      return store;
    },
    dir,
    async dump() {
      await store.close();
      const pairs = await dumpStore(dir);
      store = await GraphStore.open(dir, options);
      return pairs;
    },
    async reopen() {
      await store.close();
      store = await GraphStore.open(dir, options);
    },
    async close() {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
