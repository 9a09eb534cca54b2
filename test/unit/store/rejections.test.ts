import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphStore, type StoredRejection } from '../../../processors/store/graph-store';
import { foldInto } from '../../support/fold-loop';

const rejection = (txId: string, offset: number, extra: Partial<StoredRejection> = {}): StoredRejection => ({
  txId,
  code: 'NOT_FOUND',
  message: `instruction 0 (Assign): target of ${txId} does not exist`,
  instructionIndex: 0,
  source: { topic: 'in', partition: 2, offset },
  head: 4,
  time: 1_700_000_000_000_000 + offset,
  ...extra,
});

async function all(store: GraphStore, graph: string, limit?: number): Promise<string[]> {
  const txIds: string[] = [];
  for await (const r of store.rejections(graph, limit === undefined ? {} : { limit })) txIds.push(r.txId);
  return txIds;
}

describe('the store\'s record of rejected txIds', () => {
  let dir: string;
  let store: GraphStore;
  const open = (): Promise<GraphStore> => GraphStore.open(dir, { rocks: { cacheBytes: 1 << 20, writeBufferBytes: 1 << 20 }, cachedAtoms: 100, rejectionsKept: 3 });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'graphfold-rejections-'));
    store = await open();
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a staged rejection is readable once committed, by txId and newest first, per graph; without an instruction index too', async () => {
    store.stageRejection('g', rejection('a', 1));
    store.stageRejection('g', rejection('b', 2, { code: 'STALE_SLICE', instructionIndex: undefined }));
    store.stageRejection('h', rejection('a', 3));
    expect(await store.rejectionOf('g', 'a')).toBeUndefined();
    await store.commit({});
    expect(await store.rejectionOf('g', 'a')).toEqual(rejection('a', 1));
    const b = await store.rejectionOf('g', 'b');
    expect(b?.code).toBe('STALE_SLICE');
    expect(b !== undefined && 'instructionIndex' in b).toBe(false);
    expect(await store.rejectionOf('g', 'c')).toBeUndefined();
    expect(await all(store, 'g')).toEqual(['b', 'a']);
    expect(await all(store, 'h')).toEqual(['a']);
    expect(await all(store, 'g', 1)).toEqual(['b']);
  });

  test('a graph keeps its newest rejections only; a txId rejected again points at the newest; a reopen keeps counting', async () => {
    for (let i = 0; i < 5; i += 1) {
      store.stageRejection('g', rejection(`t${i}`, i));
      await store.commit({});
    }
    expect(await all(store, 'g')).toEqual(['t4', 't3', 't2']);
    expect(await store.rejectionOf('g', 't0')).toBeUndefined();
    expect(await store.rejectionOf('g', 't1')).toBeUndefined();
    await store.close();
    store = await open();
    store.stageRejection('g', rejection('t2', 10, { message: 'again' }));
    await store.commit({});
    expect(await all(store, 'g')).toEqual(['t2', 't4', 't3']);
    expect((await store.rejectionOf('g', 't2'))?.message).toBe('again');
    store.stageRejection('g', rejection('t5', 11));
    await store.commit({});
    expect(await all(store, 'g')).toEqual(['t5', 't2', 't4']);
    expect((await store.rejectionOf('g', 't2'))?.message).toBe('again');
    expect(await store.rejectionOf('g', 't3')).toBeUndefined();
  });

  test('a rejection is written in the WriteBatch of the commit that staged it, with the batch\'s slices and checkpoint', async () => {
    const options = { source: { topic: 'in', partition: 2, offset: 1 }, recordTime: 0, maxInstructions: 10 };
    await foldInto(store, { graph: 'g', txId: 'ok', instructions: [{ op: 'CreateEntity', type: 'Person' }] }, options);
    store.stageRejection('g', rejection('bad', 2));
    const before = store.metrics.writes.batches;
    await store.commit({ changelog: 3, inputs: { in: 3 }, rejections: 7 });
    expect(store.metrics.writes.batches).toBe(before + 1);
    expect(await store.head('g')).toBe(1);
    expect(await store.rejectionOf('g', 'bad')).toEqual(rejection('bad', 2));
    await store.close();
    store = await open();
    expect(store.checkpoint()).toEqual({ changelog: 3, inputs: { in: 3 }, rejections: 7 });
    expect(await store.rejectionOf('g', 'bad')).toEqual(rejection('bad', 2));
  });

  test('a batch that refuses more than a graph keeps writes its newest; a rejection staged after a bulk replay is written with it', async () => {
    for (let i = 0; i < 7; i += 1) store.stageRejection('g', rejection(`t${i}`, i));
    await store.commit({});
    expect(await all(store, 'g')).toEqual(['t6', 't5', 't4']);
    expect(await store.rejectionOf('g', 't1')).toBeUndefined();
    expect(await store.rejectionOf('g', 't3')).toBeUndefined();
    const diff = { graph: 'h', slice: 1, txId: 'x', time: 5, source: { topic: 'in', partition: 2, offset: 9 }, changes: [{ op: 'Created' as const, uid: 'a'.repeat(32), kind: 'entity' as const, type: 'Person' }] };
    await store.replay([diff]);
    store.stageRejection('h', rejection('y', 10));
    await store.commit({});
    expect(await store.head('h')).toBe(1);
    expect(await all(store, 'h')).toEqual(['y']);
  });

  test('discard forgets staged rejections', async () => {
    store.stageRejection('g', rejection('a', 1));
    store.discard();
    await store.commit({});
    expect(await store.rejectionOf('g', 'a')).toBeUndefined();
    expect(await all(store, 'g')).toEqual([]);
  });
});
