import type { GraphTransaction } from '../../../processors/engine/model';
import type { Location } from '../../../processors/query/backend';
import { QueryClient } from '../../../processors/query/client';
import { backendOps } from '../../../processors/query/ops-endpoints';
import { QueryServer } from '../../../processors/query/server';
import type { QuerySpec } from '../../../processors/runtime/topology';
import { workload } from '../../bench/workload';
import { foldInto } from '../../support/fold-loop';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

const spec: QuerySpec = { host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 500, maxStreams: 3, maxWaitMs: 30_000, requestTimeoutMs: 20_000 };

/**
 * A backend whose partition 0 is served by a standby replica `lagSlices` behind: locally, or as
 * the fallback of an owner elsewhere (`ownerUrl`) that may not answer.
 */
class StandbyBackend extends StoreBackend {
  lagSlices = 3;
  ownerUrl: string | undefined;

  override locate(processor: string): Location | undefined {
    const local = super.locate(processor);
    if (local?.where !== 'local') return local;
    const standby = { ...local, standby: { position: 120, lagSlices: this.lagSlices } };
    if (this.ownerUrl === undefined) return standby;
    return { where: 'remote', processor, partition: 0, instance: 'owner', url: this.ownerUrl, standby };
  }
}

describe('reads served by a standby replica', () => {
  let temp: TempStore;
  let server: QueryServer;
  let backend: StandbyBackend;
  let client: QueryClient;
  let head = 0;

  beforeAll(async () => {
    temp = await openTempStore();
    const stream = workload({ seed: 3, graphs: 1, graphPrefix: 'sb-' });
    for (let offset = 0; offset < 40; offset += 1) {
      const tx = stream.next().value as GraphTransaction;
      const result = await foldInto(temp.store, { ...tx, graph: 'g' }, { source: { topic: 'in', partition: 0, offset }, recordTime: 1_700_000_000_000_000 + offset, maxInstructions: 100 });
      if (result.outcome === 'applied') head += 1;
    }
    await temp.store.commit({});
    backend = new StandbyBackend('backend', temp.store);
    server = await QueryServer.listen(spec, backendOps);
    server.serve(backend);
    client = new QueryClient(server.url);
  });

  afterAll(async () => {
    await server.close();
    await temp.close();
  });

  test('the answer says a standby served it: the changelog offset it reflects and at most how many slices behind it may be', async () => {
    backend.ownerUrl = undefined;
    const answer = await client.get('/v1/graphs/g');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ graph: 'g', slice: head, head, standby: { instance: server.instance, position: 120, lagSlices: 3 } });
    const atoms = await client.get('/v1/graphs/g/atoms', { asOf: 1, limit: 10 });
    expect(atoms.body['standby']).toEqual({ instance: server.instance, position: 120, lagSlices: 3 });
  });

  test('maxLagSlices refuses a standby that may be further behind: 409 stale, with its lag; one within it answers', async () => {
    backend.ownerUrl = undefined;
    const refused = await client.get('/v1/graphs/g', { maxLagSlices: 2 });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ error: 'stale', graph: 'g', partition: 0, standby: { instance: server.instance, lagSlices: 3 } });
    expect(String(refused.body['message'])).toMatch(/maxLagSlices=2/);
    expect((await client.get('/v1/graphs/g', { maxLagSlices: 3 })).status).toBe(200);
    expect((await client.get('/v1/graphs/g', { maxLagSlices: -1 })).status).toBe(400);
  });

  test('an owner elsewhere that does not answer (crashed) is replaced by the local standby', async () => {
    backend.ownerUrl = 'http://127.0.0.1:9'; // nothing listens on the discard port
    const answer = await client.get('/v1/graphs/g');
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ head, standby: { instance: server.instance, lagSlices: 3 } });
    const waited = await client.get('/v1/graphs/g', { waitForSlice: head, wait: '1s' });
    expect([waited.status, waited.body['slice']]).toEqual([200, head]);
  });
});
