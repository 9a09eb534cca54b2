import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import type { ContenderRun } from './contenders/contender';
import type { BenchInput } from './input';
import { processStats } from './process-stats';
import { quantile } from './table';

export interface Throughput {
  readonly transactions: number;
  readonly instructions: number;
  readonly seconds: number;
  readonly transactionsPerSecond: number;
  readonly instructionsPerSecond: number;
  readonly cpuSecondsPer1000Transactions: number;
  readonly peakRssMiB: number;
}

async function committed(admin: Admin, group: string, topic: string, partitions: number): Promise<number[]> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return Array.from({ length: partitions }, (_, p) => Math.max(0, Number(offsets?.partitions.find((o) => o.partition === p)?.offset ?? 0)));
}

/**
 * Sustained throughput of a running contender: the window opens when its group has committed
 * `warmup` transactions and closes when it has committed all of them; transactions and
 * instructions are counted exactly from the committed offsets at both ends, CPU is the process's
 * user + system time over the window.
 */
export async function measureThroughput(admin: Admin, run: ContenderRun, input: BenchInput, warmup: number, progress: (line: string) => void): Promise<Throughput> {
  let start: { readonly time: number; readonly offsets: number[]; readonly cpu: number } | undefined;
  let lastReport = Date.now();
  for (;;) {
    const offsets = await committed(admin, run.group, input.topic, input.partitions);
    const processed = offsets.reduce((a, b) => a + b, 0);
    if (start === undefined && processed >= warmup) {
      if (processed >= input.transactions) throw new Error(`it processed all ${input.transactions} transactions before the measurement began: the input is too small to measure it`);
      start = { time: Date.now(), offsets, cpu: (await processStats(run.pid)).cpuSeconds };
    }
    if (processed >= input.transactions && start !== undefined) {
      const end = { time: Date.now(), stats: await processStats(run.pid) };
      const transactions = processed - start.offsets.reduce((a, b) => a + b, 0);
      const instructions = offsets.reduce((n, o, p) => n + ((input.instructionsBefore[p]?.[o] ?? 0) - (input.instructionsBefore[p]?.[start?.offsets[p] ?? 0] ?? 0)), 0);
      const seconds = (end.time - start.time) / 1000;
      return {
        transactions,
        instructions,
        seconds,
        transactionsPerSecond: transactions / seconds,
        instructionsPerSecond: instructions / seconds,
        cpuSecondsPer1000Transactions: ((end.stats.cpuSeconds - start.cpu) / transactions) * 1000,
        peakRssMiB: end.stats.peakRssMiB,
      };
    }
    if (Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      progress(`${processed.toLocaleString()} / ${input.transactions.toLocaleString()} transactions`);
    }
    await sleep(50);
  }
}

export interface Latency {
  readonly records: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
}

/**
 * End-to-end latency at a fixed input rate: records are produced at `rate` per second for
 * `seconds` (timestamped when sent), and a read_committed consumer of the contender's output
 * records, per output record, its arrival time minus the record's timestamp, which every
 * contender carries over from its input. Warm-up first: records are sent until the first output
 * arrives, so a contender's start-up is not counted; then the first second is left out.
 */
export async function measureLatency(kafka: Kafka, output: string, messages: readonly { key: string; value: Buffer; partition: number }[], input: string, rate: number, seconds: number): Promise<Latency> {
  const latencies: number[] = [];
  let outputs = 0;
  let started = Number.POSITIVE_INFINITY;
  const consumer = kafka.consumer({ groupId: `latency-${Date.now()}-${Math.random().toString(36).slice(2)}`, maxWaitTimeInMs: 10, minBytes: 1 });
  await consumer.connect();
  await consumer.subscribe({ topic: output, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      outputs += 1;
      const sent = Number(message.timestamp);
      if (sent >= started + 1_000) latencies.push(Date.now() - sent);
    },
  });
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const warmup = messages.slice(messages.length - 200);
  for (let i = 0; outputs === 0; i += 1) {
    if (i >= warmup.length * 10) throw new Error(`no output on ${output} after ${i} warm-up records`);
    await producer.send({ topic: input, messages: [warmup[i % warmup.length] as { key: string; value: Buffer; partition: number }] });
    await sleep(50);
  }
  started = Date.now();
  const total = Math.min(messages.length - warmup.length, Math.round(rate * seconds));
  const tick = 20;
  const perTick = Math.max(1, Math.round((rate * tick) / 1000));
  for (let sent = 0; sent < total; sent += perTick) {
    const due = started + (sent / rate) * 1000;
    if (due > Date.now()) await sleep(due - Date.now());
    await producer.send({ topic: input, messages: messages.slice(sent, sent + perTick).map((m) => ({ ...m, timestamp: String(Date.now()) })) });
  }
  await producer.disconnect();
  await sleep(3_000);
  await consumer.disconnect();
  return { records: latencies.length, p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), maxMs: latencies.reduce((a, b) => Math.max(a, b), 0) };
}
