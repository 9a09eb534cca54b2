import type { FoldOptions } from '../../../processors/engine/fold';
import type { GraphTransaction } from '../../../processors/engine/model';
import { entryOf, lastSliceWhere } from '../../../processors/store/slice-search';
import { foldInto } from '../../support/fold-loop';
import { openTempStore, type TempStore } from '../../support/temp-store';

const graph = 'g';
const options = (offset: number, recordTime: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime, maxInstructions: 10 });
const person = (n: number): string => n.toString(16).padStart(32, '0');

describe('an atom\'s lifetime and the search of the slice log', () => {
  let temp: TempStore;
  beforeAll(async () => {
    // The small layout's buckets of 3 slices: the searches cross several slice-log entries.
    temp = await openTempStore();
    for (let n = 1; n <= 20; n += 1) {
      const tx: GraphTransaction = { graph, txId: `t${n}`, time: n * 1_000, instructions: [{ op: 'CreateEntity', uid: person(n), type: 'Person' }] };
      await foldInto(temp.store, tx, options(10 * n, 0));
    }
    await foldInto(temp.store, { graph, txId: 'end', time: 30_000, instructions: [{ op: 'Terminate', target: { uid: person(3) } }] }, options(300, 0));
    await temp.store.commit({});
  });
  afterAll(() => temp.close());

  test('lifetimeOf gives kind, type, creation and termination whatever the slice; nothing for a uid never created', async () => {
    expect(await temp.store.lifetimeOf(graph, person(3))).toEqual({ kind: 'entity', type: 'Person', created: 3, terminated: 21 });
    expect(await temp.store.lifetimeOf(graph, person(4))).toEqual({ kind: 'entity', type: 'Person', created: 4 });
    expect(await temp.store.lifetimeOf(graph, person(99))).toBeUndefined();
    expect(await temp.store.lifetimeOf('other', person(4))).toBeUndefined();
  });

  test('lastSliceWhere finds the last slice of a prefix predicate (as of a time, before an offset); entryOf reads one slice', async () => {
    const head = await temp.store.head(graph);
    expect(head).toBe(21);
    expect(await lastSliceWhere(temp.store, graph, head, (info) => info.time <= 7_500)).toBe(7);
    expect(await lastSliceWhere(temp.store, graph, head, (info) => info.time <= 20_000)).toBe(20);
    expect(await lastSliceWhere(temp.store, graph, head, (info) => info.time <= 999)).toBe(0);
    expect(await lastSliceWhere(temp.store, graph, head, () => true)).toBe(21);
    expect(await lastSliceWhere(temp.store, graph, head, (info) => info.source.offset < 125)).toBe(12);
    expect(await entryOf(temp.store, graph, 9)).toEqual({ slice: 9, txId: 't9', time: 9_000, source: { topic: 'in', partition: 0, offset: 90 } });
    expect(await entryOf(temp.store, graph, 22)).toBeUndefined();
  });
});
