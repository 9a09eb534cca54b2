import type { Kafka, Message, Producer, RecordMetadata } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import { frame } from '../codec/framing';
import { partitionOf, type PartitionerName } from '../codec/partitioner';
import { transactionToAvro } from '../codec/transaction';
import type { GraphTransaction } from '../engine/model';
import { FatalError, RetriableError, type RejectionCode } from '../errors';
import { kafkaClient } from '../runtime/kafka-client';
import { SchemaCatalog } from '../runtime/schema-catalog';
import type { RegistrySpec, Topology } from '../runtime/topology';

export interface GraphProducerOptions {
  /** A kafkajs client for the cluster (brokers, TLS, SASL as the caller configured them). */
  readonly kafka: Kafka;
  /** The schema registry the topology uses. */
  readonly registry: RegistrySpec;
  /** An input topic of the topology. */
  readonly topic: string;
  /** The processor's `partitioner` option. @default 'murmur2' */
  readonly partitioner?: PartitionerName;
  /** Send each `send` as one Kafka transaction (all or none of its records). @default none: an idempotent producer */
  readonly transactionalId?: string;
  /** graphfold's query service, to await the outcome of a transaction. @default none */
  readonly query?: QueryServiceOptions;
}

export interface QueryServiceOptions {
  /** Base URL of any instance's query service, e.g. `http://graphfold-0:8080`. */
  readonly url: string;
  /** The service's `query.token`, when it has one. */
  readonly token?: string;
}

/** Where a transaction's record went. */
export interface SentTransaction {
  readonly graph: string;
  readonly txId: string;
  readonly partition: number;
  readonly offset: number;
}

/** What became of a transaction, as graphfold's query service tells it. */
export type TransactionOutcome =
  /** Applied at `slice` (or skipped: its txId had been applied before, at `slice`; null when that changed nothing). */
  | { readonly status: 'applied'; readonly graph: string; readonly txId: string; readonly slice: number | null }
  | { readonly status: 'rejected'; readonly graph: string; readonly txId: string; readonly rejection: OutcomeRejection }
  /** Not applied within the wait: `reached` is the graph's slice then, when the service said. */
  | { readonly status: 'pending'; readonly graph: string; readonly txId: string; readonly reached?: number };

export interface OutcomeRejection {
  readonly code: RejectionCode | string;
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source?: { readonly topic: string; readonly partition: number; readonly offset: number };
}

/** A transaction, or a builder of one. */
type Sendable = GraphTransaction | { build(): GraphTransaction };

/**
 * Sends graph transactions the way graphfold folds them: Avro in the Confluent wire format with
 * GraphTransaction as registered under `<topic>-value`, keyed by graph id, on the partition the
 * topology's partitioner gives the key (so no record is refused WRONG_PARTITION), through an
 * idempotent (or transactional) kafkajs producer. A transaction's txId is fixed when it is built:
 * sending it again after a failure cannot apply it twice, since graphfold skips a txId it applied.
 * With a query service, `outcome` awaits what became of it.
 */
export class GraphProducer {
  private constructor(
    private readonly producer: Producer,
    private readonly schemaId: number,
    private readonly partitions: number,
    private readonly options: GraphProducerOptions,
  ) {}

  /** Registers (or finds) the schema, learns the topic's partition count, connects. */
  static async connect(options: GraphProducerOptions): Promise<GraphProducer> {
    const schemaId = await new SchemaCatalog(options.registry).register(options.topic, avroTypes().transaction);
    const admin = options.kafka.admin();
    await admin.connect();
    let partitions: number;
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [options.topic] });
      partitions = topics[0]?.partitions.length ?? 0;
    } finally {
      await admin.disconnect();
    }
    if (partitions === 0) throw new FatalError(`GraphProducer: topic ${options.topic} has no partitions; create it with graphfold topology apply`, { topic: options.topic });
    const producer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
    });
    await producer.connect();
    return new GraphProducer(producer, schemaId, partitions, options);
  }

  /** A producer for an input topic of a topology: its cluster, registry and partitioner. */
  static async forTopology(topology: Topology, topic: string, options: { readonly transactionalId?: string; readonly query?: QueryServiceOptions } = {}): Promise<GraphProducer> {
    const processor = topology.processors.find((p) => p.inputs.includes(topic));
    if (processor === undefined) throw new FatalError(`GraphProducer: ${topic} is not an input of any processor in ${topology.origin}`, { topic });
    return GraphProducer.connect({ kafka: kafkaClient(topology.kafka, 'sdk'), registry: topology.registry, topic, partitioner: processor.partitioner, ...options });
  }

  /** Sends transactions in order (one Kafka transaction, with a transactionalId); resolves when the broker has them all. */
  async send(...transactions: readonly Sendable[]): Promise<SentTransaction[]> {
    const txs = transactions.map((t) => ('build' in t ? t.build() : t));
    const messages = txs.map((tx) => this.message(tx));
    let metadata: RecordMetadata[];
    if (this.options.transactionalId === undefined) {
      metadata = await this.producer.send({ topic: this.options.topic, messages, acks: -1 });
    } else {
      const transaction = await this.producer.transaction();
      try {
        metadata = await transaction.send({ topic: this.options.topic, messages, acks: -1 });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    }
    const next = new Map(metadata.map((m) => [m.partition, Number(m.baseOffset ?? -1)]));
    return txs.map((tx, i) => {
      const partition = messages[i]?.partition as number;
      const offset = next.get(partition) ?? -1;
      next.set(partition, offset + 1);
      return { graph: tx.graph, txId: tx.txId, partition, offset };
    });
  }

  /**
   * What became of a transaction, waiting up to `wait` (e.g. `5s`, `500ms`) for it to be applied:
   * `GET {query}/v1/graphs/{graph}/transactions/{txId}?waitForTx={txId}&wait=...`. 200 is applied
   * (skipped as a duplicate counts as applied), 409 rejected, 504 still pending. A graph the
   * service does not know yet, or a partition still restoring, is asked again within the wait.
   */
  async outcome(tx: { readonly graph: string; readonly txId: string }, options: { readonly wait?: string } = {}): Promise<TransactionOutcome> {
    const query = this.options.query;
    if (query === undefined) throw new FatalError('GraphProducer: no query service to ask (give the query option, the url of a graphfold instance\'s query service)');
    return transactionOutcome(query, tx, options.wait ?? '10s');
  }

  /** Sends one transaction and awaits its outcome. */
  async sendAndAwait(transaction: Sendable, options: { readonly wait?: string } = {}): Promise<TransactionOutcome> {
    const [sent] = await this.send(transaction);
    return this.outcome(sent as SentTransaction, options);
  }

  /** Flushes and disconnects. Idempotent. */
  async disconnect(): Promise<void> {
    await this.producer.disconnect();
  }

  private message(tx: GraphTransaction): Message {
    const type = avroTypes().transaction;
    const avro = transactionToAvro(tx);
    let invalid: string | undefined;
    type.isValid(avro, { errorHook: (path) => (invalid ??= path.join('.')) });
    if (invalid !== undefined) throw new RangeError(`GraphProducer: transaction ${tx.txId} of graph ${tx.graph}: ${invalid} does not fit the GraphTransaction schema (an Int or Time beyond 64 bits?)`);
    return { key: tx.graph, value: frame(this.schemaId, type.toBuffer(avro)), partition: partitionOf(tx.graph, this.partitions, this.options.partitioner ?? 'murmur2') };
  }
}

