import { existsSync } from 'node:fs';
import type { Kafka, PartitionOffset, Producer } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import { InputDecoder } from '../codec/input';
import { FatalError, StoreLockedError } from '../errors';
import type { GraphDiff } from '../engine/model';
import { GraphStore } from '../store/graph-store';
import { changelogMetadata, committedChangelogPosition } from '../runtime/changelog-position';
import { kafkaClient } from '../runtime/kafka-client';
import { chunks, diffMessage } from '../task/outputs';
import type { OutputRecord } from '../task/records';
import { restorePartition } from '../runtime/restore';
import { SchemaCatalog } from '../runtime/schema-catalog';
import { groupId, storeDirectory, storeOptions, transactionalId, type ProcessorSpec, type Topology } from '../runtime/topology';
import { retry } from '../retry';
import { clusterFailure } from './cluster-failure';

/** What the repair of one partition did. */
export interface PartitionRepair {
  readonly processor: string;
  readonly partition: number;
  /** `written`: diffs were written back; `intact`: the changelog held every slice already; `absent`: this instance has no store of it. */
  readonly outcome: 'written' | 'intact' | 'absent';
  readonly graphs: number;
  readonly diffs: number;
  /**
   * `graphfold repair store`: the group had committed the partition's input with the changelog
   * further than it now ends (it lost history); this end is recorded in that position's place, so
   * the processor takes the changelog as it is.
   */
  readonly accepted?: number;
}

/** Diffs per Kafka transaction: a repair of a large store commits as it goes (and resumes where it stopped). */
const diffsPerTransaction = 5_000;
const maxChunkBytes = 512 * 1024;

/**
 * `graphfold repair changelog`: writes back to a processor's changelog the slices its stores on
 * this instance hold and the changelog lacks (after the diffs topic was deleted and recreated,
 * say), so that the changelog is again the whole history and the processor starts.
 *
 * For each partition whose store is here, in this order:
 * 1. Open the store (which fails while a processor holds it: stop it first).
 * 2. Take over the partition's transactional id, which fences any instance still writing there.
 * 3. Read the changelog partition (read_committed) and, per graph, the slices it holds. Slices
 *    it holds must be the store's (same numbers, same txIds); otherwise it holds another history
 *    and the repair refuses to mix them.
 * 4. Write, graph by graph in slice order, the store's diffs for the slices the changelog lacks,
 *    with the same key, value and timestamp as the processor wrote them (the headers it carried
 *    from the input records, traceparent and tracestate, are not in the store and are not
 *    written again), in transactions of up to 5,000 diffs.
 * 5. Record the changelog's new end in the store's checkpoint, so the processor restores nothing
 *    and resumes its input where the group committed; and as the changelog position of the group's
 *    committed offsets (the offsets as they are), whose position in the lost changelog the new
 *    end, with fewer transaction markers, may be short of.
 * Exactly once: a diff is written only if step 3 did not find it, so a repair that stopped half
 * way (a crash, a SIGKILL) is run again and writes the rest.
 */
export async function repairChangelog(topology: Topology, options: { readonly processor?: string; readonly partition?: number; readonly progress?: (line: string) => void } = {}): Promise<PartitionRepair[]> {
  const progress = options.progress ?? (() => undefined);
  const kafka = kafkaClient(topology.kafka, 'repair');
  const admin = kafka.admin();
  const catalog = new SchemaCatalog(topology.registry);
  const repairs: PartitionRepair[] = [];
  try {
    await admin.connect().catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, 'connect');
    });
    for (const spec of processorsOf(topology, options.processor)) {
      const schemaId = await catalog.register(spec.diffs, avroTypes().diff);
      for (const partition of partitionsOf(spec, options.partition)) {
        const dir = storeDirectory(topology, spec, partition);
        if (!existsSync(dir)) {
          repairs.push({ processor: spec.name, partition, outcome: 'absent', graphs: 0, diffs: 0 });
          continue;
        }
        repairs.push(await repairPartition(topology, spec, partition, { kafka, admin, catalog, schemaId, progress }));
      }
    }
    return repairs;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

