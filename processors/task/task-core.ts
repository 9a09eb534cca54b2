import { avroTypes } from '../codec/avro';
import type { AvroRejection } from '../codec/avro-wire.generated';
import { unframe } from '../codec/framing';
import { carriedHeaders, headerText } from '../codec/headers';
import { InputDecoder, type InputRecord } from '../codec/input';
import type { PartitionerName } from '../codec/partitioner';
import { FatalError, TerminalError } from '../errors';
import { fold, type FoldOptions, type FoldResult } from '../engine/fold';
import type { GraphDiff, GraphTransaction, SourcePosition } from '../engine/model';
import type { GraphSchema } from '../engine/schema';
import { NotLoaded } from '../engine/state';
import type { Instrumentation } from '../instrumentation/events';
import type { Checkpoint, GraphStore } from '../store/graph-store';
import { lastSliceWhere } from '../store/slice-search';
import { diffMessage, diffTooLarge, rejectionMessage, type OutputLimits } from './outputs';
import type { OutputRecord, SourceRecord } from './records';
import type { WriterSchemas } from './writer-schemas';

/** What the task core takes of a processor's settings (the topology's `ProcessorSpec` is one). */
export interface TaskSpec {
  readonly name: string;
  readonly inputs: readonly string[];
  readonly diffs: string;
  readonly schema?: GraphSchema;
  readonly maxInstructions: number;
  readonly maxRecordBytes: number;
  readonly partitioner: PartitionerName;
  readonly carryHeaders: readonly string[];
}

/** What every task core of one processor shares. */
export interface CoreContext {
  readonly spec: TaskSpec;
  readonly schemas: WriterSchemas;
  /** The ids of the schemas the task writes with. */
  readonly schemaIds: { readonly diff: number; readonly rejection: number };
  readonly rejectionPartitions: number;
  /** Partitions of the input topics, for the check that each record is on its key's partition. */
  readonly inputPartitions: number;
  /** What the diffs and rejections topics accept: a diff over `diffBytes` is refused TOO_LARGE, a rejection's payload cut to fit. */
  readonly limits: OutputLimits;
  readonly instrumentation: Instrumentation;
}

/** What became of one input record: the fold's outcome, its slice when applied (or first applied, for a duplicate), its code when refused. */
export type RecordOutcome =
  | { readonly offset: number; readonly outcome: 'applied'; readonly graph: string; readonly txId: string; readonly slice: number }
  | { readonly offset: number; readonly outcome: 'unchanged'; readonly graph: string; readonly txId: string }
  | { readonly offset: number; readonly outcome: 'duplicate'; readonly graph: string; readonly txId: string; readonly slice: number | null }
  | { readonly offset: number; readonly outcome: 'refused'; readonly error: TerminalError };

/** One batch of one input partition, folded into the store's staged state, with what it writes. */
export interface FoldedBatch {
  readonly topic: string;
  /** Records folded (those below the resume offset were skipped first). */
  readonly records: number;
  /** The offset of the first record folded. */
  readonly first: number;
  /** The diffs of the applied transactions, for the changelog's partition of the same number. */
  readonly diffs: readonly OutputRecord[];
  /** The refused records, for the rejections topic. */
  readonly rejections: readonly OutputRecord[];
  /** Transactions already applied (duplicates) or that changed nothing. */
  readonly skipped: number;
  /** Each folded record's outcome, in offset order. */
  readonly outcomes: readonly RecordOutcome[];
  /** The input offset after the batch: what the consumer group commits. */
  readonly next: number;
}

/** Where the outputs of a batch went: the changelog's next offset and the rejections' (undefined: none written). */
export interface Written {
  readonly changelogNext: number;
  readonly rejectionsNext?: number;
}

/** Transactions folded between two turns of the event loop. */
const foldChunk = 64;

