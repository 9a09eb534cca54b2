import type { Location } from '../../../processors/query/backend';
import { QueryClient, type ChangeEvent } from '../../../processors/query/client';
import { backendOps } from '../../../processors/query/ops-endpoints';
import type { GraphReads } from '../../../processors/query/reads';
import { QueryServer } from '../../../processors/query/server';
import type { FoldOptions } from '../../../processors/engine/fold';
import { foldInto } from '../../support/fold-loop';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

const options = (offset: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime: 1_700_000_000_000_000 + offset, maxInstructions: 10 });

/**
 * A backend whose reads let a batch be written (and announced) while the changes stream reads
 * the head for the `at`-th time: the write lands after the head was read and before the stream
 * waits for the next write.
 */
class RacingBackend extends StoreBackend {
  write: (() => Promise<void>) | undefined;
  at = 2;
  private heads = 0;
  private racing: GraphReads | undefined;

  override locate(processor: string): Location | undefined {
    const location = super.locate(processor);
    if (location?.where !== 'local') return location;
    if (this.racing === undefined) {
      const reads = location.reads;
      const racing = Object.create(reads) as GraphReads;
      racing.head = async (graph: string): Promise<number> => {
        const head = await reads.head(graph);
        this.heads += 1;
        if (this.heads === this.at) await this.write?.();
        return head;
      };
      this.racing = racing;
    }
    return { ...location, reads: this.racing };
  }
}

describe('the changes stream, a write racing its read of the head', () => {
  let temp: TempStore | undefined;
  let server: QueryServer | undefined;
  afterAll(async () => {
    await server?.close();
    await temp?.close();
  });

  test('sends the diff of a batch written while it read the head, without waiting for the keep-alive', async () => {
    temp = await openTempStore();
    const store = temp.store;
    await foldInto(store, { graph: 'g', txId: 't1', instructions: [{ op: 'CreateEntity', type: 'Person' }] }, options(0));
    await store.commit({});
    const backend = new RacingBackend('test', store);
    server = await QueryServer.listen({ host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 100, maxStreams: 2, maxWaitMs: 1_000, requestTimeoutMs: 10_000 }, backendOps);
    server.serve(backend);
    const client = new QueryClient(server.url);
    const controller = new AbortController();
    const events: { readonly id: number | undefined; readonly at: number }[] = [];
    let written = 0;
    // The stream reads the head (1), sends slice 1, reads the head again (1: nothing new), and
    // meanwhile slice 2 is written and announced.
    backend.write = async () => {
      await foldInto(store, { graph: 'g', txId: 't2', instructions: [{ op: 'CreateEntity', type: 'Company' }] }, options(1));
      await store.commit({});
      written = Date.now();
      backend.written();
    };
    const following = client.follow('g', {
      fromSlice: 1,
      signal: controller.signal,
      onEvent: (e: ChangeEvent) => {
        events.push({ id: e.id, at: Date.now() });
        return e.id !== 2;
      },
    });
    const timeout = setTimeout(() => controller.abort(), 10_000);
    await following;
    clearTimeout(timeout);
    expect(events.map((e) => e.id)).toEqual([1, 2]);
    // Without the race handled, the stream slept until its 15 s keep-alive (this test's 10 s abort).
    expect((events[1]?.at ?? Infinity) - written).toBeLessThan(2_000);
  }, 30_000);
});
