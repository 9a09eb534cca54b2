import type { GraphTransaction } from '../../../processors/engine/model';
import { openTempStore } from '../../support/temp-store';
import { foldInto } from '../../support/fold-loop';

const graph = 'g';
const uid = (c: string): string => c.repeat(32);

describe('queries through the read cache', () => {
  test('a query after a write sees the write: heads, records, inline and spilled relations', async () => {
    const temp = await openTempStore(100);
    try {
      const { store } = temp;
      let offset = 0;
      const apply = async (instructions: GraphTransaction['instructions']): Promise<void> => {
        const result = await foldInto(store, { graph, txId: `t${offset}`, instructions }, { source: { topic: 'in', partition: 0, offset: offset++ }, recordTime: 0, maxInstructions: 100 });
        expect(result.outcome).toBe('applied');
        await store.commit({});
      };
      const knows = (target: string, relation: string): GraphTransaction['instructions'][number] => ({ op: 'CreateRelation', uid: uid(relation), type: 'Knows', source: { uid: uid('a') }, target: { uid: uid(target) } });

      await apply(['a', 'b', 'c', 'd', 'e'].map((c) => ({ op: 'CreateEntity' as const, uid: uid(c), type: 'Person' })));
      expect(await store.head(graph)).toBe(1);
      await apply([knows('b', '1')]);
      expect(await store.head(graph)).toBe(2);
      // Warm the cache, then change what it holds: a's out-relations (inline at first; the small
      // layout spills them past two), and b's record (terminated).
      expect((await store.neighbourhood(graph, uid('a'), 1)).sort()).toEqual([uid('a'), uid('b')]);
      expect(await store.relationsAt(graph, uid('a'), 'out')).toHaveLength(1);
      await apply([knows('c', '2'), knows('d', '3')]);
      expect((await store.neighbourhood(graph, uid('a'), 1)).sort()).toEqual([uid('a'), uid('b'), uid('c'), uid('d')]);
      expect(await store.relationsAt(graph, uid('a'), 'out')).toHaveLength(3);
      await apply([knows('e', '4')]);
      expect((await store.neighbourhood(graph, uid('a'), 1)).sort()).toEqual([uid('a'), uid('b'), uid('c'), uid('d'), uid('e')]);
      await apply([{ op: 'Terminate', target: { uid: uid('b') } }]);
      expect(await store.atomAt(graph, uid('b'))).toBeUndefined();
      expect((await store.neighbourhood(graph, uid('a'), 1)).sort()).toEqual([uid('a'), uid('c'), uid('d'), uid('e')]);
      expect((await store.neighbourhood(graph, uid('a'), 1, 2)).sort()).toEqual([uid('a'), uid('b')]);
      expect(await store.neighbourhood(graph, uid('b'), 1)).toEqual([]);
    } finally {
      await temp.close();
    }
  });
});