async function repairPartition(
  topology: Topology,
  spec: ProcessorSpec,
  partition: number,
  deps: { readonly kafka: Kafka; readonly admin: ReturnType<Kafka['admin']>; readonly catalog: SchemaCatalog; readonly schemaId: number; readonly progress: (line: string) => void },
): Promise<PartitionRepair> {
  const dir = storeDirectory(topology, spec, partition);
  const store = await openForRepair(topology, dir);
  const producer = deps.kafka.producer({ transactionalId: transactionalId(topology, spec, partition), idempotent: true, maxInFlightRequests: 1 });
  try {
    // 2.
    await producer.connect();
    // 3.
    const present = await changelogSlices(deps.kafka, topology, spec, partition, deps.admin, deps.catalog);
    let graphs = 0;
    let written = 0;
    let pending: OutputRecord[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const transaction = await producer.transaction();
      try {
        for (const chunk of chunks(pending, maxChunkBytes)) await transaction.send({ topic: spec.diffs, messages: chunk });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
      written += pending.length;
      deps.progress(`${spec.name}/${partition}: ${written} diffs written to ${spec.diffs}`);
      pending = [];
    };
    // 4.
    const names: string[] = [];
    for await (const graph of store.graphs()) names.push(graph);
    names.sort();
    for (const graph of names) {
      const head = await store.head(graph);
      const held = present.get(graph) ?? new Map<number, string>();
      let from = 1;
      for await (const info of store.sliceLog(graph, 1, head)) {
        const there = held.get(info.slice);
        if (there === undefined) break;
        if (there !== info.txId) {
          throw new FatalError(`changelog ${spec.diffs} partition ${partition} holds slice ${info.slice} of graph '${graph}' as txId ${there}, but the store ${dir} holds it as ${info.txId}: they are different histories, so repair changelog does not mix them; to keep the changelog's, discard the store with graphfold repair store`, { graph, slice: info.slice, partition, dir });
        }
        from = info.slice + 1;
      }
      if (held.size > from - 1) {
        throw new FatalError(`changelog ${spec.diffs} partition ${partition} holds slices of graph '${graph}' that the store ${dir} lacks (it holds ${held.size}, the store agrees on ${from - 1}): the changelog is ahead, nothing to repair from this store`, { graph, partition, dir });
      }
      if (from > head) continue;
      graphs += 1;
      for await (const diff of store.diffs(graph, from, head)) {
        pending.push(diffMessage(diff, deps.schemaId, partition));
        if (pending.length >= diffsPerTransaction) await flush();
      }
    }
    await flush();
    // 5.
    const end = Number((await deps.admin.fetchTopicOffsets(spec.diffs)).find((o) => o.partition === partition)?.offset ?? 0);
    await store.commit({ ...store.checkpoint(), changelog: end });
    await recordChangelogEnd(producer, deps.admin, topology, spec, partition, end);
    return { processor: spec.name, partition, outcome: written > 0 ? 'written' : 'intact', graphs, diffs: written };
  } finally {
    await producer.disconnect().catch(() => undefined);
    await store.close();
  }
}

/** Step 3: per graph, slice -> txId of the diffs the changelog partition holds. */
async function changelogSlices(kafka: Kafka, topology: Topology, spec: ProcessorSpec, partition: number, admin: ReturnType<Kafka['admin']>, catalog: SchemaCatalog): Promise<Map<string, Map<number, string>>> {
  const offsets = (await admin.fetchTopicOffsets(spec.diffs)).find((o) => o.partition === partition);
  if (offsets === undefined) throw new FatalError(`changelog ${spec.diffs} has no partition ${partition}; create it with graphfold topology apply --topology ${topology.origin}`);
  const present = new Map<string, Map<number, string>>();
  const decoder = new InputDecoder(Number.MAX_SAFE_INTEGER);
  // In a restore group like the processor's (`<group>-restore-...`), which its ACLs allow.
  await restorePartition(kafka, groupId(topology, spec), { topic: spec.diffs, partition, from: Number(offsets.low), to: Number(offsets.offset) }, async (messages) => {
    await catalog.fetch(messages.flatMap((m) => (m.value === null || m.value.length < 5 ? [] : [m.value.readUInt32BE(1)])));
    for (const message of messages) {
      if (message.value === null) continue;
      const diff: GraphDiff = decoder.decodeDiff(message.value, catalog.known);
      let slices = present.get(diff.graph);
      if (slices === undefined) present.set(diff.graph, (slices = new Map()));
      slices.set(diff.slice, diff.txId);
    }
  });
  return present;
}

/**
 * Records `end` as the changelog position of the group's committed offsets of `partition`, the
 * offsets as they are, in a transaction of `producer` (the partition's transactional id, which
 * fenced any owner: nothing commits them meanwhile). Nothing to record where the group committed
 * nothing.
 */
async function recordChangelogEnd(producer: Producer, admin: ReturnType<Kafka['admin']>, topology: Topology, spec: ProcessorSpec, partition: number, end: number): Promise<void> {
  const consumerGroupId = groupId(topology, spec);
  const committed = await admin.fetchOffsets({ groupId: consumerGroupId, topics: [...spec.inputs] });
  const topics = committed.flatMap(({ topic, partitions }) => {
    const mine = partitions.find((p) => p.partition === partition);
    if (mine === undefined || Number(mine.offset) < 0) return [];
    // kafkajs' types omit the metadata its TxnOffsetCommit request carries.
    const offset: PartitionOffset & { metadata: string } = { partition, offset: mine.offset, metadata: changelogMetadata(end) };
    return [{ topic, partitions: [offset] }];
  });
  if (topics.length === 0) return;
  // Retried: kafkajs does not retry the AddOffsetsToTxn this transaction starts with, which the
  // coordinator answers CONCURRENT_TRANSACTIONS while the previous transaction's markers are written.
  const site = { doing: `record the changelog's end ${end} in the committed offsets of consumer group ${consumerGroupId}`, context: { processor: spec.name, topic: spec.diffs, partition }, cluster: `Kafka cluster at ${topology.kafka.brokers.join(',')}` };
  await retry(
    async () => {
      const transaction = await producer.transaction();
      try {
        await transaction.sendOffsets({ consumerGroupId, topics });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined);
        throw error;
      }
    },
    { site, retries: 8, policy: offsetsBackoff },
  );
}

