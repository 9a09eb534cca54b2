import type { FoldOptions, FoldResult } from '../../../processors/engine/fold';
import type { GraphDiff, GraphTransaction } from '../../../processors/engine/model';
import { foldInto } from '../../support/fold-loop';
import { openTempStore } from '../../support/temp-store';

const options = (offset: number, recordTime: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime, maxInstructions: 100 });
const create = (txId: string, time?: number): GraphTransaction => ({ graph: 'g', txId, ...(time === undefined ? {} : { time }), instructions: [{ op: 'CreateEntity', type: 'Person' }] });
const timeOf = (result: FoldResult): number => (result.outcome === 'applied' ? result.diff.time : Number.NaN);

describe('slice times never decrease within a graph', () => {
  test('a transaction stamped before the head is stamped with the head time; a later one keeps its own', async () => {
    const temp = await openTempStore();
    try {
      expect(timeOf(await foldInto(temp.store, create('t1', 3_000), options(0, 0)))).toBe(3_000);
      expect(timeOf(await foldInto(temp.store, create('t2', 5), options(1, 0)))).toBe(3_000);
      expect(timeOf(await foldInto(temp.store, create('t3'), options(2, 1_000)))).toBe(3_000);
      expect(timeOf(await foldInto(temp.store, create('t4'), options(3, 9_000)))).toBe(9_000);
      await temp.store.commit({});
    } finally {
      await temp.close();
    }
  });

  test('the head time survives a commit, a reopen and a replay of the changelog', async () => {
    const temp = await openTempStore();
    const replayed = await openTempStore();
    const folded = await openTempStore();
    try {
      const first = await foldInto(temp.store, create('t1', 7_000), options(0, 0));
      await temp.store.commit({});
      await temp.reopen();
      expect(timeOf(await foldInto(temp.store, create('t2', 1), options(1, 0)))).toBe(7_000);
      await temp.store.commit({});

      await replayed.store.replay([(first as { diff: GraphDiff }).diff]);
      await replayed.store.commit({});
      await replayed.reopen();
      expect(timeOf(await foldInto(replayed.store, create('t2', 1), options(1, 0)))).toBe(7_000);
      await replayed.store.commit({});

      // A fold right after a bulk replay's commit, while it may still be written, reads the head time the replay staged.
      await folded.store.replay([(first as { diff: GraphDiff }).diff]);
      const writing = folded.store.commit({});
      expect(timeOf(await foldInto(folded.store, create('t2', 1), options(1, 0)))).toBe(7_000);
      await writing;
      await folded.store.commit({});
    } finally {
      await Promise.all([temp.close(), replayed.close(), folded.close()]);
    }
  });

  test('graphs keep their own clocks', async () => {
    const temp = await openTempStore();
    try {
      await foldInto(temp.store, create('t1', 7_000), options(0, 0));
      const other = await foldInto(temp.store, { ...create('t1', 5), graph: 'h' }, options(1, 0));
      expect(timeOf(other)).toBe(5);
      await temp.store.commit({});
    } finally {
      await temp.close();
    }
  });
});
