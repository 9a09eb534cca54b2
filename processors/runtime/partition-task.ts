import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Admin, Batch, Kafka, KafkaMessage, PartitionOffset, Producer } from 'kafkajs';
import { ChangelogHistoryLostError, classify, FatalError, RetriableError, StoreAheadOfChangelogError, StoreDivergedError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';
import { GraphStore, StoreLayoutError } from '../store/graph-store';
import { chunks, type OutputLimits } from '../task/outputs';
import type { SourceRecord } from '../task/records';
import { TaskCore } from '../task/task-core';
import { attempting, type Attempt } from './access-refusal';
import { changelogMetadata, committedChangelogPosition, type CommittedOffsets } from './changelog-position';
import { Lifecycle } from './lifecycle';
import { restoreRejections } from './rejection-restore';
import { restorePartition } from './restore';
import { openFromSnapshot } from './snapshot-policy';
import type { Snapshots } from '../snapshots/snapshots';
import type { SchemaCatalog } from './schema-catalog';
import { groupId, storeDirectory, storeOptions, transactionalId, type ProcessorSpec, type Topology } from './topology';

/** What every task of one processor shares. */
export interface TaskContext {
  readonly topology: Topology;
  readonly spec: ProcessorSpec;
  readonly kafka: Kafka;
  readonly admin: Admin;
  readonly catalog: SchemaCatalog;
  readonly schemaIds: { readonly diff: number; readonly rejection: number };
  readonly rejectionPartitions: number;
  /** What the diffs and rejections topics accept. */
  readonly limits: OutputLimits;
  /** Partitions of the input topics, for the check that each record is on its key's partition. */
  readonly inputPartitions: number;
  readonly instrumentation: Instrumentation;
  /** The changelog's snapshots, when the topology keeps them. */
  readonly snapshots?: Snapshots;
}

/** What kafkajs hands `eachBatch`, as far as a task uses it. */
export interface BatchHooks {
  readonly resolveOffset: (offset: string) => void;
}

type TaskState = 'opening' | 'ready' | 'processing' | 'closing' | 'closed';

const transitions: Record<TaskState, readonly TaskState[]> = {
  opening: ['ready', 'closing'],
  ready: ['processing', 'closing'],
  processing: ['ready', 'closing'],
  closing: ['closed'],
  closed: [],
};

/**
 * Retries of the transactional producer start short: after a commit, the coordinator answers the
 * next transaction's first request with CONCURRENT_TRANSACTIONS until the commit markers are
 * written (a few milliseconds). kafkajs' default first backoff of 300 ms made every transaction
 * take 300 ms; Java's producer backs off 20 ms in this case.
 */
const transactionRetry = { initialRetryTime: 10, maxRetryTime: 2_000, retries: 15 };

/** Produce requests stay well under the broker's default 1 MiB record-batch limit. */
const maxChunkBytes = 512 * 1024;

/**
 * One input partition of a processor: its store (one RocksDB database), its transactional
 * producer (`<application>-<processor>-<partition>`) and its restore. Batches of all the
 * processor's input topics for this partition go through it one at a time.
 *
 * Opening (in this order):
 * 1. Connect the transactional producer. Its initTransactions fences the partition's previous
 *    owner, if one is still alive, and aborts its open transaction, so the changelog's end
 *    (read_committed) stops moving.
 * 2. Open the store. A store that is damaged (RocksDB reports corruption, or its layout is not
 *    this graphfold's) is deleted and rebuilt; any other failure (a lock another process holds, a
 *    full or read-only disk) leaves it alone and fails the opening, to be retried.
 * 2a. With snapshots configured: a store that is empty, or further behind the newest valid
 *    snapshot than a replay is worth, is replaced by that snapshot (snapshot-policy.ts).
 * 3. Compare the store's changelog checkpoint with the changelog. A store that claims more than
 *    the changelog holds is the last copy of that history: the opening fails, fatally, and the
 *    operator repairs the changelog from the store, or discards the store (`graphfold repair`).
 *    Then the changelog position the group committed with the input offsets (changelog-position.ts):
 *    past the changelog's end, the changelog lost history, which an empty or older store does not
 *    hold either: the opening fails the same way, whatever the store holds.
 * 4. Restore: replay the changelog from the checkpoint to its end into the store (the store's bulk
 *    replay: the diffs were validated when folded, so they are applied without the engine, a
 *    fetched batch per WriteBatch). A diff that does not follow its graph's head means the
 *    changelog is not the store's history (it was replaced, or written by someone else): a store
 *    whose checkpoint is past the changelog's start holds history of its own, so the opening fails,
 *    fatally, and the store is kept; a store at the start holds none, and is deleted and restored
 *    from the start. Then the store's record of rejected txIds,
 *    which the changelog does not hold: the rejections of this partition's records from the
 *    checkpoint's rejections offset (all the topic keeps, for a new store) to the topic's end.
 * 5. The group's committed offsets of the input partitions (read once, at step 3: step 1 fenced
 *    whoever else could move them): records below them were
 *    processed by the previous owner (possibly after kafkajs fetched, before step 1 fenced it)
 *    and are skipped. The store's checkpoint records them with the changelog's end: the store now
 *    reflects exactly the committed transactions.
 *
 * Processing a batch (the commit order; steps 1 to 3 and 5 are the task core's, `task/task-core.ts`,
 * which the TopologyTestDriver runs too):
 * 1. Skip records below the committed offset.
 * 2. Decode each record (writer schemas fetched from the registry first); a record that does not
 *    decode becomes a rejection.
 * 3. Prefetch the transactions, then fold each in order into the store's staged state (yielding
 *    to the event loop every 64, for queries); a refused transaction is staged in the store's
 *    record of rejected txIds, so it is written with the batch that refused it.
 * 4. In one Kafka transaction: produce the diffs to the changelog's partition of the same number
 *    and the rejections, send the consumer offset (last + 1) with the changelog's next offset as
 *    its metadata (opening step 3 reads it), commit. The changelog's next offset
 *    is then past the transaction's commit marker, which follows its diffs in the partition (only
 *    this task writes there); opening step 1 waits until a previous owner's markers are written.
 * 5. Wait for the store's previous write, then commit the store: the staged batch and the
 *    checkpoint (input offsets, the changelog's and the rejections' next offsets), written while
 *    the next batch folds.
 * 6. Resolve the offset with kafkajs, which then fetches on.
 * Any failure: abort the Kafka transaction, discard what the store staged and close the task,
 * leaving the offset unresolved, and throw the failure classified (errors.ts), with the partition
 * and offset. kafkajs fetches the batch again and the task is opened again after a backoff, which
 * brings the store to the last committed state (a commit that failed on the way back to us may
 * still have happened: opening finds out) and skips what was committed.
 */
export class PartitionTask {
  private readonly lifecycle: Lifecycle<TaskState>;
  private readonly core: TaskCore;
  private changelogNext: number;
  private committed: Promise<CommittedOffsets> | undefined;

  private constructor(
    private readonly ctx: TaskContext,
    readonly partition: number,
    private producer: Producer,
    store: GraphStore,
  ) {
    this.lifecycle = new Lifecycle(`task ${ctx.spec.name}/${partition}`, 'opening', transitions);
    const { spec, catalog, schemaIds, rejectionPartitions, inputPartitions, limits, instrumentation } = ctx;
    this.core = new TaskCore({ spec, schemas: catalog, schemaIds, rejectionPartitions, inputPartitions, limits, instrumentation }, partition, store);
    this.changelogNext = store.checkpoint().changelog ?? 0;
  }

  private get store(): GraphStore {
    return this.core.store;
  }

  /**
   * Opens the task: fences, restores, and learns where input resumes (see the class comment).
   * `handed`: the partition's store, open already (a standby replica's, taken over), for step 2.
   */
  static async open(ctx: TaskContext, partition: number, handed?: GraphStore): Promise<PartitionTask> {
    const started = Date.now();
    const context = { processor: ctx.spec.name, partition };
    const producer = ctx.kafka.producer({ transactionalId: transactionalId(ctx.topology, ctx.spec, partition), idempotent: true, maxInFlightRequests: 1, retry: transactionRetry });
    let task: PartitionTask | undefined;
    try {
      await producer.connect();
      const store = handed ?? (await openStore(ctx, partition));
      task = new PartitionTask(ctx, partition, producer, store);
      const end = await task.restore();
      await task.readCommittedOffsets(end);
      task.lifecycle.to('ready');
      ctx.instrumentation.emit('task.ready', { processor: ctx.spec.name, partition, seconds: (Date.now() - started) / 1000 });
      return task;
    } catch (error) {
      // The task's store, not the one first opened: a restore may have replaced it (or the store a standby handed over, when the task did not get that far).
      await (task?.store ?? handed)?.close().catch(() => undefined);
      await producer.disconnect().catch(() => undefined);
      throw classify(error, { doing: `open partition ${partition} of processor ${ctx.spec.name}`, context, cluster: `Kafka cluster at ${ctx.topology.kafka.brokers.join(',')}` });
    }
  }

  get closed(): boolean {
    return this.lifecycle.is('closing', 'closed');
  }

  /** The changelog offset after the last diff this task's store holds (for the assignor's positions). */
  get changelogPosition(): number {
    return this.changelogNext;
  }

  /** The bytes the store's directory holds (its files, the write-ahead log included). */
  async sizeOnDisk(): Promise<number> {
    const dir = this.store.location;
    const names = await readdir(dir).catch(() => []);
    const sizes = await Promise.all(names.map((name) => stat(join(dir, name)).then((s) => (s.isFile() ? s.size : 0), () => 0)));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /** The partition's store, for queries (which read written state only); valid until the task closes. */
  get reads(): GraphStore {
    return this.store;
  }

  /** Processes one batch exactly once, or fails and closes the task (see the class comment). */
  async process(batch: Batch, hooks: BatchHooks): Promise<void> {
    this.lifecycle.to('processing');
    const started = Date.now();
    let transaction: Awaited<ReturnType<Producer['transaction']>> | undefined;
    let at = Number(batch.firstOffset() ?? -1);
    try {
      // Steps 1 to 3.
      const folded = await this.core.fold(batch.topic, batch.messages.map((message) => sourceRecord(batch, message)));
      if (folded === undefined) {
        hooks.resolveOffset(batch.lastOffset());
        this.lifecycle.to('ready');
        return;
      }
      at = folded.first;

      // Step 4.
      const { topology, spec } = this.ctx;
      const id = transactionalId(topology, spec, this.partition);
      const group = groupId(topology, spec);
      const ids = `the transactional ids prefixed ${transactionalId(topology, spec, 0).replace(/0$/, '')}`;
      const inTransaction = (doing: string, needs: string): Attempt => ({ doing, needs, coordinated: `transactional id ${id}` });
      transaction = await attempting(topology.kafka, inTransaction(`start a transaction as transactional id ${id}`, `Write, Describe on ${ids}`), () => this.producer.transaction());
      const open = transaction;
      let changelogNext = this.changelogNext;
      for (const chunk of chunks(folded.diffs, maxChunkBytes)) {
        const [meta] = await attempting(topology.kafka, inTransaction(`write diffs to topic ${spec.diffs}`, `Write on topic ${spec.diffs}`), () => open.send({ topic: spec.diffs, messages: chunk }));
        if (meta?.baseOffset === undefined) throw new RetriableError(`the broker returned no offset for diffs sent to ${this.ctx.spec.diffs}`, { topic: this.ctx.spec.diffs, partition: this.partition });
        changelogNext = Number(meta.baseOffset) + chunk.length + 1;
      }
      let rejectionsNext: number | undefined;
      for (const chunk of chunks(folded.rejections, maxChunkBytes)) {
        const [meta] = await attempting(topology.kafka, inTransaction(`write rejections to topic ${spec.rejections}`, `Write on topic ${spec.rejections}`), () => open.send({ topic: spec.rejections, messages: chunk }));
        if (meta?.baseOffset !== undefined) rejectionsNext = Number(meta.baseOffset) + chunk.length;
      }
      // kafkajs' types omit the metadata its TxnOffsetCommit request carries.
      const committed: PartitionOffset & { metadata: string } = { partition: batch.partition, offset: String(folded.next), metadata: changelogMetadata(changelogNext) };
      await attempting(topology.kafka, { doing: `commit the offsets of ${batch.topic} in consumer group ${group}`, needs: `Read on group ${group} and on topic ${batch.topic}`, coordinated: `consumer group ${group}` }, () =>
        open.sendOffsets({
          consumerGroupId: group,
          topics: [{ topic: batch.topic, partitions: [committed] }],
        }),
      );
      const committing = Date.now();
      await attempting(topology.kafka, inTransaction(`commit a transaction as transactional id ${id}`, `Write, Describe on ${ids}`), () => open.commit());
      transaction = undefined;
      const commitMilliseconds = Date.now() - committing;

      // Step 5, then step 6.
      this.changelogNext = changelogNext;
      await this.core.commit(folded, { changelogNext, ...(rejectionsNext === undefined ? {} : { rejectionsNext }) });
      hooks.resolveOffset(String(folded.next - 1));
      this.lifecycle.to('ready');
      this.ctx.instrumentation.emit('batch.committed', {
        processor: this.ctx.spec.name,
        partition: this.partition,
        records: folded.records,
        applied: folded.diffs.length,
        rejected: folded.rejections.length,
        skipped: folded.skipped,
        nextOffset: folded.next,
        lag: Math.max(0, Number(batch.highWatermark) - folded.next),
        milliseconds: Date.now() - started,
        commitMilliseconds,
      });
    } catch (error) {
      if (transaction !== undefined) await transaction.abort().catch(() => undefined);
      await this.close();
      throw classify(error, { doing: `process partition ${this.partition} of processor ${this.ctx.spec.name} at offset ${at}`, context: { processor: this.ctx.spec.name, topic: batch.topic, partition: this.partition, offset: at }, cluster: `Kafka cluster at ${this.ctx.topology.kafka.brokers.join(',')}` });
    }
  }

  /** Closes the store (after its write in flight) and the producer. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.lifecycle.to('closing');
    this.core.discard();
    await this.core.settled();
    await this.store.close().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    this.lifecycle.to('closed');
  }

  /** Opening steps 2a, 3 and 4; returns the changelog's end. */
  private async restore(): Promise<number> {
    const { spec, topology } = this.ctx;
    const offsets = await attempting(topology.kafka, { doing: `read the offsets of changelog ${spec.diffs}`, needs: `Describe on topic ${spec.diffs}` }, () => this.ctx.admin.fetchTopicOffsets(spec.diffs));
    const mine = offsets.find((o) => o.partition === this.partition);
    if (mine === undefined) throw new FatalError(`changelog ${spec.diffs} has no partition ${this.partition}; it needs as many partitions as the inputs (run graphfold topology apply)`, { topic: spec.diffs, partition: this.partition });
    const low = Number(mine.low);
    const end = Number(mine.offset);
    const opened = await openFromSnapshot(this.store, this.ctx.snapshots, this.partition, storeOptions(this.ctx.topology), { changelogEnd: end, minSavedRecords: topology.snapshots?.minSavedRecords ?? 0, roles: ['owner'], name: spec.name, instrumentation: this.ctx.instrumentation });
    if (opened !== this.store) this.core.replaceStore(opened);
    this.changelogNext = this.store.checkpoint().changelog ?? 0;
    if (this.changelogNext > end) {
      const { origin } = this.ctx.topology;
      throw new StoreAheadOfChangelogError(
        `the store ${this.store.location} holds the changelog ${spec.diffs} partition ${this.partition} up to offset ${this.changelogNext}, but the changelog ends at ${end}: it lost history (was the diffs topic deleted and recreated?), and this store is now its only copy, so partition ${this.partition} is not started. ` +
          `To write the store's slices back to the changelog: graphfold repair changelog --topology ${origin} --processor ${spec.name}; to give that history up and rebuild the store from the changelog as it is: graphfold repair store --topology ${origin} --processor ${spec.name} --partition ${this.partition} --discard`,
        { processor: spec.name, topic: spec.diffs, partition: this.partition, offset: end, dir: this.store.location },
      );
    }
    await this.refuseLostHistory(end);
    if (this.changelogNext < low) {
      if (this.changelogNext > 0) await this.discardStore(`the store is at changelog offset ${this.changelogNext}, before the changelog's first offset ${low}`);
      if (low > 0) {
        throw new FatalError(
          `changelog ${spec.diffs} partition ${this.partition} starts at offset ${low}: its history was deleted (retention or compaction), so the graphs cannot be rebuilt; the diffs topic needs retention.ms=-1 and cleanup.policy=delete`,
          { topic: spec.diffs, partition: this.partition },
        );
      }
    }
    const checkpoint = this.changelogNext;
    try {
      await this.replayChangelog(end);
    } catch (error) {
      if (!(error instanceof StoreDivergedError)) throw error;
      if (checkpoint > low) throw this.notItsHistory(checkpoint, error);
      await this.discardStore(error.message);
      await this.replayChangelog(end);
    }
    await this.restoreRejectionLog();
    return end;
  }

  /**
   * Opening step 4, for the store's record of rejected txIds (which the changelog does not hold):
   * the rejections this partition's records got since the store's checkpoint (all the topic keeps,
   * for a rebuilt store), then the checkpoint names the rejections partition's end.
   */
  private async restoreRejectionLog(): Promise<void> {
    const { spec, topology } = this.ctx;
    const partition = this.partition % this.ctx.rejectionPartitions;
    const offsets = await attempting(topology.kafka, { doing: `read the offsets of rejections topic ${spec.rejections}`, needs: `Describe on topic ${spec.rejections}` }, () => this.ctx.admin.fetchTopicOffsets(spec.rejections));
    const mine = offsets.find((o) => o.partition === partition);
    if (mine === undefined) return;
    const end = Number(mine.offset);
    const checkpoint = this.store.checkpoint();
    const from = Math.max(Number(mine.low), checkpoint.rejections ?? 0);
    if (from >= end && checkpoint.rejections === end) return;
    const group = groupId(topology, spec);
    const restoreGroups = `${group}-restore-`;
    const reading: Attempt = { doing: `read rejections topic ${spec.rejections} in a restore group (${restoreGroups}...)`, needs: `Read on topic ${spec.rejections} and on the groups prefixed ${restoreGroups}`, coordinated: `restore group ${restoreGroups}...` };
    await attempting(topology.kafka, reading, () => restoreRejections(this.ctx.kafka, group, this.core, { topic: spec.rejections, partition, from, to: end }));
    await this.store.commit({ ...checkpoint, rejections: end });
  }

  private async replayChangelog(end: number): Promise<void> {
    const { spec, instrumentation } = this.ctx;
    const from = this.changelogNext;
    if (from >= end) return;
    const started = Date.now();
    let records = 0;
    let lastReport = 0;
    instrumentation.emit('restore.started', { processor: spec.name, partition: this.partition, from, to: end });
    const base = this.store.checkpoint();
    const restoreGroups = `${groupId(this.ctx.topology, spec)}-restore-`;
    const restoring: Attempt = { doing: `read changelog ${spec.diffs} in a restore group (${restoreGroups}...)`, needs: `Read on topic ${spec.diffs} and on the groups prefixed ${restoreGroups}`, coordinated: `restore group ${restoreGroups}...` };
    await attempting(this.ctx.topology.kafka, restoring, () => restorePartition(this.ctx.kafka, groupId(this.ctx.topology, spec), { topic: spec.diffs, partition: this.partition, from, to: end }, async (messages, next) => {
      records += await this.core.replay(messages.map((m) => ({ offset: Number(m.offset), value: m.value })), next, base);
      this.changelogNext = next;
      const seconds = (Date.now() - started) / 1000;
      if (Date.now() - lastReport >= 2_000) {
        lastReport = Date.now();
        const rate = records / Math.max(seconds, 1e-3);
        instrumentation.emit('restore.progress', { processor: spec.name, partition: this.partition, records, position: next, to: end, recordsPerSecond: rate, etaSeconds: ((end - next) * (records / Math.max(1, next - from))) / Math.max(rate, 1e-3) });
      }
    }));
    await this.core.flushed();
    instrumentation.emit('restore.finished', { processor: spec.name, partition: this.partition, records, seconds: (Date.now() - started) / 1000 });
  }

  /** Opening step 3, the group's side: refuses a changelog that ends before the position the group committed with its input. */
  private async refuseLostHistory(end: number): Promise<void> {
    const { spec, topology } = this.ctx;
    const position = committedChangelogPosition(await this.committedOffsets(), this.partition);
    if (position === undefined || position <= end) return;
    const { origin } = topology;
    throw new ChangelogHistoryLostError(
      `consumer group ${groupId(topology, spec)} committed partition ${this.partition} of its input with the changelog ${spec.diffs} at offset ${position}, but the changelog ends at ${end}: it lost history it had (was the diffs topic deleted and recreated?), which the store ${this.store.location} does not hold (it is at offset ${this.changelogNext}), so partition ${this.partition} is not started: ` +
        `resuming the input where the group committed would number the graphs from slice 1 again and apply known transactions twice. To write that history back, on the instance whose store holds it (it refuses to start with StoreAheadOfChangelogError): graphfold repair changelog --topology ${origin} --processor ${spec.name} --partition ${this.partition}; ` +
        `to give that history up and take the changelog as it is: graphfold repair store --topology ${origin} --processor ${spec.name} --partition ${this.partition} --discard`,
      { processor: spec.name, topic: spec.diffs, partition: this.partition, offset: end, dir: this.store.location },
    );
  }

  /** Opening step 4's refusal: the changelog does not continue a store that holds history of its own (its checkpoint is past the changelog's start). */
  private notItsHistory(checkpoint: number, divergence: StoreDivergedError): StoreAheadOfChangelogError {
    const { spec, topology } = this.ctx;
    const { origin } = topology;
    return new StoreAheadOfChangelogError(
      `the changelog ${spec.diffs} partition ${this.partition} does not continue the store ${this.store.location} from its checkpoint at offset ${checkpoint} (${divergence.message}): the changelog holds another history than the store (was the diffs topic deleted, recreated and written again?), and this store may be the only copy of its own, so it is kept and partition ${this.partition} is not started. ` +
        `To give the store's history up and rebuild the store from the changelog as it is: graphfold repair store --topology ${origin} --processor ${spec.name} --partition ${this.partition} --discard; ` +
        `to keep the store's instead, the changelog's has to go (graphfold repair changelog does not mix two histories): recreate the diffs topic empty, then graphfold repair changelog --topology ${origin} --processor ${spec.name} --partition ${this.partition} from this store`,
      { ...divergence.context, processor: spec.name, topic: spec.diffs, partition: this.partition, offset: checkpoint, dir: this.store.location },
      { cause: divergence },
    );
  }

  /** The group's committed offsets of the inputs, read once per opening (after step 1 fenced the previous owner, they do not move). */
  private committedOffsets(): Promise<CommittedOffsets> {
    const group = groupId(this.ctx.topology, this.ctx.spec);
    this.committed ??= attempting(this.ctx.topology.kafka, { doing: `read the committed offsets of consumer group ${group}`, needs: `Read on group ${group}`, coordinated: `consumer group ${group}` }, () =>
      this.ctx.admin.fetchOffsets({ groupId: group, topics: [...this.ctx.spec.inputs] }),
    );
    return this.committed;
  }

  private async discardStore(reason: string): Promise<void> {
    this.ctx.instrumentation.emit('store.discarded', { processor: this.ctx.spec.name, partition: this.partition, reason });
    const dir = this.store.location;
    await this.store.close();
    await GraphStore.destroy(dir);
    this.core.replaceStore(await GraphStore.open(dir, storeOptions(this.ctx.topology)));
    this.changelogNext = 0;
  }

  /** Opening step 5. */
  private async readCommittedOffsets(changelogEnd: number): Promise<void> {
    const committed = await this.committedOffsets();
    const inputs: Record<string, number> = {};
    for (const { topic, partitions } of committed) {
      const mine = partitions.find((p) => p.partition === this.partition);
      if (mine !== undefined && Number(mine.offset) >= 0) {
        this.core.resume(topic, Number(mine.offset));
        inputs[topic] = Number(mine.offset);
      }
    }
    this.changelogNext = changelogEnd;
    const current = this.store.checkpoint();
    const currentInputs = current.inputs ?? {};
    const same = current.changelog === changelogEnd && Object.keys(inputs).length === Object.keys(currentInputs).length && Object.entries(inputs).every(([k, v]) => currentInputs[k] === v);
    if (!same) await this.store.commit({ changelog: changelogEnd, inputs, ...(current.rejections === undefined ? {} : { rejections: current.rejections }) });
  }
}

/** A fetched record as the task core reads it. */
function sourceRecord(batch: Batch, message: KafkaMessage): SourceRecord {
  return { topic: batch.topic, partition: batch.partition, offset: Number(message.offset), key: message.key, value: message.value, timestamp: Number(message.timestamp), headers: message.headers ?? {} };
}

/** Opening step 2: only a damaged store is rebuilt (a lock or a full disk is not damage). */
async function openStore(ctx: TaskContext, partition: number): Promise<GraphStore> {
  const dir = storeDirectory(ctx.topology, ctx.spec, partition);
  try {
    return await GraphStore.open(dir, storeOptions(ctx.topology));
  } catch (error) {
    if (!(error instanceof StoreDivergedError)) throw error;
    const reason = error instanceof StoreLayoutError ? error.message : `it does not open: ${error.message}`;
    ctx.instrumentation.emit('store.discarded', { processor: ctx.spec.name, partition, reason });
    await GraphStore.destroy(dir);
    return GraphStore.open(dir, storeOptions(ctx.topology));
  }
}

