import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreDivergedError } from '../../../processors/errors';
import type { GraphTransaction } from '../../../processors/engine/model';
import { layoutKey } from '../../../processors/store/format/keys';
import { GraphStore, StoreLayoutError } from '../../../processors/store/graph-store';
import { Rocks } from '../../../processors/store/rocks';
import { foldInto } from '../../support/fold-loop';
import { dumpStore } from '../../support/store-dump';
import { openTempStore } from '../../support/temp-store';

const graph = 'g';
const rocks = { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 };
const uid = (c: string): string => c.repeat(32);

const personUid = (n: number): string => n.toString(16).padStart(32, '0');

function tx(n: number): GraphTransaction {
  return { graph, txId: `t${n}`, instructions: [{ op: 'CreateEntity', uid: personUid(n), type: 'Person' }] };
}

describe('GraphStore', () => {
  test('copyTo copies the written state as it is, while writes go on; the copy opens at its checkpoint', async () => {
    const temp = await openTempStore();
    const copy = join(await mkdtemp(join(tmpdir(), 'graphfold-copy-')), 'store');
    try {
      for (let n = 1; n <= 20; n += 1) {
        expect((await foldInto(temp.store, tx(n), { source: { topic: 'in', partition: 0, offset: n }, recordTime: 0, maxInstructions: 10 })).outcome).toBe('applied');
      }
      await temp.store.commit({ changelog: 21, inputs: { in: 21 } });
      const copying = temp.store.copyTo(copy, rocks);
      await foldInto(temp.store, tx(21), { source: { topic: 'in', partition: 0, offset: 21 }, recordTime: 0, maxInstructions: 10 });
      const writing = temp.store.commit({ changelog: 22, inputs: { in: 22 } });
      const stats = await copying;
      await writing;
      expect(stats.entries).toBeGreaterThan(40);

      const copied = await GraphStore.open(copy, { rocks, cachedAtoms: 100 });
      expect(copied.checkpoint()).toEqual({ changelog: 21, inputs: { in: 21 } });
      expect(await copied.head(graph)).toBe(20);
      expect(await copied.atomAt(graph, personUid(20))).toMatchObject({ type: 'Person', created: 20 });
      expect(await copied.atomAt(graph, personUid(21))).toBeUndefined();
      await copied.close();
      expect(await temp.store.head(graph)).toBe(21);
      const source = (await temp.dump()).filter(([key]) => !key.startsWith('01'));
      const copiedDump = (await dumpStore(copy)).filter(([key]) => !key.startsWith('01'));
      expect(copiedDump.length).toBeLessThan(source.length);
    } finally {
      await temp.close();
      await rm(join(copy, '..'), { recursive: true, force: true });
    }
  });

  test('a store of layout version 1 does not open: a StoreLayoutError says it must be rebuilt, and the store is closed again', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-v1-'));
    try {
      const old = await Rocks.open(dir, rocks);
      const batch = old.batch();
      batch.put(layoutKey, Buffer.from([1, 64, 16, 64]));
      await batch.write();
      await old.close();
      const opening = GraphStore.open(dir, { rocks, cachedAtoms: 10 });
      await expect(opening).rejects.toThrow(StoreLayoutError);
      await expect(opening).rejects.toThrow(/written in layout version 1; this graphfold reads layout version 2: it must be rebuilt from the changelog/);
      const again = await Rocks.open(dir, rocks);
      await again.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('bulk replay: a diff that does not follow its head, or changes an atom the store lacks, is a divergence; a fold after a committed replay sees it', async () => {
    const temp = await openTempStore();
    try {
      const source = { topic: 'diffs', partition: 0, offset: 0 };
      const created = { graph, slice: 1, txId: 't1', time: 0, source, changes: [{ op: 'Created' as const, uid: personUid(1), kind: 'entity' as const, type: 'Person' }] };
      await expect(temp.store.replay([{ ...created, slice: 2 }])).rejects.toThrow(StoreDivergedError);
      temp.store.discard();
      await expect(temp.store.replay([{ ...created, changes: [{ op: 'Terminated', uid: personUid(9), cascade: false, kind: 'entity', type: 'Person' }] }])).rejects.toThrow(/changes atom 0+9, which the store does not hold/);
      temp.store.discard();

      await temp.store.replay([created]);
      await temp.store.commit({ changelog: 1 });
      const result = await foldInto(temp.store, { graph, txId: 't2', instructions: [{ op: 'Terminate', target: { uid: personUid(1) } }] }, { source: { topic: 'in', partition: 0, offset: 0 }, recordTime: 0, maxInstructions: 10 });
      expect(result).toMatchObject({ outcome: 'applied', diff: { slice: 2, changes: [{ op: 'Terminated', uid: personUid(1), cascade: false }] } });
      await temp.store.commit({ changelog: 2 });
      expect(await temp.store.atomAt(graph, personUid(1), 1)).toMatchObject({ type: 'Person' });
      expect(await temp.store.atomAt(graph, personUid(1))).toBeUndefined();
    } finally {
      await temp.close();
    }
  });

  test('close is idempotent, and a closed store refuses work', async () => {
    const temp = await openTempStore();
    try {
      await foldInto(temp.store, tx(1), { source: { topic: 'in', partition: 0, offset: 0 }, recordTime: 0, maxInstructions: 10 });
      await temp.store.commit({});
      await Promise.all([temp.store.close(), temp.store.close()]);
      await temp.store.close();
      await expect(temp.store.head(uid('x'))).rejects.toThrow(/after the store was closed/);
    } finally {
      await temp.store.close();
      await rm(temp.dir, { recursive: true, force: true });
    }
  });
});
