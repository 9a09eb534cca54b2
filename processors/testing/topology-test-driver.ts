import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { avroTypes } from '../codec/avro';
import type { AvroRejection } from '../codec/avro-wire.generated';
import { frame, unframe } from '../codec/framing';
import { InputDecoder, jsonContentType } from '../codec/input';
import { transactionToJson } from '../codec/json';
import { partitionOf } from '../codec/partitioner';
import { transactionToAvro } from '../codec/transaction';
import type { RecordHeaders } from '../codec/headers';
import { StoreDivergedError } from '../errors';
import type { GraphDiff, GraphTransaction, SourcePosition } from '../engine/model';
import { Instrumentation } from '../instrumentation/events';
import { GraphReads, type ReadLimits } from '../query/reads';
import { storeDirectory, type ProcessorSpec, type Topology } from '../runtime/topology';
import { GraphStore } from '../store/graph-store';
import { TaskCore, type CoreContext, type FoldedBatch, type RecordOutcome } from '../task/task-core';
import { outputLimits, recordOverheadBytes, rejectionHeadroomBytes } from '../task/outputs';
import type { OutputRecord } from '../task/records';
import { loadTopology, parseTopology, type LoadOptions } from '../../topology/loader';
import type { TopologyInput } from '../../topology/input';
import { InMemorySchemaRegistry } from './in-memory-schema-registry';
import { MemoryTopic, type TopicRecord } from './memory-topic';

/** A record to pipe into an input topic as a producer would send it. */
export interface TestRecord {
  /** @default null */
  readonly key?: string | Buffer | null;
  readonly value: string | Buffer | null;
  readonly headers?: RecordHeaders;
  /** @default the partition the processor's partitioner gives the key (0 without a key) */
  readonly partition?: number;
  /** Milliseconds since the epoch. @default the driver's clock */
  readonly timestamp?: number;
}

export interface PipeOptions {
  /**
   * How a GraphTransaction is written: `avro` (Confluent-framed, with the GraphTransaction schema
   * the driver registered under `<topic>-value`) or `json` (with `content-type: application/json`).
   * @default 'avro'
   */
  readonly as?: 'avro' | 'json';
  /** Headers put on every record piped (a TestRecord's own headers win). @default {} */
  readonly headers?: RecordHeaders;
}

/** What became of one record piped (or of a diff a chained processor read). */
export type PipedOutcome = RecordOutcome & { readonly processor: string; readonly topic: string; readonly partition: number };

/** A diff read from a changelog topic. */
export interface DiffRecord {
  readonly kind: 'diff';
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string;
  readonly diff: GraphDiff;
  /** The record's headers as text (the carried ones). */
  readonly headers: Readonly<Record<string, string>>;
  /** Milliseconds since the epoch: the slice's time. */
  readonly timestamp: number;
  /** The record's value as the broker would store it: Confluent-framed Avro. */
  readonly value: Buffer;
}

/** A rejection read from a rejections topic. */
export interface RejectionRecord {
  readonly kind: 'rejection';
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly rejection: {
    readonly graph: string | null;
    readonly txId: string | null;
    readonly code: string;
    readonly message: string;
    readonly instructionIndex: number | null;
    readonly source: SourcePosition;
    /** The refused record's value (its first bytes when it was cut to fit). */
    readonly payload: Buffer;
  };
  /** The record's headers as text: `graphfold-origin-*`, `graphfold-rejection-code` and the carried ones. */
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
  readonly value: Buffer;
}

/** A record of an input topic (or of any topic no processor of the topology writes). */
export interface InputTopicRecord extends TopicRecord {
  readonly kind: 'record';
}

export type DriverRecord = DiffRecord | RejectionRecord | InputTopicRecord;

export interface TopologyTestDriverOptions {
  /**
   * The state directory the stores (RocksDB) go in, `<stateDir>/<processor>/<partition>`.
   * @default a new temporary directory, deleted by `close`
   */
  readonly stateDir?: string;
  /** The schema registry, for records framed with schemas registered in advance. @default a new InMemorySchemaRegistry */
  readonly registry?: InMemorySchemaRegistry;
  /** Where the task cores' events go (`record.rejected`, `batch.written`, `restore.*`). @default none */
  readonly instrumentation?: Instrumentation;
  /** The timestamp (ms) of the first record piped without one; each later one is 1 ms on. @default 2026-01-01T00:00:00Z */
  readonly startTime?: number;
  /**
   * The largest record (max.message.bytes) each processor's diffs and rejections topics accept,
   * for testing topics made smaller than `graphfold topology apply` makes them: a diff that would
   * not fit is refused TOO_LARGE, a rejection's payload is cut to fit.
   * @default what `topology apply` sets: maxRecordBytes plus 1 KiB for diffs, plus 65 KiB for rejections
   */
  readonly maxMessageBytes?: { readonly diffs?: number; readonly rejections?: number };
}

