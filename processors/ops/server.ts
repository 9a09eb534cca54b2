import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classify } from '../errors';
import type { OpsEndpoints } from './endpoints';

/** A running standalone ops server. */
export interface OpsServer {
  /** `http://host:port`, the port the server got (also when asked for 0). */
  readonly url: string;
  /** Stops listening and closes open connections. Idempotent. */
  close(): Promise<void>;
}

/**
 * A small HTTP server (node:http) of `/metrics` (Prometheus text), `/healthz` and `/readyz` (JSON;
 * 200 when ok, 503 when not), for an instance that serves no query API. GET and HEAD only; no
 * authentication (bind it to a private address).
 */
export async function startOpsServer(endpoints: OpsEndpoints, listen: { readonly host: string; readonly port: number }): Promise<OpsServer> {
  const server = createServer((request, response) => {
    void answer(endpoints, request, response).catch((error: unknown) => {
      if (!response.headersSent) json(response, 500, { error: 'internal', message: classify(error).message });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(classify(error, { doing: `serve /metrics, /healthz and /readyz on ${listen.host}:${listen.port} (ops.listen)` })));
    server.listen(listen.port, listen.host, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${address.includes(':') ? `[${address}]` : address}:${port}`,
    close: () =>
      (closed ??= new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
}

async function answer(endpoints: OpsEndpoints, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://ops').pathname;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    json(response, 405, { error: 'method_not_allowed', message: `${request.method ?? '?'} is not served here: use GET` });
    return;
  }
  switch (path) {
    case '/metrics': {
      const { contentType, body } = await endpoints.metrics();
      response.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' });
      response.end(request.method === 'HEAD' ? undefined : body);
      return;
    }
    case '/healthz': {
      const live = endpoints.live();
      json(response, live.ok ? 200 : 503, live);
      return;
    }
    case '/readyz': {
      const ready = endpoints.ready();
      json(response, ready.ok ? 200 : 503, ready);
      return;
    }
    default:
      json(response, 404, { error: 'not_found', message: `no ${path} here: /metrics, /healthz and /readyz are` });
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  response.end(`${JSON.stringify(body)}\n`);
}