/**
 * The per-batch logic of one partition of a processor, with no Kafka in it: records in, diffs
 * and rejections out, the store's checkpoint decided. The runtime's `PartitionTask` runs it
 * inside a Kafka transaction; the test driver (`processors/testing`) runs it over topics in
 * memory. Its steps are the partition task's processing steps 1, 2, 3 and 5:
 * 1. Skip records below the resume offset of their topic (the committed offset).
 * 2. Decode each record (writer schemas fetched first); a record that does not decode becomes a
 *    rejection.
 * 3. Prefetch the transactions, then fold each in order into the store's staged state (yielding
 *    to the event loop every 64, for queries); an applied transaction's diff is encoded (and
 *    refused TOO_LARGE if its record would not fit the changelog); a refused record's rejection
 *    is encoded (its payload cut to fit the rejections topic); a refused transaction is staged in the
 *    store's record of rejected txIds, so it is written with the batch that refused it.
 * 5. Once the caller has written the outputs (and committed the input offset with them): wait
 *    for the store's previous write, then commit the store: the staged batch and the checkpoint
 *    (input offsets, the changelog's and the rejections' next offsets), written while the next
 *    batch folds.
 */
export class TaskCore {
  private readonly decoder: InputDecoder;
  private readonly resumeAt = new Map<string, number>();
  private written: Promise<void> = Promise.resolve();

  constructor(
    private readonly ctx: CoreContext,
    readonly partition: number,
    private current: GraphStore,
  ) {
    this.decoder = new InputDecoder(ctx.spec.maxRecordBytes, { partitioner: ctx.spec.partitioner, partitions: ctx.inputPartitions });
  }

  /** The partition's store. */
  get store(): GraphStore {
    return this.current;
  }

  /** Puts a new store in place of one that was discarded (closed) during a restore. */
  replaceStore(store: GraphStore): void {
    this.current = store;
  }

  /** Records of `topic` below `offset` were processed already: skip them (step 1). */
  resume(topic: string, offset: number): void {
    this.resumeAt.set(topic, offset);
  }

  /** Steps 1 to 3 for one batch of `topic`, in offset order; undefined when every record was below the resume offset. */
  async fold(topic: string, batch: readonly SourceRecord[]): Promise<FoldedBatch | undefined> {
    const resumeAt = this.resumeAt.get(topic) ?? 0;
    const records = batch.filter((r) => r.offset >= resumeAt);
    const [first] = records;
    const last = records[records.length - 1];
    if (first === undefined || last === undefined) return undefined;
    const inputs = await this.decode(records);
    await this.current.prefetch(inputs.flatMap((input) => ('tx' in input ? [input.tx] : [])));

    const diffs: OutputRecord[] = [];
    const rejections: OutputRecord[] = [];
    const outcomes: RecordOutcome[] = [];
    let encoded: OutputRecord | undefined;
    let headers: OutputRecord['headers'];
    const admit = (diff: GraphDiff): TerminalError | undefined => {
      encoded = diffMessage(diff, this.ctx.schemaIds.diff, this.partition, headers);
      return diffTooLarge(encoded, diff, this.ctx.limits.diffBytes);
    };
    for (const [i, input] of inputs.entries()) {
      // Folding is CPU work on the event loop: let it serve queries (and heartbeats) between chunks of a large batch.
      if (i % foldChunk === foldChunk - 1) await new Promise((resolve) => setImmediate(resolve));
      headers = input.headers;
      const result: FoldResult | TerminalError = 'tx' in input ? await this.foldOne(input.tx, this.foldOptions(input.source, input.timestamp), admit) : input.error;
      if (result instanceof TerminalError || result.outcome === 'refused') {
        const error = result instanceof TerminalError ? result : result.error;
        rejections.push(rejectionMessage(error, input.source, input.record, this.ctx.schemaIds.rejection, this.partition % this.ctx.rejectionPartitions, this.ctx.limits, input.timestamp, input.headers));
        this.reportRejection(input.source, error);
        this.recordRejection(input.source, input.timestamp, error);
        outcomes.push({ offset: input.source.offset, outcome: 'refused', error });
        continue;
      }
      const { graph, txId } = (input as { readonly tx: GraphTransaction }).tx;
      if (result.outcome === 'applied') {
        diffs.push(encoded as OutputRecord); // encoded by `admit`, which the fold calls with the diff it stages
        outcomes.push({ offset: input.source.offset, outcome: 'applied', graph, txId, slice: result.diff.slice });
      } else if (result.outcome === 'duplicate') {
        outcomes.push({ offset: input.source.offset, outcome: 'duplicate', graph, txId, slice: result.slice });
      } else {
        outcomes.push({ offset: input.source.offset, outcome: 'unchanged', graph, txId });
      }
    }
    const skipped = outcomes.filter((o) => o.outcome === 'duplicate' || o.outcome === 'unchanged').length;
    return { topic, records: records.length, first: first.offset, diffs, rejections, skipped, outcomes, next: last.offset + 1 };
  }