/** Parses `5s`, `500ms`, `1m` into milliseconds. */
function milliseconds(wait: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(wait.trim());
  if (match === null) throw new RangeError(`GraphProducer: wait '${wait}' is not a duration such as 5s or 500ms`);
  return Number(match[1]) * { ms: 1, s: 1_000, m: 60_000 }[match[2] as 'ms' | 's' | 'm'];
}

/**
 * The longest wait one request asks the service for: its default bound (query.maxWaitMs); a longer
 * wait asks again. A service bound lower still answers 400 naming `wait`: the SDK then halves its
 * requests' waits until the service takes them (every bound is at least 100 ms).
 */
const maxRequestWaitMs = 30_000;

/** What became of a transaction, asked of a query service (see {@link GraphProducer.outcome}). */
export async function transactionOutcome(query: QueryServiceOptions, tx: { readonly graph: string; readonly txId: string }, wait: string): Promise<TransactionOutcome> {
  const deadline = Date.now() + milliseconds(wait);
  const { graph, txId } = tx;
  let cap = maxRequestWaitMs;
  for (;;) {
    const left = Math.min(cap, Math.max(0, deadline - Date.now()));
    const url = `${query.url.replace(/\/+$/, '')}/v1/graphs/${encodeURIComponent(graph)}/transactions/${encodeURIComponent(txId)}?waitForTx=${encodeURIComponent(txId)}&wait=${left}ms`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { Accept: 'application/json', ...(query.token === undefined ? {} : { Authorization: `Bearer ${query.token}` }) }, signal: AbortSignal.timeout(left + 10_000) });
    } catch (error) {
      throw new RetriableError(`GraphProducer: cannot ask ${query.url} about transaction ${txId} of graph ${graph}: ${(error as Error).message}; is the query service up?`, { graph, txId }, { cause: error });
    }
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 200 && (body['status'] === 'applied' || body['status'] === 'skipped')) {
      const slice = typeof body['appliedSlice'] === 'number' ? body['appliedSlice'] : null;
      return { status: 'applied', graph, txId, slice };
    }
    if (response.status === 409 || body['status'] === 'rejected') return { status: 'rejected', graph, txId, rejection: (body['rejection'] ?? { code: 'UNKNOWN', message: JSON.stringify(body) }) as OutcomeRejection };
    if (response.status === 504) {
      if (Date.now() < deadline) continue; // the service's bound ended this request's wait, not ours
      return { status: 'pending', graph, txId, ...(typeof body['slice'] === 'number' ? { reached: body['slice'] } : {}) };
    }
    if (response.status === 400 && body['parameter'] === 'wait' && left > 1) {
      cap = Math.floor(left / 2);
      continue;
    }
    const retry = response.status === 404 || response.status === 503 || (response.status === 200 && body['status'] === 'unknown');
    if (!retry) {
      throw new FatalError(`GraphProducer: ${query.url} answered ${response.status} about transaction ${txId} of graph ${graph}: ${typeof body['message'] === 'string' ? body['message'] : JSON.stringify(body)}`, { graph, txId });
    }
    if (Date.now() >= deadline) return { status: 'pending', graph, txId };
    const after = Number(response.headers.get('retry-after'));
    await new Promise((resolve) => setTimeout(resolve, Math.min(Math.max(0, deadline - Date.now()), Number.isFinite(after) && after > 0 ? after * 1000 : 200)));
  }
}
