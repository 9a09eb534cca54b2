import type { ServerResponse } from 'node:http';
import { jsonReplacer } from '../codec/json';
import type { QueryBackend } from './backend';
import type { GraphReads } from './reads';

/** How often an idle stream sends a comment, so proxies and clients know it lives. */
const keepAliveMs = 15_000;
/** The reconnection delay the stream suggests to EventSource clients. */
const retryMs = 1_000;

export interface ChangesRequest {
  readonly processor: string;
  readonly graph: string;
  readonly partition: number;
  /** The first slice to send; undefined: a snapshot at the head first, then the diffs after it. */
  readonly from: number | undefined;
  readonly servedBy: string;
}

/**
 * A graph's changes as server-sent events, written to `out` until the client leaves or the
 * partition leaves this instance:
 * 1. without a start slice, one `snapshot` event (id: the head) with every atom alive at the head;
 * 2. every diff from the start slice (or after the snapshot) to the head, in order, one `diff`
 *    event each with `id: <slice>`, so `Last-Event-ID` resumes with no gap and no duplicate;
 * 3. then each new diff as its batch is written to the store;
 * 4. when the partition moves (rebalance, the task closed), a `moved` event and the end; the
 *    client reconnects through any instance with its Last-Event-ID.
 */
export async function streamChanges(backend: QueryBackend, reads: GraphReads, request: ChangesRequest, out: ServerResponse): Promise<void> {
  out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no', 'graphfold-served-by': request.servedBy });
  let closed = false;
  let wake: () => void = () => undefined;
  const onClose = (): void => {
    closed = true;
    wake();
  };
  out.once('close', onClose);
  // Set by every write, so one that lands while the loop reads (before it sleeps) is not missed.
  let written = false;
  const unsubscribe = backend.onWritten(request.processor, request.partition, () => {
    written = true;
    wake();
  });
  const write = async (text: string): Promise<void> => {
    if (out.write(text)) return;
    await new Promise<void>((resolve) => {
      out.once('drain', resolve);
      out.once('close', resolve);
    });
  };
  try {
    await write(`retry: ${retryMs}\n\n`);
    let next = request.from;
    if (next === undefined) {
      const head = await reads.head(request.graph);
      const atoms = [];
      for await (const atom of reads.snapshot(request.graph, head)) atoms.push(atom);
      await write(event('snapshot', head, { graph: request.graph, slice: head, head, atoms }));
      next = head + 1;
    }
    while (!closed) {
      written = false;
      const here = backend.locate(request.processor, request.graph);
      if (here?.where !== 'local' || here.reads !== reads) {
        await write(`event: moved\ndata: ${JSON.stringify({ graph: request.graph, partition: request.partition, message: 'the graph\'s partition left this instance: reconnect with Last-Event-ID, through any instance' })}\n\n`);
        break;
      }
      const head = await reads.head(request.graph);
      if (next <= head) {
        for await (const diff of reads.diffs(request.graph, next, head)) {
          if (closed) break;
          await write(event('diff', diff.slice, diff));
          next = diff.slice + 1;
        }
        continue;
      }
      if (written) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          out.write(': keep-alive\n\n');
          resolve();
        }, keepAliveMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } catch (error) {
    // The store closed under the stream (its partition moved or its task failed): end it; the client resumes elsewhere.
    if (!closed) out.write(`event: moved\ndata: ${JSON.stringify({ graph: request.graph, message: `the stream ended: ${(error as Error).message}; reconnect with Last-Event-ID` })}\n\n`);
  } finally {
    unsubscribe();
    out.off('close', onClose);
    out.end();
  }
}

function event(name: string, id: number, data: unknown): string {
  return `id: ${id}\nevent: ${name}\ndata: ${JSON.stringify(data, jsonReplacer)}\n\n`;
}
