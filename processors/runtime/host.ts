import { rm } from 'node:fs/promises';
import type { Instrumentation } from '../instrumentation/events';
import { backendOps, type OpsEndpoints } from '../query/ops-endpoints';
import { RuntimeBackend } from '../query/runtime-backend';
import { QueryServer } from '../query/server';
import type { QueryBackend } from '../query/backend';
import { Follower } from './follower';
import { GraphProcessor } from './graph-processor';
import { snapshotStagingDirectory, type Topology } from './topology';

/** A topology's processors, running. */
export interface RunningTopology {
  /** The query API, when the topology configures one: its advertised URL and instance id. */
  readonly query?: { readonly url: string; readonly instance: string };
  /** Settles when every processor has stopped; rejects with the first processor failure. */
  readonly done: Promise<void>;
  /** Stops every processor gracefully (batches in flight finish or abort; stores close). Idempotent. */
  stop(): Promise<void>;
}

export interface RunOptions {
  /** `followers`: only the topology's followers (`graphfold follow`). @default 'all' (processors and followers) */
  readonly only?: 'all' | 'followers';
  /** The operations endpoints the query server mounts. @default a minimal set from the processors' partitions */
  readonly ops?: (backend: () => QueryBackend | undefined) => OpsEndpoints;
  /**
   * Aborting it stops the topology, also while it starts (joining the group, retrying the first
   * connection): the start then resolves with a topology that is stopped.
   */
  readonly signal?: AbortSignal;
}

/**
 * Starts every processor and follower of a topology, and its query API when it has one (listening first, so
 * that each processor advertises its URL to its group). If one fails to start, the others are
 * stopped and the error is thrown; if one fails later, the others are stopped and `done` rejects
 * with its error. Aborting `options.signal` stops them, also while they start.
 */
export async function runTopology(topology: Topology, instrumentation: Instrumentation, options: RunOptions = {}): Promise<RunningTopology> {
  // Copies a killed process left half-way to the snapshot store.
  if (topology.snapshots !== undefined) await rm(snapshotStagingDirectory(topology), { recursive: true, force: true });
  const server =
    topology.query === undefined
      ? undefined
      : await QueryServer.listen(topology.query, options.ops ?? backendOps, { onError: (error, request) => instrumentation.emit('query.failed', { ...request, error }) });
  const member = server === undefined ? undefined : { instance: server.instance, query: server.url };
  const processors: (GraphProcessor | Follower)[] = [
    ...(options.only === 'followers' ? [] : topology.processors.map((spec) => new GraphProcessor(topology, spec, instrumentation, member))),
    ...topology.followers.map((spec) => new Follower(topology, spec, instrumentation, member)),
  ];
  const backend = server === undefined ? undefined : new RuntimeBackend(server.instance, processors, instrumentation, topology.query as NonNullable<Topology['query']>);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await server?.close();
      backend?.close();
      await Promise.all(processors.map((p) => p.stop()));
    })());
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
  else if (server !== undefined && backend !== undefined) {
    server.serve(backend);
    instrumentation.emit('query.started', { url: server.url, instance: server.instance, authenticated: topology.query?.token !== undefined });
  }
  const done = Promise.all(processors.map((p) => p.done)).then(
    () => undefined,
    async (error: unknown) => {
      await stop();
      throw error;
    },
  );
  done.catch(() => undefined);
  return { done, stop, ...(server === undefined ? {} : { query: { url: server.url, instance: server.instance } }) };
}
