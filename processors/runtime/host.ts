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
 */
export async function runTopology(topology: Topology, instrumentation: Instrumentation): Promise<RunningTopology> {
  const processors = topology.processors.map((spec) => new GraphProcessor(topology, spec, instrumentation));
  const stop = async (): Promise<void> => {
    await Promise.all(processors.map((p) => p.stop()));
  };
  try {
    for (const processor of processors) await processor.start();
  } catch (error) {
    await stop();
    throw error;
  }
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