/** Backoff of the offsets transaction: markers take milliseconds to write. */
const offsetsBackoff = Object.freeze({ initialMs: 20, maxMs: 2_000, multiplier: 2, jitter: 0.2 });

/**
 * `graphfold repair store --discard`: deletes this instance's stores of a processor's partitions,
 * so that each is rebuilt from the changelog as it is when the processor next starts: the
 * explicit choice to give up history the changelog lost. Where the group committed a partition's
 * input with the changelog further than it now ends (the changelog lost history, which a
 * processor refuses whatever store it has, an empty one included), the changelog's end is
 * recorded in that position's place, whether this instance has the store or not: the choice is
 * the partition's. Returns, per partition, what was deleted and accepted.
 */
export async function discardStores(topology: Topology, options: { readonly processor?: string; readonly partition?: number } = {}): Promise<PartitionRepair[]> {
  const discarded: PartitionRepair[] = [];
  const kafka = kafkaClient(topology.kafka, 'repair');
  const admin = kafka.admin();
  try {
    await admin.connect().catch((error: unknown) => {
      throw clusterFailure(error, topology.kafka, 'connect');
    });
    for (const spec of processorsOf(topology, options.processor)) {
      for (const partition of partitionsOf(spec, options.partition)) {
        const repair = await discardStore(topology, spec, partition);
        const accepted = await acceptChangelog(kafka, admin, topology, spec, partition);
        discarded.push(accepted === undefined ? repair : { ...repair, accepted });
      }
    }
    return discarded;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The store's part of {@link discardStores}. */
async function discardStore(topology: Topology, spec: ProcessorSpec, partition: number): Promise<PartitionRepair> {
  const dir = storeDirectory(topology, spec, partition);
  if (!existsSync(dir)) return { processor: spec.name, partition, outcome: 'absent', graphs: 0, diffs: 0 };
  const store = await openForRepair(topology, dir);
  let graphs = 0;
  let slices = 0;
  try {
    for await (const graph of store.graphs()) {
      graphs += 1;
      slices += await store.head(graph);
    }
  } finally {
    await store.close();
  }
  await GraphStore.destroy(dir);
  return { processor: spec.name, partition, outcome: 'written', graphs, diffs: slices };
}

/** The group's part of {@link discardStores}: the changelog's end, when it had to be recorded in place of a committed position past it. */
async function acceptChangelog(kafka: Kafka, admin: ReturnType<Kafka['admin']>, topology: Topology, spec: ProcessorSpec, partition: number): Promise<number | undefined> {
  const end = async (): Promise<number> => Number((await admin.fetchTopicOffsets(spec.diffs)).find((o) => o.partition === partition)?.offset ?? 0);
  const position = committedChangelogPosition(await admin.fetchOffsets({ groupId: groupId(topology, spec), topics: [...spec.inputs] }), partition);
  if (position === undefined || position <= (await end())) return undefined;
  const producer = kafka.producer({ transactionalId: transactionalId(topology, spec, partition), idempotent: true, maxInFlightRequests: 1 });
  try {
    await producer.connect();
    const now = await end();
    await recordChangelogEnd(producer, admin, topology, spec, partition, now);
    return now;
  } finally {
    await producer.disconnect().catch(() => undefined);
  }
}

async function openForRepair(topology: Topology, dir: string): Promise<GraphStore> {
  try {
    return await GraphStore.open(dir, storeOptions(topology));
  } catch (error) {
    if (error instanceof StoreLockedError) throw new FatalError(`the store ${dir} is in use (a processor runs on this store.dir): stop it, then repair`, { dir }, { cause: error });
    throw error;
  }
}

function processorsOf(topology: Topology, name: string | undefined): readonly ProcessorSpec[] {
  if (name === undefined) return topology.processors;
  const spec = topology.processors.find((p) => p.name === name);
  if (spec === undefined) throw new FatalError(`the topology ${topology.origin} has no processor ${name} (processors: ${topology.processors.map((p) => p.name).join(', ')})`);
  return [spec];
}

function partitionsOf(spec: ProcessorSpec, partition: number | undefined): readonly number[] {
  if (partition === undefined) return Array.from({ length: spec.partitions }, (_, p) => p);
  if (partition >= spec.partitions) throw new FatalError(`processor ${spec.name} has partitions 0 to ${spec.partitions - 1}, not ${partition}`);
  return [partition];
}
