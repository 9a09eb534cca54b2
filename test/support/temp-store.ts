import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphStore } from '../../processors/store/graph-store';

/** A GraphStore in a fresh temporary directory; `close` also deletes the directory. */
export async function openTempStore(cachedAtoms = 10_000): Promise<{ store: GraphStore; dir: string; close(): Promise<void>; reopen(): Promise<GraphStore> }> {
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-store-'));
  const options = { rocks: { cacheBytes: 8 << 20, writeBufferBytes: 4 << 20 }, cachedAtoms };
  const handle = {
    store: await GraphStore.open(dir, options),
    dir,
    async close(): Promise<void> {
      await handle.store.close();
      await rm(dir, { recursive: true, force: true });
    },
    async reopen(): Promise<GraphStore> {
      await handle.store.close();
      handle.store = await GraphStore.open(dir, options);
      return handle.store;
    },
  };
  return handle;
}
