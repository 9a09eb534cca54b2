import type { Location, QueryBackend } from './backend';
import { QueryError } from './query-error';
import type { GraphReads } from './reads';

/** What a read-your-writes request waits for. */
export type WaitTarget = { readonly slice: number } | { readonly txId: string };

/** How often a wait looks again without a write signal (a signal may be missed across a reopen). */
const recheckMs = 1_000;

/**
 * Holds a read until the graph has a slice or has applied a txId, then returns the slice to read
 * as of: the slice asked for, or the slice the transaction made (the head, for a transaction that
 * changed nothing). A rejected txId answers at once: 409 with what the transactions endpoint says.
 * After `timeoutMs`, 504 naming the slice reached. If the partition leaves this instance while
 * waiting, 503: the client asks again, through any instance.
 */
export async function waitFor(backend: QueryBackend, processor: string, graph: string, target: WaitTarget, timeoutMs: number, closed: AbortSignal, viaStandby = false): Promise<number> {
  // A read served by this instance's standby replica (its owner elsewhere does not answer) waits on the replica.
  const locate = (): Location | undefined => {
    const location = backend.locate(processor, graph);
    return location?.where === 'remote' && viaStandby ? location.standby : location;
  };
  const first = locate();
  if (first?.where !== 'local') throw new QueryError('unavailable', `graph '${graph}' is not served here any more; ask again`, { retryAfterSeconds: 1 });
  const deadline = Date.now() + timeoutMs;
  let wake: () => void = () => undefined;
  // Set by every write, so one that lands while the loop checks (before it sleeps) is not missed.
  let written = false;
  const unsubscribe = backend.onWritten(processor, first.partition, () => {
    written = true;
    wake();
  });
  try {
    for (;;) {
      written = false;
      const here = locate();
      if (here?.where !== 'local') throw new QueryError('unavailable', `graph '${graph}' moved to another instance while the request waited; ask again`, { retryAfterSeconds: 1 });
      const reached = await check(here.reads, graph, target);
      if (reached.done) return reached.slice;
      const left = deadline - Date.now();
      if (left <= 0 || closed.aborted) {
        const what = 'slice' in target ? `slice ${target.slice}` : `transaction ${target.txId}`;
        throw new QueryError('timeout', `graph '${graph}' did not reach ${what} within ${timeoutMs} ms; it is at slice ${reached.slice} (a longer wait=, up to 30s, or ask again)`, {
          body: { graph, slice: reached.slice, head: reached.slice },
        });
      }
      if (written) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, recheckMs));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  } finally {
    unsubscribe();
  }
}

async function check(reads: GraphReads, graph: string, target: WaitTarget): Promise<{ readonly done: boolean; readonly slice: number }> {
  if ('slice' in target) {
    const head = await reads.head(graph);
    return { done: head >= target.slice, slice: head >= target.slice ? target.slice : head };
  }
  const tx = await reads.transaction(graph, target.txId);
  switch (tx.status) {
    case 'applied':
      return { done: true, slice: tx.appliedSlice as number };
    case 'skipped':
      return { done: true, slice: tx.head };
    case 'rejected':
      throw new QueryError('rejected', `transaction ${target.txId} of graph '${graph}' was rejected: ${tx.rejection?.code}: ${tx.rejection?.message}`, { body: { ...tx } });
    default:
      return { done: false, slice: tx.head };
  }
}
