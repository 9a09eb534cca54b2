import type { Kafka, KafkaMessage } from 'kafkajs';
import { avroTypes } from '../codec/avro';
import type { AvroRejection } from '../codec/avro-wire.generated';
import { unframe } from '../codec/framing';
import type { GraphStore } from '../store/graph-store';
import { lastSliceWhere } from '../store/slice-search';
import { restorePartition } from './restore';
import type { SchemaCatalog } from './schema-catalog';

/** Where a partition's rejections are, and which of them are its own. */
export interface RejectionSource {
  readonly topic: string;
  /** The rejections topic's partition this input partition writes to. */
  readonly partition: number;
  /** The input partition: only rejections of records from it (and from `inputs`) are its own. */
  readonly inputPartition: number;
  readonly inputs: readonly string[];
  readonly from: number;
  readonly to: number;
}

/**
 * Brings the store's record of rejected txIds up to the rejections topic: the rejections of this
 * partition's records from `from` to `to` (read_committed, in a restore group of the processor's,
 * `<group>-restore-...`, as the changelog's restore), as a previous owner or an earlier run
 * of this one wrote them, are staged as they were refused (the graph's head at the time is found
 * in the slice log, by the refused record's offset). The caller commits them with the offset.
 * Rejections without a graph or a txId (records that did not decode) are not kept.
 */
export async function restoreRejections(kafka: Kafka, groupPrefix: string, catalog: SchemaCatalog, store: GraphStore, source: RejectionSource): Promise<number> {
  let restored = 0;
  const reader = avroTypes().rejection;
  await restorePartition(kafka, groupPrefix, { topic: source.topic, partition: source.partition, from: source.from, to: source.to }, async (messages: readonly KafkaMessage[]) => {
    const framed = messages.flatMap((m) => (m.value === null || m.value.length < 5 ? [] : [{ message: m, ...unframe(m.value) }]));
    await catalog.fetch(framed.map((f) => f.schemaId));
    for (const { message, schemaId, body } of framed) {
      const writer = catalog.known.get(schemaId);
      if (writer === undefined) continue;
      const rejection = reader.fromBuffer(body, reader.createResolver(writer)) as AvroRejection;
      if (rejection.graph === null || rejection.txId === null) continue;
      if (rejection.source.partition !== source.inputPartition || !source.inputs.includes(rejection.source.topic)) continue;
      const offset = Number(rejection.source.offset);
      const graph = rejection.graph;
      const head = await lastSliceWhere(store, graph, await store.head(graph), (info) => info.source.topic !== rejection.source.topic || info.source.offset < offset);
      store.stageRejection(graph, {
        txId: rejection.txId,
        code: rejection.code,
        message: rejection.message,
        ...(rejection.instructionIndex === null ? {} : { instructionIndex: rejection.instructionIndex }),
        source: { topic: rejection.source.topic, partition: rejection.source.partition, offset },
        head,
        time: Number(message.timestamp) * 1000,
      });
      restored += 1;
    }
  });
  return restored;
}
