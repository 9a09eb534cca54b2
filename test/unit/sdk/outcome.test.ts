import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { transactionOutcome } from '../../../processors/sdk/producer';

/**
 * GraphProducer's wait for an outcome, against a tiny local stand-in of the query service's
 * transactions endpoint: the request the SDK makes and how it reads each answer, scripted
 * (outcome-query-server.test.ts asks the real query server).
 */
describe('GraphProducer: awaiting a transaction through the query service', () => {
  let server: Server;
  let url: string;
  const requests: { path: string; auth: string | undefined }[] = [];
  let answers: { status: number; body: unknown; headers?: Record<string, string> }[] = [];

  beforeAll(async () => {
    server = createServer((request: IncomingMessage, response) => {
      requests.push({ path: request.url ?? '', auth: request.headers.authorization });
      const answer = answers.shift() ?? { status: 500, body: { error: 'no answer scripted' } };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  beforeEach(() => {
    requests.length = 0;
    answers = [];
  });

  const tx = { graph: 'acme corp', txId: 'tx/1' };

  test('200 applied (or skipped as a duplicate) is applied, at its slice; the request waits for the txId with a bearer token', async () => {
    answers = [{ status: 200, body: { graph: 'acme corp', slice: 7, head: 7, txId: 'tx/1', status: 'applied', appliedSlice: 7 } }];
    expect(await transactionOutcome({ url: `${url}/`, token: 's3cret' }, tx, '5s')).toEqual({ status: 'applied', graph: 'acme corp', txId: 'tx/1', slice: 7 });
    expect(requests[0]?.path).toMatch(/^\/v1\/graphs\/acme%20corp\/transactions\/tx%2F1\?waitForTx=tx%2F1&wait=\d+ms$/);
    expect(requests[0]?.auth).toBe('Bearer s3cret');
    answers = [{ status: 200, body: { status: 'skipped', appliedSlice: 3 } }];
    expect(await transactionOutcome({ url }, tx, '5s')).toEqual({ status: 'applied', graph: 'acme corp', txId: 'tx/1', slice: 3 });
  });

  test('409 is rejected, with the rejection; 504 is pending at the slice reached', async () => {
    const rejection = { code: 'STALE_SLICE', message: 'expects slice 3', source: { topic: 'in', partition: 0, offset: 9 }, head: 4, time: 1 };
    answers = [{ status: 409, body: { status: 'rejected', rejection } }];
    expect(await transactionOutcome({ url }, tx, '1s')).toEqual({ status: 'rejected', graph: 'acme corp', txId: 'tx/1', rejection });
    answers = [{ status: 504, body: { error: 'timeout', slice: 12 } }];
    expect(await transactionOutcome({ url }, tx, '0ms')).toEqual({ status: 'pending', graph: 'acme corp', txId: 'tx/1', reached: 12 });
  });

  test('a wait longer than the service holds a request asks in requests of at most 30s, again after a 504 before its end', async () => {
    answers = [
      { status: 504, body: { error: 'timeout', slice: 3 } },
      { status: 200, body: { status: 'applied', appliedSlice: 4 } },
    ];
    expect(await transactionOutcome({ url }, tx, '2m')).toEqual({ status: 'applied', graph: 'acme corp', txId: 'tx/1', slice: 4 });
    expect(requests.map((r) => r.path.replace(/.*&wait=/, ''))).toEqual(['30000ms', '30000ms']);
    requests.length = 0;
    answers = [
      { status: 400, body: { error: 'bad_parameter', parameter: 'wait', message: 'wait is a duration up to 10000 ms' } },
      { status: 400, body: { error: 'bad_parameter', parameter: 'wait', message: 'wait is a duration up to 10000 ms' } },
      { status: 200, body: { status: 'applied', appliedSlice: 5 } },
    ];
    expect(await transactionOutcome({ url }, tx, '2m')).toEqual({ status: 'applied', graph: 'acme corp', txId: 'tx/1', slice: 5 });
    expect(requests.map((r) => r.path.replace(/.*&wait=/, ''))).toEqual(['30000ms', '15000ms', '7500ms']);
  });

  test('a graph not known yet (404) or a partition restoring (503) is asked again within the wait', async () => {
    answers = [
      { status: 404, body: { error: 'not_found', message: 'no graph acme corp' } },
      { status: 503, body: { error: 'restoring' }, headers: { 'retry-after': '0' } },
      { status: 200, body: { status: 'applied', appliedSlice: 1 } },
    ];
    expect(await transactionOutcome({ url }, tx, '5s')).toEqual({ status: 'applied', graph: 'acme corp', txId: 'tx/1', slice: 1 });
    expect(requests).toHaveLength(3);
    answers = Array.from({ length: 50 }, () => ({ status: 404, body: { error: 'not_found' } }));
    expect(await transactionOutcome({ url }, tx, '300ms')).toEqual({ status: 'pending', graph: 'acme corp', txId: 'tx/1' });
  });

  test('a bad request is an error that says what the service answered', async () => {
    answers = [{ status: 400, body: { error: 'bad_parameter', parameter: 'txId', message: 'txId must be at most 256 characters' } }];
    await expect(transactionOutcome({ url }, tx, '5s')).rejects.toThrow(`answered 400 about transaction tx/1 of graph acme corp: txId must be at most 256 characters`);
    await expect(transactionOutcome({ url }, tx, 'soon')).rejects.toThrow("wait 'soon' is not a duration such as 5s or 500ms");
  });
});
