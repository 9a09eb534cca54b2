import { GraphStore } from '../../../processors/store/graph-store';
import { StoreLockedError } from '../../../processors/errors';
import { openTempStore } from '../../support/temp-store';

describe('store failures', () => {
  test('close is idempotent: a second close (and one racing the first) resolves', async () => {
    const temp = await openTempStore();
    const { store } = temp;
    await Promise.all([store.close(), store.close()]);
    await expect(store.close()).resolves.toBeUndefined();
  });

  test('a store another handle holds is a StoreLockedError naming the directory, not damage', async () => {
    const temp = await openTempStore();
    let caught: unknown;
    try {
      await GraphStore.open(temp.dir, { rocks: { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 }, cachedAtoms: 10 });
    } catch (error) {
      caught = error;
    } finally {
      await temp.close();
    }
    expect(caught).toBeInstanceOf(StoreLockedError);
    expect((caught as Error).message).toContain(`another process holds the store ${temp.dir}`);
    expect((caught as Error).message).toContain('each instance needs its own store.dir');
    expect((caught as StoreLockedError).retriable).toBe(true);
  });
});