  /**
   * Step 5, once the batch's outputs and input offset are committed where they go: the store
   * commits the staged batch with the checkpoint this decides (after its previous write). Resolves
   * when the write has begun; `settled` waits for it.
   */
  async commit(batch: FoldedBatch, written: Written): Promise<void> {
    this.resumeAt.set(batch.topic, batch.next);
    await this.written;
    this.written = this.current.commit(this.checkpointAfter(batch, written));
    this.written.then(
      () => this.ctx.instrumentation.emit('batch.written', { processor: this.ctx.spec.name, partition: this.partition }),
      () => undefined,
    );
  }

  /** The checkpoint after `batch`: its input offset, the changelog's next offset, the rejections' (kept when the batch wrote none). */
  checkpointAfter(batch: FoldedBatch, written: Written): Checkpoint {
    const previous = this.current.checkpoint();
    const rejections = written.rejectionsNext ?? previous.rejections;
    return { changelog: written.changelogNext, inputs: { ...previous.inputs, [batch.topic]: batch.next }, ...(rejections === undefined ? {} : { rejections }) };
  }

  /**
   * Opening step 4, one batch read from the changelog (offsets `records`, then `next`): decodes
   * the diffs (a record that is not one is fatal: only graphfold writes there), replays them into
   * the store (the store's bulk replay: no engine, the diffs were validated when folded), and
   * commits them with `base` and the changelog's next offset, after the previous write. Returns
   * how many diffs it replayed; `flushed` waits for the last write.
   */
  async replay(records: readonly { readonly offset: number; readonly value: Buffer | null }[], next: number, base: Checkpoint): Promise<number> {
    await this.ctx.schemas.fetch(records.flatMap((r) => (r.value === null || r.value.length < 5 ? [] : [r.value.readUInt32BE(1)])));
    const diffs = records.flatMap((r) => (r.value === null ? [] : [this.decodeDiff(r.value, r.offset)]));
    await this.current.replay(diffs);
    await this.written;
    this.written = this.current.commit({ ...base, changelog: next });
    this.written.catch(() => undefined);
    return diffs.length;
  }

  /**
   * Opening step 4 for the store's record of rejected txIds, which the changelog does not hold:
   * one batch of the rejections topic, as this partition (or a previous owner) wrote it. The
   * rejections of this partition's records are staged as they were refused (the graph's head at
   * the time found in the slice log, by the refused record's offset); the caller commits them.
   * Rejections without a graph or a txId (records that did not decode) are not kept. Returns how
   * many it staged.
   */
  async restoreRejections(records: readonly { readonly value: Buffer | null; readonly timestamp: number }[]): Promise<number> {
    const framed = records.flatMap((r) => (r.value === null || r.value.length < 5 ? [] : [{ timestamp: r.timestamp, ...unframe(r.value) }]));
    await this.ctx.schemas.fetch(framed.map((f) => f.schemaId));
    const reader = avroTypes().rejection;
    const { inputs } = this.ctx.spec;
    let restored = 0;
    for (const { timestamp, schemaId, body } of framed) {
      const writer = this.ctx.schemas.known.get(schemaId);
      if (writer === undefined) continue;
      const rejection = reader.fromBuffer(body, reader.createResolver(writer)) as AvroRejection;
      if (rejection.graph === null || rejection.txId === null) continue;
      if (rejection.source.partition !== this.partition || !inputs.includes(rejection.source.topic)) continue;
      const offset = Number(rejection.source.offset);
      const graph = rejection.graph;
      const head = await lastSliceWhere(this.current, graph, await this.current.head(graph), (info) => info.source.topic !== rejection.source.topic || info.source.offset < offset);
      this.current.stageRejection(graph, {
        txId: rejection.txId,
        code: rejection.code,
        message: rejection.message,
        ...(rejection.instructionIndex === null ? {} : { instructionIndex: rejection.instructionIndex }),
        source: { topic: rejection.source.topic, partition: rejection.source.partition, offset },
        head,
        time: timestamp * 1000,
      });
      restored += 1;
    }
    return restored;
  }

  /** Waits for the store's write in flight, and fails as it failed. */
  async flushed(): Promise<void> {
    await this.written;
  }

  /** Drops what the store staged (a batch that will not be committed). */
  discard(): void {
    this.current.discard();
  }

