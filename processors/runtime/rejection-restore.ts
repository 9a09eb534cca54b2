import type { Kafka, KafkaMessage } from 'kafkajs';
import type { TaskCore } from '../task/task-core';
import { restorePartition } from './restore';

/** Where a partition's rejections are. */
export interface RejectionSource {
  readonly topic: string;
  /** The rejections topic's partition this input partition writes to. */
  readonly partition: number;
  readonly from: number;
  readonly to: number;
}

/**
 * Brings the store's record of rejected txIds up to the rejections topic: reads the rejections
 * topic's partition from `from` to `to` (read_committed, in a restore group of the processor's,
 * `<group>-restore-...`, as the changelog's restore) and hands each batch to the task core, which
 * stages the rejections of its partition's records as they were refused. The caller commits them
 * with the offset. Returns how many were staged.
 */
export async function restoreRejections(kafka: Kafka, groupPrefix: string, core: TaskCore, source: RejectionSource): Promise<number> {
  let restored = 0;
  await restorePartition(kafka, groupPrefix, { topic: source.topic, partition: source.partition, from: source.from, to: source.to }, async (messages: readonly KafkaMessage[]) => {
    restored += await core.restoreRejections(messages.map((m) => ({ value: m.value, timestamp: Number(m.timestamp) })));
  });
  return restored;
}