/** What `restart` did to a partition. */
export interface RestartReport {
  readonly processor: string;
  readonly partition: number;
  /** Diffs replayed from the changelog into the store. */
  readonly replayed: number;
  /** Rejections restored into the store's record of rejected txIds. */
  readonly rejections: number;
}

/** A topology without a cluster: the driver never connects to one, so `kafka` and `registry` may be left out. */
export type DriverTopologyInput = Omit<TopologyInput, 'kafka' | 'registry' | 'application'> & Partial<Pick<TopologyInput, 'kafka' | 'registry' | 'application'>>;

/** The cluster settings a topology file names, which the driver never uses. */
const unusedCluster = { KAFKA_BROKERS: 'unused-by-the-topology-test-driver:9092', SCHEMA_REGISTRY_URL: 'http://unused-by-the-topology-test-driver' };

const defaultReadLimits: ReadLimits = { maxHops: 4, maxLimit: 10_000 };
const driverCacheBytes = 8 << 20;
const driverWriteBufferBytes = 4 << 20;

interface RunningProcessor {
  readonly spec: ProcessorSpec;
  readonly ctx: CoreContext;
  readonly tasks: Map<number, TaskCore>;
  /** The consumer group's committed offsets, by input topic and partition. */
  readonly committed: Map<string, number[]>;
}

/**
 * Runs a topology's processors with no broker, no registry and no Java: topics and the schema
 * registry in memory, and per partition the same task core (`processors/task`) the runtime runs
 * inside its Kafka transactions, over a real RocksDB store in a temporary directory. The same
 * decoding, validation, fold, encoding of diffs and rejections (headers, limits) and checkpoints
 * as production: a record gives the same bytes here as on a broker.
 *
 * Each `pipe` appends records to an input topic and processes them (and what they cause: a
 * processor whose input is another's diffs topic reads those diffs) before it resolves, with every
 * store written; `read` returns what the processors wrote since the last `read` of that topic.
 * What the driver does not simulate: several instances and their rebalances, fencing, aborted
 * transactions and broker failures (the real-broker tests cover them).
 *
 * ```ts
 * const driver = await TopologyTestDriver.fromFile('topology/demo.yaml');
 * await driver.pipe('crm-instructions', [{ graph: 'acme', txId: 't1', instructions: [{ op: 'CreateEntity', ref: 'ada', type: 'Person' }] }]);
 * const [created] = driver.readDiffs('crm-diffs');
 * await driver.close();
 * ```
 */
export class TopologyTestDriver {
  private readonly topics = new Map<string, MemoryTopic>();
  private readonly running: RunningProcessor[] = [];
  /** Per topic and partition, the offset `read` goes on from. */
  private readonly cursors = new Map<string, number[]>();
  private readonly diffsTopics = new Set<string>();
  private readonly rejectionsTopics = new Set<string>();
  private clock: number;
  private closed = false;

  private constructor(
    /** The topology, as the driver runs it (its store directory is the driver's). */
    readonly topology: Topology,
    /** The in-memory schema registry: register writer schemas here to pipe records framed with them. */
    readonly registry: InMemorySchemaRegistry,
    private readonly instrumentation: Instrumentation,
    private readonly ownsStateDir: boolean,
    startTime: number,
    private readonly maxMessageBytes: TopologyTestDriverOptions['maxMessageBytes'],
  ) {
    this.clock = startTime;
  }

  /** A driver for a compiled topology (`loadTopology`, or one built in code). */
  static async create(topology: Topology, options: TopologyTestDriverOptions = {}): Promise<TopologyTestDriver> {
    const stateDir = options.stateDir ?? (await mkdtemp(join(tmpdir(), 'graphfold-test-driver-')));
    const driver = new TopologyTestDriver(
      Object.freeze({ ...topology, store: { ...topology.store, dir: stateDir } }),
      options.registry ?? new InMemorySchemaRegistry(),
      options.instrumentation ?? new Instrumentation(),
      options.stateDir === undefined,
      options.startTime ?? Date.UTC(2026, 0, 1),
      options.maxMessageBytes,
    );
    try {
      await driver.start();
    } catch (error) {
      await driver.close();
      throw error;
    }
    return driver;
  }

