import type { Instrumentation } from '../instrumentation/events';
import { GraphProcessor } from './graph-processor';
import type { Topology } from './topology';

/** A topology's processors, running. */
export interface RunningTopology {
  /** Settles when every processor has stopped; rejects with the first processor failure. */
  readonly done: Promise<void>;
  /** Stops every processor gracefully (batches in flight finish or abort; stores close). Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts every processor of a topology. If one fails to start, the others are stopped and the
 * error is thrown; if one fails later, the others are stopped and `done` rejects with its error.
 * Aborting `signal` stops them, also while they start (joining the group, retrying the first
 * connection): the start then resolves with a topology that is stopped.
 */
export async function runTopology(topology: Topology, instrumentation: Instrumentation, options: { readonly signal?: AbortSignal } = {}): Promise<RunningTopology> {
  const processors = topology.processors.map((spec) => new GraphProcessor(topology, spec, instrumentation));
  const stop = async (): Promise<void> => {
    await Promise.all(processors.map((p) => p.stop()));
  };
  const { signal } = options;
  let onAbort: () => void = () => undefined;
  // A start may hang in kafkajs (a JoinGroup the coordinator sits on): an abort does not wait for it.
  const aborted = new Promise<'aborted'>((resolve) => {
    onAbort = () => resolve(stop().then(() => 'aborted' as const));
  });
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted === true) onAbort();
  const startAll = async (): Promise<void> => {
    for (const processor of processors) if (signal?.aborted !== true) await processor.start();
  };
  try {
    await Promise.race([startAll(), aborted]);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted === true) await stop();
  const done = Promise.all(processors.map((p) => p.done)).then(
    () => undefined,
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
  done.catch(() => undefined);
  return { done, stop };
}
