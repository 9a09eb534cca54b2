import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { QueryError } from './query-error';

/** The header a forwarded request carries: the instance that forwarded it (one hop at most). */
export const forwardedByHeader = 'graphfold-forwarded-by';
/** The header every answer carries: the instance that answered. */
export const servedByHeader = 'graphfold-served-by';

/** Headers passed on to the owner, and back from it. */
const requestHeaders = ['authorization', 'accept', 'last-event-id'] as const;
const answerHeaders = ['content-type', 'retry-after', 'cache-control', 'server-timing', servedByHeader] as const;

export interface ForwardTarget {
  readonly url: string;
  readonly instance: string;
  readonly partition: number;
}

/**
 * Answers a request with the owner's answer: the same path and query sent to the instance that
 * owns the graph's partition, its status, headers (`graphfold-served-by` names the owner) and
 * body streamed back (so a changes stream flows through). A request that was forwarded already is
 * not forwarded again (the two instances' maps disagree during a rebalance): 503, ask again.
 */
export async function forward(request: FastifyRequest, reply: FastifyReply, target: ForwardTarget, self: string, timeoutMs: number | undefined): Promise<void> {
  if (request.headers[forwardedByHeader] !== undefined) {
    throw new QueryError('unavailable', `partition ${target.partition} is moving between instances (a rebalance); ask again`, { retryAfterSeconds: 1 });
  }
  const headers: Record<string, string> = { [forwardedByHeader]: self };
  for (const name of requestHeaders) {
    const value = request.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const abort = new AbortController();
  const onClose = (): void => abort.abort();
  request.raw.once('close', onClose);
  const timer = timeoutMs === undefined ? undefined : setTimeout(() => abort.abort(), timeoutMs);
  let answer: Response;
  try {
    answer = await fetch(`${target.url}${request.url}`, { headers, signal: abort.signal });
  } catch (error) {
    clearTimeout(timer);
    request.raw.off('close', onClose);
    throw new QueryError(
      'unavailable',
      `the owner of partition ${target.partition}, instance ${target.instance} at ${target.url}, does not answer (${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}); if it crashed, the group moves its partitions after the session timeout: ask again`,
      { retryAfterSeconds: 2 },
    );
  }
  const streaming = answer.headers.get('content-type')?.startsWith('text/event-stream') === true;
  if (streaming) clearTimeout(timer);
  reply.hijack();
  const out: Record<string, string> = {};
  for (const name of answerHeaders) {
    const value = answer.headers.get(name);
    if (value !== null) out[name] = value;
  }
  out[servedByHeader] ??= target.instance;
  reply.raw.writeHead(answer.status, out);
  if (answer.body === null) {
    reply.raw.end();
    return;
  }
  const body = Readable.fromWeb(answer.body as ReadableStream<Uint8Array>);
  body.on('error', () => reply.raw.destroy());
  body.on('end', () => {
    clearTimeout(timer);
    request.raw.off('close', onClose);
  });
  body.pipe(reply.raw);
}
