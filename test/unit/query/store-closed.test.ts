import { QueryClient } from '../../../processors/query/client';
import { backendOps } from '../../../processors/query/ops-endpoints';
import { QueryServer } from '../../../processors/query/server';
import { foldInto } from '../../support/fold-loop';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

/**
 * A read that meets its partition's store closing under it (a rebalance moved the partition, a
 * failed batch reopens its task) is a 503 the client retries, not a 500 reported as a bug.
 */
describe('the query server, its store closed under a read', () => {
  let temp: TempStore | undefined;
  let server: QueryServer | undefined;
  afterAll(async () => {
    await server?.close();
    await temp?.close();
  });

  test('answers 503 unavailable with Retry-After', async () => {
    temp = await openTempStore();
    await foldInto(temp.store, { graph: 'g', txId: 't1', instructions: [{ op: 'CreateEntity', type: 'Person' }] }, { source: { topic: 'in', partition: 0, offset: 0 }, recordTime: 1_700_000_000_000_000, maxInstructions: 10 });
    await temp.store.commit({});
    server = await QueryServer.listen({ host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 100, maxStreams: 2, maxWaitMs: 1_000, requestTimeoutMs: 10_000 }, backendOps);
    server.serve(new StoreBackend('test', temp.store));
    const client = new QueryClient(server.url);
    expect((await client.get('/v1/graphs/g')).status).toBe(200);
    await temp.store.close();
    const response = await client.get('/v1/graphs/g');
    expect(response.status).toBe(503);
    expect(response.retryAfter).toBe(1);
    expect(response.body).toMatchObject({ error: 'unavailable' });
  });
});
