import type { FoldOptions } from '../../../processors/engine/fold';
import type { GraphTransaction } from '../../../processors/engine/model';
import { backendOps } from '../../../processors/query/ops-endpoints';
import { QueryServer } from '../../../processors/query/server';
import { Secret } from '../../../processors/runtime/secret';
import type { QuerySpec } from '../../../processors/runtime/topology';
import { transactionOutcome } from '../../../processors/sdk/producer';
import { foldInto } from '../../support/fold-loop';
import { StoreBackend } from '../../support/store-backend';
import { openTempStore, type TempStore } from '../../support/temp-store';

/**
 * GraphProducer's wait for an outcome against the real query server over a real store (no
 * broker: the test backend serves the store, and `written()` plays a batch being written), the
 * seam between the SDK and the transactions endpoint: applied, skipped, rejected with the record
 * the store kept, pending, and applied while the request waits.
 */
const graph = 'acme corp';
const spec: QuerySpec = { host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 100, maxStreams: 2, maxWaitMs: 2_000, requestTimeoutMs: 20_000, token: new Secret('a-token-of-sixteen-chars') };
const options = (offset: number): FoldOptions => ({ source: { topic: 'in', partition: 0, offset }, recordTime: 1_700_000_000_000_000 + offset, maxInstructions: 10 });
const entity = (txId: string, uid: string): GraphTransaction => ({ graph, txId, instructions: [{ op: 'CreateEntity', uid, type: 'Customer' }] });
const u = (c: string): string => c.repeat(32);

describe('GraphProducer: awaiting a transaction through the real query server', () => {
  let temp: TempStore;
  let server: QueryServer;
  let backend: StoreBackend;
  let offset = 0;
  const query = (): { url: string; token: string } => ({ url: server.url, token: (spec.token as Secret).reveal() });

  const fold = async (tx: GraphTransaction): Promise<void> => {
    const result = await foldInto(temp.store, tx, options(offset));
    if (result.outcome === 'refused') {
      const { error } = result;
      temp.store.stageRejection(graph, { txId: tx.txId, code: error.code, message: error.message, ...(error.instructionIndex === undefined ? {} : { instructionIndex: error.instructionIndex }), source: options(offset).source, head: error.context.slice ?? 0, time: options(offset).recordTime });
    }
    offset += 1;
  };

  beforeAll(async () => {
    temp = await openTempStore();
    await fold(entity('created', u('a')));
    await fold({ graph, txId: 'no-op', instructions: [{ op: 'Assign', target: { uid: u('f') }, value: { type: 'String', value: 'x' } }] });
    await fold({ graph, txId: 'merge', instructions: [{ op: 'Merge', uid: u('a'), kind: 'entity', type: 'Customer' }] });
    await temp.store.commit({});
    backend = new StoreBackend('test-instance', temp.store);
    server = await QueryServer.listen(spec, backendOps);
    server.serve(backend);
  });

  afterAll(async () => {
    await server.close();
    await temp.close();
  });

  test('applied at its slice; a transaction that changed nothing counts as applied; a rejected one carries what the store kept', async () => {
    expect(await transactionOutcome(query(), { graph, txId: 'created' }, '1s')).toEqual({ status: 'applied', graph, txId: 'created', slice: 1 });
    expect(await transactionOutcome(query(), { graph, txId: 'merge' }, '1s')).toEqual({ status: 'applied', graph, txId: 'merge', slice: null });
    const rejected = await transactionOutcome(query(), { graph, txId: 'no-op' }, '1s');
    expect(rejected).toMatchObject({ status: 'rejected', graph, txId: 'no-op', rejection: { code: 'NOT_FOUND', instructionIndex: 0, source: { topic: 'in', partition: 0, offset: 1 }, head: 1, time: 1_700_000_000_000_001 } });
  });

  test('unknown until the wait ends is pending; a wait past the server\'s bound is asked again; applied while it waits', async () => {
    expect(await transactionOutcome(query(), { graph, txId: 'later' }, '300ms')).toMatchObject({ status: 'pending', graph, txId: 'later' });
    const waiting = transactionOutcome(query(), { graph, txId: 'later' }, '10s');
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // past maxWaitMs: the service refused 30 s to 3.75 s, took 1.875 s and ended it in 504
    await fold(entity('later', u('b')));
    await temp.store.commit({});
    backend.written();
    expect(await waiting).toEqual({ status: 'applied', graph, txId: 'later', slice: 2 });
  });
});