  /**
   * A driver for a topology file. Its `kafka` and `registry` settings are never used: variables
   * they name (`${KAFKA_BROKERS}`, `${SCHEMA_REGISTRY_URL}`) need not be set.
   */
  static fromFile(file: string, options: TopologyTestDriverOptions & Pick<LoadOptions, 'env'> = {}): Promise<TopologyTestDriver> {
    return TopologyTestDriver.create(loadTopology(file, { ...(options.env === undefined ? {} : { env: options.env }), fallback: unusedCluster }), options);
  }

  /** A driver for a topology written as the object a topology file holds; `kafka`, `registry` and `application` may be left out. */
  static fromObject(input: DriverTopologyInput, options: TopologyTestDriverOptions & Pick<LoadOptions, 'env'> = {}): Promise<TopologyTestDriver> {
    const full = { application: 'graphfold-test', kafka: { brokers: unusedCluster.KAFKA_BROKERS }, registry: { url: unusedCluster.SCHEMA_REGISTRY_URL }, ...input };
    const topology = parseTopology(stringify(full), 'the topology given to TopologyTestDriver.fromObject', { baseDir: process.cwd(), ...(options.env === undefined ? {} : { env: options.env }), fallback: unusedCluster });
    return TopologyTestDriver.create(topology, options);
  }

  private async start(): Promise<void> {
    for (const spec of this.topology.processors) {
      for (const topic of [...spec.inputs, spec.diffs, spec.rejections]) {
        const existing = this.topics.get(topic);
        if (existing === undefined) this.topics.set(topic, new MemoryTopic(topic, spec.partitions));
        else if (existing.partitions !== spec.partitions) throw new RangeError(`topic ${topic} is used with ${existing.partitions} and ${spec.partitions} partitions; co-partitioned processors need the same count`);
      }
      this.diffsTopics.add(spec.diffs);
      this.rejectionsTopics.add(spec.rejections);
      // What `graphfold topology apply` registers, and the processor at its start.
      for (const input of spec.inputs) this.registry.register(`${input}-value`, avroTypes().transaction);
      const schemaIds = { diff: this.registry.register(`${spec.diffs}-value`, avroTypes().diff), rejection: this.registry.register(`${spec.rejections}-value`, avroTypes().rejection) };
      const limits = outputLimits(spec.maxRecordBytes, {
        diffs: this.maxMessageBytes?.diffs ?? spec.maxRecordBytes + recordOverheadBytes,
        rejections: this.maxMessageBytes?.rejections ?? spec.maxRecordBytes + rejectionHeadroomBytes + recordOverheadBytes,
      });
      const ctx: CoreContext = { spec, schemas: this.registry, schemaIds, rejectionPartitions: spec.partitions, inputPartitions: spec.partitions, limits, instrumentation: this.instrumentation };
      const processor: RunningProcessor = { spec, ctx, tasks: new Map(), committed: new Map(spec.inputs.map((topic) => [topic, Array.from({ length: spec.partitions }, () => 0)])) };
      this.running.push(processor);
      for (let partition = 0; partition < spec.partitions; partition += 1) await this.open(processor, partition);
    }
  }

  /**
   * Appends records to `topic` and processes them, and the diffs they cause in chained
   * processors, before it resolves (with every store written). A GraphTransaction is keyed by its
   * graph and written as `options.as` says; a TestRecord is sent as it is. Records go to their
   * key's partition unless they name one. Returns what became of each record processed.
   */
  async pipe(topic: string, records: GraphTransaction | TestRecord | readonly (GraphTransaction | TestRecord)[], options: PipeOptions = {}): Promise<readonly PipedOutcome[]> {
    this.checkOpen();
    const target = this.topic(topic);
    const writer = this.running.find((p) => p.spec.diffs === topic || p.spec.rejections === topic);
    if (writer !== undefined) throw new RangeError(`topic ${topic} is written by processor ${writer.spec.name} alone (only graphfold writes to a diffs or rejections topic); pipe into its inputs: ${writer.spec.inputs.join(', ')}`);
    const list = (Array.isArray(records) ? records : [records]) as readonly (GraphTransaction | TestRecord)[];
    const readers = this.running.filter((p) => p.spec.inputs.includes(topic));
    const partitioner = readers[0]?.spec.partitioner ?? 'murmur2';
    const byPartition = new Map<number, { key: Buffer | null; value: Buffer | null; timestamp: number; headers: RecordHeaders }[]>();
    for (const item of list) {
      const record = isTransaction(item) ? this.transactionRecord(topic, item, options.as ?? 'avro') : item;
      const key = record.key === undefined || record.key === null ? null : Buffer.from(record.key);
      const partition = record.partition ?? (key === null ? 0 : partitionOf(key, target.partitions, partitioner));
      const value = record.value === null ? null : Buffer.from(record.value);
      const headers = { ...options.headers, ...record.headers };
      const timestamp = record.timestamp ?? this.clock++;
      byPartition.set(partition, [...(byPartition.get(partition) ?? []), { key, value, timestamp, headers }]);
    }
    for (const [partition, appended] of byPartition) target.append(partition, appended, { transactional: false });
    return this.drain();
  }

