import type { Kafka, Message } from 'kafkajs';
import { avroTypes } from '../../processors/codec/avro';
import { frame } from '../../processors/codec/framing';
import { partitionOf as partitionOfKey } from '../../processors/codec/partitioner';
import { transactionToAvro } from '../../processors/codec/transaction';
import type { GraphTransaction } from '../../processors/engine/model';
import { quantile } from './table';
import { workload } from './workload';

/**
 * The benchmark's input: the deterministic workload encoded once (Confluent-framed Avro, keyed by
 * graph id), every graph on the partition Kafka's default partitioner (murmur2) gives its id, as
 * graphfold requires (WRONG_PARTITION otherwise). The same bytes feed every contender.
 * Per partition, a prefix sum of instructions gives the instructions of any offset range exactly.
 */
export interface BenchInput {
  readonly topic: string;
  readonly partitions: number;
  readonly transactions: number;
  readonly instructions: number;
  /** Per partition, instructions in offsets [0, i) at index i. */
  readonly instructionsBefore: readonly (readonly number[])[];
  readonly bytes: { readonly total: number; readonly p50: number; readonly p99: number; readonly max: number };
}

/** A graph's partition, as Kafka's default partitioner (murmur2) gives it: where graphfold routes its queries. */
export function partitionOf(graph: string, partitions: number): number {
  return partitionOfKey(graph, partitions, 'murmur2');
}

/** The workload's graph ids are this and a number (see {@link encodeWorkload}). */
export const benchGraphPrefix = 'customer-';

/**
 * Generates `transactions` workload transactions and encodes them as records. Graph ids default to
 * customer-0, customer-1, ...: murmur2 spreads 32 of them 7/7/9/9 over 4 partitions (graph-0 ... would be 7/13/10/2).
 */
export function encodeWorkload(options: { readonly seed: number; readonly graphs: number; readonly transactions: number; readonly partitions: number; readonly schemaId: number; readonly graphPrefix?: string }): {
  readonly messages: Message[];
  readonly txs: GraphTransaction[];
} {
  const stream = workload({ seed: options.seed, graphs: options.graphs, graphPrefix: options.graphPrefix ?? benchGraphPrefix, peoplePerGraph: 1 << 14 });
  const messages: Message[] = [];
  const txs: GraphTransaction[] = [];
  for (let i = 0; i < options.transactions; i += 1) {
    const tx = stream.next().value as GraphTransaction;
    txs.push(tx);
    messages.push({ key: tx.graph, value: frame(options.schemaId, avroTypes().transaction.toBuffer(transactionToAvro(tx))), partition: partitionOf(tx.graph, options.partitions) });
  }
  return { messages, txs };
}

/** Produces the encoded workload to `topic` (idempotent producer, in order per partition). */
export async function produceInput(kafka: Kafka, topic: string, partitions: number, encoded: { readonly messages: readonly Message[]; readonly txs: readonly GraphTransaction[] }): Promise<BenchInput> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    for (let i = 0; i < encoded.messages.length; i += 2_000) await producer.send({ topic, messages: encoded.messages.slice(i, i + 2_000) });
  } finally {
    await producer.disconnect();
  }
  const instructionsBefore: number[][] = Array.from({ length: partitions }, () => [0]);
  encoded.txs.forEach((tx, i) => {
    const list = instructionsBefore[encoded.messages[i]?.partition as number] as number[];
    list.push((list[list.length - 1] as number) + tx.instructions.length);
  });
  const sizes = encoded.messages.map((m) => (m.value as Buffer).length);
  return {
    topic,
    partitions,
    transactions: encoded.txs.length,
    instructions: encoded.txs.reduce((n, tx) => n + tx.instructions.length, 0),
    instructionsBefore,
    bytes: { total: sizes.reduce((a, b) => a + b, 0), p50: quantile(sizes, 0.5), p99: quantile(sizes, 0.99), max: sizes.reduce((a, b) => Math.max(a, b), 0) },
  };
}
