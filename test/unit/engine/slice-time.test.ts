import type { FoldOptions, FoldResult } from '../../../processors/engine/fold';
import type { GraphDiff, GraphTransaction } from '../../../processors/engine/model';
import { openTempStore } from '../../support/temp-store';

const options = (offset: number, recordTime: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime, maxInstructions: 100 });
const create = (txId: string, time?: number): GraphTransaction => ({ graph: 'g', txId, ...(time === undefined ? {} : { time }), instructions: [{ op: 'CreateEntity', type: 'Person' }] });
const timeOf = (result: FoldResult): number => (result.outcome === 'applied' ? result.diff.time : Number.NaN);

describe('slice times never decrease within a graph', () => {
  test('a transaction stamped before the head is stamped with the head time; a later one keeps its own', async () => {
    const temp = await openTempStore();
    try {
      expect(timeOf(await temp.store.fold(create('t1', 3_000), options(0, 0)))).toBe(3_000);
      expect(timeOf(await temp.store.fold(create('t2', 5), options(1, 0)))).toBe(3_000);
      expect(timeOf(await temp.store.fold(create('t3'), options(2, 1_000)))).toBe(3_000);
      expect(timeOf(await temp.store.fold(create('t4'), options(3, 9_000)))).toBe(9_000);
      await temp.store.commit({});
    } finally {
      await temp.close();
    }
  });

  test('the head time survives a commit, a reopen and a replay of the changelog', async () => {
    const temp = await openTempStore();
    const replayed = await openTempStore();
    try {
      const first = await temp.store.fold(create('t1', 7_000), options(0, 0));
      await temp.store.commit({});
      await temp.reopen();
      expect(timeOf(await temp.store.fold(create('t2', 1), options(1, 0)))).toBe(7_000);
      await temp.store.commit({});

      await replayed.store.replay([(first as { diff: GraphDiff }).diff]);
      await replayed.store.commit({});
      await replayed.reopen();
      expect(timeOf(await replayed.store.fold(create('t2', 1), options(1, 0)))).toBe(7_000);
      await replayed.store.commit({});
    } finally {
      await Promise.all([temp.close(), replayed.close()]);
    }
  });

  test('graphs keep their own clocks', async () => {
    const temp = await openTempStore();
    try {
      await temp.store.fold(create('t1', 7_000), options(0, 0));
      const other = await temp.store.fold({ ...create('t1', 5), graph: 'h' }, options(1, 0));
      expect(timeOf(other)).toBe(5);
      await temp.store.commit({});
    } finally {
      await temp.close();
    }
  });
});