  /**
   * The records written to `topic` since the last `read` of it (every one, the first time), in
   * partition order then offset order, decoded by what the topic is: diffs, rejections, or plain
   * records (an input topic).
   */
  read(topic: string): readonly DriverRecord[] {
    this.checkOpen();
    const source = this.topic(topic);
    const cursors = this.cursors.get(topic) ?? Array.from({ length: source.partitions }, () => 0);
    this.cursors.set(topic, cursors);
    const records: DriverRecord[] = [];
    for (let partition = 0; partition < source.partitions; partition += 1) {
      records.push(...source.read(partition, cursors[partition]).map((record) => this.decodeRecord(record)));
      cursors[partition] = source.end(partition);
    }
    return records;
  }

  /** `read` of a diffs topic. */
  readDiffs(topic: string): readonly DiffRecord[] {
    if (!this.diffsTopics.has(topic)) throw new RangeError(`${topic} is not the diffs topic of any processor of the topology (${[...this.diffsTopics].join(', ')})`);
    return this.read(topic) as readonly DiffRecord[];
  }

  /** `read` of a rejections topic. */
  readRejections(topic: string): readonly RejectionRecord[] {
    if (!this.rejectionsTopics.has(topic)) throw new RangeError(`${topic} is not the rejections topic of any processor of the topology (${[...this.rejectionsTopics].join(', ')})`);
    return this.read(topic) as readonly RejectionRecord[];
  }

  /** Every record of a topic as stored (raw bytes and headers), whatever was read. */
  records(topic: string): readonly TopicRecord[] {
    return this.topic(topic).all();
  }

  /** The partition of a processor's topics that holds `graph` (its partitioner over its partitions). */
  partitionOf(graph: string, processor?: string): number {
    const { spec } = this.processor(processor);
    return partitionOf(graph, spec.partitions, spec.partitioner);
  }

  /** The store of one partition of a processor (valid until `restart` or `close`). */
  store(partition: number, processor?: string): GraphStore {
    return this.task(this.processor(processor), partition).store;
  }

  /**
   * The query service's reads (`GET /v1/graphs/...` as methods) of the partition that holds
   * `graph`, over its store: the same methods, answers and errors as the query API's.
   */
  reads(graph: string, processor?: string): GraphReads {
    const running = this.processor(processor);
    const limits = this.topology.query === undefined ? defaultReadLimits : { maxHops: this.topology.query.maxHops, maxLimit: this.topology.query.maxLimit };
    return new GraphReads(this.task(running, partitionOf(graph, running.spec.partitions, running.spec.partitioner)).store, limits);
  }

  /**
   * A crash and a restart of one partition's task: what it staged is lost, its store closed;
   * with `dropStore` the state directory is deleted too (a lost disk). The partition is opened as
   * the runtime opens it: the store restored from the driver's changelog (from its checkpoint,
   * everything for a new store), the record of rejected txIds from the rejections topic, and
   * input resumed at the consumer group's committed offsets.
   */
  async restart(options: { readonly processor?: string; readonly partition: number; readonly dropStore?: boolean }): Promise<RestartReport> {
    this.checkOpen();
    const running = this.processor(options.processor);
    const task = this.task(running, options.partition);
    task.discard();
    await task.settled();
    await task.store.close();
    running.tasks.delete(options.partition);
    if (options.dropStore === true) await GraphStore.destroy(storeDirectory(this.topology, running.spec, options.partition));
    return this.open(running, options.partition);
  }

