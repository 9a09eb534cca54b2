import { Agent, request as httpRequest } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import type { Kafka } from 'kafkajs';
import { quantile } from './table';

/** One kind of query over HTTP, measured by autocannon at a fixed rate and concurrency. */
export interface QueryTiming {
  readonly kind: 'point read' | '2-hop';
  /** Whether the processor was ingesting meanwhile (the target's condition), or idle (the server's overhead alone). */
  readonly ingesting: boolean;
  /** Requests timed at the fixed rate. */
  readonly requests: number;
  /** What autocannon gets through, closed-loop over the same connections: the capacity. */
  readonly requestsPerSecond: number;
  readonly errors: number;
  /** Client-side latency at the fixed rate (milliseconds), from writing the request to the end of the answer. */
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
 * The query API, idle and while the processor ingests at `ingestRate`: point reads and 2-hop
 * neighbourhoods as of an old slice (half way to each graph's head), each query a start atom of a
 * graph in a fixed shuffle; the capacity closed-loop with autocannon, the latency at a fixed rate
 * and concurrency, beside each request's in-process read time as the server reports it
 * (`server-timing: read;dur=<ms>`). Every answer must be 200.
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
  // Capacity: autocannon closed-loop (each connection sends as soon as it has its answer) for a few seconds.
  let next = 0;
  const capacity = await new Promise<autocannon.Result>((resolve, reject) => {
    autocannon(
      { url: options.url, connections: options.connections, duration: Math.max(2, Math.round(options.seconds / 4)), requests: [{ setupRequest: (request) => ({ ...request, path: paths[next++ % paths.length] as string }) }] },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
  });
  // Latency at the fixed rate: an open-loop schedule over keep-alive connections, each request
  // timed from when it is written (autocannon's rate limiting times requests from when they are
  // queued, which adds its own pacing to every latency).
  const paced = await pacedLoad(options.url, paths, options.rate, options.connections, options.seconds);
  return {
    kind,
    ingesting,
    requests: paced.latencies.length,
    requestsPerSecond: capacity.requests.average,
    errors: paced.errors + capacity.errors + capacity.timeouts + capacity.non2xx,
    http: { p50Ms: quantile(paced.latencies, 0.5), p99Ms: quantile(paced.latencies, 0.99) },
    inProcess: { p50Ms: quantile(paced.reads, 0.5), p99Ms: quantile(paced.reads, 0.99) },
  };
}

/** Sends `rate` requests per second for `seconds` over at most `connections` keep-alive connections; each latency from write to the answer's end. */
async function pacedLoad(url: string, paths: readonly string[], rate: number, connections: number, seconds: number): Promise<{ latencies: number[]; reads: number[]; errors: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const latencies: number[] = [];
  const reads: number[] = [];
  let errors = 0;
  const total = Math.round(rate * seconds);
  const begun = Date.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i += 1) {
    const due = begun + (i * 1000) / rate;
    if (due > Date.now()) await sleep(due - Date.now());
    inFlight.push(
      new Promise<void>((resolve) => {
        const req = httpRequest(`${url}${paths[i % paths.length] as string}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => {
            if (res.statusCode === 200) latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
            else errors += 1;
            const timing = /read;dur=([0-9.]+)/.exec(String(res.headers['server-timing'] ?? ''));
            if (timing !== null) reads.push(Number(timing[1]));
            resolve();
          });
        });
        req.on('error', () => {
          errors += 1;
          resolve();
        });
        let started = process.hrtime.bigint();
        req.on('socket', () => {
          started = process.hrtime.bigint();
        });
        req.end();
      }),
    );
  }
  await Promise.all(inFlight);
  agent.destroy();
  return { latencies, reads, errors };
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
