import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Kafka } from 'kafkajs';
import { quantile } from './table';

/** One kind of query over HTTP, measured by autocannon at a fixed rate and concurrency. */
export interface QueryTiming {
  readonly kind: 'point read' | '2-hop';
  /** Whether the processor was ingesting meanwhile (the target's condition), or idle (the server's overhead alone). */
  readonly ingesting: boolean;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly errors: number;
  /** Client-side latency, from autocannon's timings (milliseconds, sub-millisecond precision). */
  readonly http: { readonly p50Ms: number; readonly p99Ms: number };
  /** The same reads in-process: the server's own time in the read (its Server-Timing header), under the same load. */
  readonly inProcess: { readonly p50Ms: number; readonly p99Ms: number };
}

export interface QueryBench {
  readonly ingestRate: number;
  readonly connections: number;
  readonly rate: number;
  readonly slice: 'old';
  readonly timings: readonly QueryTiming[];
}

export interface QueryBenchOptions {
  readonly url: string;
  readonly graphs: readonly string[];
  /** Requests per second autocannon holds, over `connections` connections. */
  readonly rate: number;
  readonly connections: number;
  readonly seconds: number;
  /** Transactions per second fed to the processor meanwhile, and how. */
  readonly ingestRate: number;
  readonly feed: (kafka: Kafka, rate: number, signal: AbortSignal) => Promise<void>;
  readonly kafka: Kafka;
}

/**
 * The query API under load: while the processor ingests at `ingestRate`, point reads and 2-hop
 * neighbourhoods as of an old slice (half way to each graph's head), over HTTP at a fixed rate
 * and concurrency (autocannon), each query a random start atom of a random graph; beside each
 * request's in-process read time as the server reports it (`server-timing: read;dur=<ms>`).
 * Every answer must be 200.
 */
export async function measureQueries(options: QueryBenchOptions): Promise<QueryBench> {
  const paths = await queryPaths(options.url, options.graphs);
  const timings: QueryTiming[] = [];
  for (const kind of ['point read', '2-hop'] as const) timings.push(await load(options, kind, false, kind === 'point read' ? paths.point : paths.twoHop));
  const stop = new AbortController();
  const feeding = options.feed(options.kafka, options.ingestRate, stop.signal);
  try {
    await sleep(2_000);
    for (const kind of ['point read', '2-hop'] as const) timings.push(await load(options, kind, true, kind === 'point read' ? paths.point : paths.twoHop));
    return { ingestRate: options.ingestRate, connections: options.connections, rate: options.rate, slice: 'old', timings };
  } finally {
    stop.abort();
    await feeding.catch(() => undefined);
  }
}

async function load(options: QueryBenchOptions, kind: QueryTiming['kind'], ingesting: boolean, paths: readonly string[]): Promise<QueryTiming> {
  const latencies: number[] = [];
  const reads: number[] = [];
  let next = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: options.url,
        connections: options.connections,
        overallRate: options.rate,
        duration: options.seconds,
        requests: [
          {
            setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] as string }),
            onResponse: (_status, _body, _context, headers) => {
              const timing = /read;dur=([0-9.]+)/.exec(String((headers as Record<string, unknown>)['server-timing'] ?? ''));
              if (timing !== null) reads.push(Number(timing[1]));
            },
          },
        ],
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const errors = result.errors + result.timeouts + result.non2xx;
  return {
    kind,
    ingesting,
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / options.seconds,
    errors,
    http: { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99) },
    inProcess: { p50Ms: quantile(reads, 0.5), p99Ms: quantile(reads, 0.99) },
  };
}

/** Point reads and 2-hop neighbourhoods of people alive at each graph's old slice. */
async function queryPaths(url: string, graphs: readonly string[]): Promise<{ point: string[]; twoHop: string[] }> {
  const point: string[] = [];
  const twoHop: string[] = [];
  for (const graph of graphs) {
    const info = (await (await fetch(`${url}/v1/graphs/${graph}`)).json()) as { head?: number };
    if (info.head === undefined || info.head < 2) continue;
    const old = Math.floor(info.head / 2);
    const people = (await (await fetch(`${url}/v1/graphs/${graph}/atoms?type=Person&asOf=${old}&limit=40`)).json()) as { atoms?: { uid: string }[] };
    for (const { uid } of people.atoms ?? []) {
      point.push(`/v1/graphs/${graph}/atoms/${uid}?asOf=${old}`);
      twoHop.push(`/v1/graphs/${graph}/neighbourhood?from=${uid}&hops=2&asOf=${old}`);
    }
  }
  if (point.length === 0) throw new Error(`no graph of ${graphs.join(', ')} has people to query at ${url}`);
  // A fixed shuffle, so requests do not walk the graphs in order.
  const order = point.map((_, i) => (i * 7919) % point.length);
  return { point: order.map((i) => point[i] as string), twoHop: order.map((i) => twoHop[i] as string) };
}