  /** Closes every store; deletes the state directory if the driver made it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const running of this.running) {
      for (const task of running.tasks.values()) {
        task.discard();
        await task.settled();
        await task.store.close().catch(() => undefined);
      }
      running.tasks.clear();
    }
    if (this.ownsStateDir) await rm(this.topology.store.dir, { recursive: true, force: true });
  }

  /**
   * Opens a partition as the runtime's partition task does (its opening steps 2 to 5, without
   * the fencing of step 1): open the store, replay the changelog from the store's checkpoint (from
   * the start if the store diverged from it), restore the record of rejected txIds, resume input
   * at the committed offsets.
   */
  private async open(running: RunningProcessor, partition: number): Promise<RestartReport> {
    const { spec, ctx } = running;
    const dir = storeDirectory(this.topology, spec, partition);
    // The topology's store settings, with RocksDB's caches kept small: tests hold little data, and many stores.
    const { store: settings } = this.topology;
    const options = { rocks: { cacheBytes: Math.min(settings.cacheBytes, driverCacheBytes), writeBufferBytes: Math.min(settings.writeBufferBytes, driverWriteBufferBytes) }, cachedAtoms: settings.cachedAtoms };
    let store = await GraphStore.open(dir, options);
    const core = new TaskCore(ctx, partition, store);
    const changelog = this.topic(spec.diffs);
    const end = changelog.end(partition);
    const claimed = store.checkpoint().changelog ?? 0;
    if (claimed > end) {
      await store.close();
      throw new Error(`the store ${dir} holds changelog ${spec.diffs} partition ${partition} up to offset ${claimed}, but the driver's changelog ends at ${end}: a state directory holds one driver's stores (its topics are in memory); give each driver its own, or none`);
    }
    let replayed = 0;
    const replay = async (): Promise<void> => {
      const from = core.store.checkpoint().changelog ?? 0;
      if (from >= end) return;
      const started = Date.now();
      this.instrumentation.emit('restore.started', { processor: spec.name, partition, from, to: end });
      const base = core.store.checkpoint();
      const records = changelog.read(partition, from, end);
      for (let i = 0; i < records.length; i += 500) {
        const chunk = records.slice(i, i + 500);
        const next = i + 500 >= records.length ? end : (records[i + 500] as TopicRecord).offset;
        replayed += await core.replay(chunk, next, base);
      }
      await core.flushed();
      this.instrumentation.emit('restore.finished', { processor: spec.name, partition, records: replayed, seconds: (Date.now() - started) / 1000 });
    };
    try {
      await replay();
    } catch (error) {
      if (!(error instanceof StoreDivergedError)) throw error;
      this.instrumentation.emit('store.discarded', { processor: spec.name, partition, reason: error.message });
      await store.close();
      await GraphStore.destroy(dir);
      store = await GraphStore.open(dir, options);
      core.replaceStore(store);
      replayed = 0;
      await replay();
    }
    const rejections = this.topic(spec.rejections);
    const rejectionPartition = partition % rejections.partitions;
    const rejectionsEnd = rejections.end(rejectionPartition);
    const checkpoint = core.store.checkpoint();
    let restored = 0;
    if (checkpoint.rejections !== rejectionsEnd) {
      restored = await core.restoreRejections(rejections.read(rejectionPartition, checkpoint.rejections ?? 0, rejectionsEnd));
      await core.store.commit({ ...checkpoint, rejections: rejectionsEnd });
    }
    const inputs: Record<string, number> = {};
    for (const topic of spec.inputs) {
      const offset = running.committed.get(topic)?.[partition] ?? 0;
      core.resume(topic, offset);
      if (offset > 0) inputs[topic] = offset;
    }
    const current = core.store.checkpoint();
    await core.store.commit({ ...current, changelog: end, inputs });
    running.tasks.set(partition, core);
    return { processor: spec.name, partition, replayed, rejections: restored };
  }

  /** Processes what every processor has not yet read of its inputs, until none has anything left (chained processors read the diffs of others). */
  private async drain(): Promise<readonly PipedOutcome[]> {
    const outcomes: PipedOutcome[] = [];
    for (let round = 0; ; round += 1) {
      if (round > 1_000) throw new RangeError('the topology keeps producing input for itself: is a processor reading its own diffs through another?');
      let progressed = false;
      for (const running of this.running) {
        for (const topic of running.spec.inputs) {
          const input = this.topic(topic);
          const committed = running.committed.get(topic) as number[];
          for (let partition = 0; partition < input.partitions; partition += 1) {
            const from = committed[partition] as number;
            const records = input.read(partition, from);
            if (records.length === 0) continue;
            progressed = true;
            const task = this.task(running, partition);
            const batch = await task.fold(topic, records);
            committed[partition] = (records[records.length - 1] as TopicRecord).offset + 1;
            if (batch === undefined) continue;
            await task.commit(batch, this.produce(running, partition, batch));
            outcomes.push(...batch.outcomes.map((o) => ({ ...o, processor: running.spec.name, topic, partition })));
          }
        }
      }
      if (!progressed) break;
    }
    for (const running of this.running) for (const task of running.tasks.values()) await task.flushed();
    return outcomes;
  }