  /** Waits for the store's write in flight; never rejects (a failed write shows at the next opening). */
  settled(): Promise<void> {
    return this.written.catch(() => undefined);
  }

  /**
   * Folds one transaction into the store's staged state (step 3): the engine folds against the
   * store's state of the graph; when it names what is not in memory (NotLoaded), the store loads
   * it and the engine folds again. An applied diff is staged unless `admit` refuses it.
   */
  private async foldOne(tx: GraphTransaction, options: FoldOptions, admit: (diff: GraphDiff) => TerminalError | undefined): Promise<FoldResult> {
    for (;;) {
      try {
        const result = fold(this.current.state(tx.graph), tx, options);
        if (result.outcome === 'applied') {
          const refusal = admit(result.diff);
          if (refusal !== undefined) return { outcome: 'refused', error: refusal };
          this.current.stage(result.diff);
        } else if (result.outcome === 'unchanged') {
          this.current.stageUnchanged(tx.graph, tx.txId);
        }
        return result;
      } catch (error) {
        if (!(error instanceof NotLoaded)) throw error;
        await this.current.load(tx.graph, error.needs);
      }
    }
  }

  private decodeDiff(value: Buffer, offset: number): GraphDiff {
    const topic = this.ctx.spec.diffs;
    try {
      return this.decoder.decodeDiff(value, this.ctx.schemas.known);
    } catch (error) {
      throw new FatalError(`changelog record at ${topic}/${this.partition}@${offset} is not a GraphDiff: ${(error as Error).message}; only graphfold may write to a diffs topic`, { topic, partition: this.partition, offset }, { cause: error });
    }
  }

  private foldOptions(source: SourcePosition, timestamp: number): FoldOptions {
    const { spec } = this.ctx;
    return { source, recordTime: timestamp * 1000, maxInstructions: spec.maxInstructions, ...(spec.schema === undefined ? {} : { schema: spec.schema }) };
  }

  /** Step 2. */
  private async decode(
    batch: readonly SourceRecord[],
  ): Promise<(({ readonly tx: GraphTransaction } | { readonly error: TerminalError }) & { readonly source: SourcePosition; readonly timestamp: number; readonly record: InputRecord; readonly headers: OutputRecord['headers'] })[]> {
    const records = batch.map((r) => {
      const source: SourcePosition = { topic: r.topic, partition: r.partition, offset: r.offset };
      const contentType = headerText(r.headers, 'content-type');
      const record: InputRecord = { key: r.key, value: r.value, topic: r.topic, partition: r.partition, ...(contentType === undefined ? {} : { contentType }) };
      return { record, source, timestamp: r.timestamp, headers: carriedHeaders(r.headers, this.ctx.spec.carryHeaders) };
    });
    const ids = records.flatMap(({ record }) => {
      const id = InputDecoder.schemaIdOf(record);
      return id === undefined ? [] : [id];
    });
    await this.ctx.schemas.fetch(ids);
    return records.map(({ record, source, timestamp, headers }) => {
      try {
        return { tx: this.decoder.decode(record, this.ctx.schemas.known), source, timestamp, record, headers };
      } catch (error) {
        if (error instanceof TerminalError) return { error, source, timestamp, record, headers };
        throw error;
      }
    });
  }

  private reportRejection(source: SourcePosition, error: TerminalError): void {
    if (!this.ctx.instrumentation.enabled('record.rejected')) return;
    this.ctx.instrumentation.emit('record.rejected', {
      processor: this.ctx.spec.name,
      topic: source.topic,
      partition: source.partition,
      offset: source.offset,
      code: error.code,
      message: error.message,
      ...(error.context.graph === undefined ? {} : { graph: error.context.graph }),
      ...(error.context.txId === undefined ? {} : { txId: error.context.txId }),
    });
  }

  /** Stages a refused transaction in the store's record of rejected txIds (a record whose txId is unknown is not kept). */
  private recordRejection(source: SourcePosition, timestamp: number, error: TerminalError): void {
    const { graph, txId, slice } = error.context;
    if (graph === undefined || txId === undefined) return;
    this.current.stageRejection(graph, {
      txId,
      code: error.code,
      message: error.message,
      ...(error.instructionIndex === undefined ? {} : { instructionIndex: error.instructionIndex }),
      source,
      head: slice ?? 0,
      time: timestamp * 1000,
    });
  }
}