  /** The Kafka transaction of processing step 4, in memory: the diffs and rejections appended, each topic's next offset as Kafka gives it. */
  private produce(running: RunningProcessor, partition: number, batch: FoldedBatch): { changelogNext: number; rejectionsNext?: number } {
    const { spec } = running;
    const changelog = this.topic(spec.diffs);
    const rejections = this.topic(spec.rejections);
    let changelogNext = changelog.end(partition);
    if (batch.diffs.length > 0) changelogNext = changelog.append(partition, batch.diffs.map(appended), { transactional: true }) + batch.diffs.length + 1;
    let rejectionsNext: number | undefined;
    if (batch.rejections.length > 0) {
      const target = (batch.rejections[0] as OutputRecord).partition;
      rejectionsNext = rejections.append(target, batch.rejections.map(appended), { transactional: true }) + batch.rejections.length;
    }
    return { changelogNext, ...(rejectionsNext === undefined ? {} : { rejectionsNext }) };
  }

  private transactionRecord(topic: string, tx: GraphTransaction, as: 'avro' | 'json'): TestRecord {
    if (as === 'json') return { key: tx.graph, value: transactionToJson(tx), headers: { 'content-type': jsonContentType } };
    const id = this.registry.register(`${topic}-value`, avroTypes().transaction);
    return { key: tx.graph, value: frame(id, avroTypes().transaction.toBuffer(transactionToAvro(tx))) };
  }

  private decodeRecord(record: TopicRecord): DriverRecord {
    const headers = Object.fromEntries(Object.entries(record.headers).flatMap(([k, v]) => (v === undefined ? [] : [[k, (Array.isArray(v) ? v[0] : v)?.toString() ?? '']])));
    if (this.diffsTopics.has(record.topic) && record.value !== null) {
      const diff = new InputDecoder(Number.POSITIVE_INFINITY).decodeDiff(record.value, this.registry.known);
      return { kind: 'diff', topic: record.topic, partition: record.partition, offset: record.offset, key: record.key?.toString('utf8') ?? '', diff, headers, timestamp: record.timestamp, value: record.value };
    }
    if (this.rejectionsTopics.has(record.topic) && record.value !== null) {
      const { schemaId, body } = unframe(record.value);
      const reader = avroTypes().rejection;
      const writer = this.registry.known.get(schemaId) ?? reader;
      const avro = reader.fromBuffer(body, writer.equals(reader) ? undefined : (reader.createResolver(writer) as never)) as AvroRejection;
      const rejection = { ...avro, source: { topic: avro.source.topic, partition: avro.source.partition, offset: Number(avro.source.offset) } };
      return { kind: 'rejection', topic: record.topic, partition: record.partition, offset: record.offset, key: record.key, rejection, headers, timestamp: record.timestamp, value: record.value };
    }
    return { kind: 'record', ...record };
  }

  private processor(name: string | undefined): RunningProcessor {
    this.checkOpen();
    const running = name === undefined ? this.running[0] : this.running.find((p) => p.spec.name === name);
    if (running === undefined) throw new RangeError(`the topology has no processor ${name ?? ''}; it has ${this.running.map((p) => p.spec.name).join(', ')}`);
    return running;
  }

  private task(running: RunningProcessor, partition: number): TaskCore {
    const task = running.tasks.get(partition);
    if (task === undefined) throw new RangeError(`processor ${running.spec.name} has partitions 0 to ${running.spec.partitions - 1}; there is no partition ${partition}`);
    return task;
  }

  private topic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (topic === undefined) throw new RangeError(`the topology has no topic ${name}; its topics are ${[...this.topics.keys()].join(', ')}`);
    return topic;
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('the TopologyTestDriver is closed');
  }
}

function isTransaction(item: GraphTransaction | TestRecord): item is GraphTransaction {
  return 'instructions' in item && 'txId' in item;
}

function appended(record: OutputRecord): { key: Buffer | null; value: Buffer; timestamp: number; headers: RecordHeaders } {
  return { key: record.key === null ? null : Buffer.from(record.key), value: record.value, timestamp: Number(record.timestamp ?? 0), headers: record.headers ?? {} };
}
