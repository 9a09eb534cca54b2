import { randomBytes } from 'node:crypto';
import { AssignerProtocol, type Kafka, type KafkaMessage, type PartitionAssigner } from 'kafkajs';
import { classify } from '../errors';

export interface RestoreRange {
  readonly topic: string;
  readonly partition: number;
  /** First offset to read. */
  readonly from: number;
  /** The changelog's end (read_committed) when the restore began: read up to, not including, it. */
  readonly to: number;
}


/**
 * Reads one changelog partition from `from` to `to` with read_committed (aborted transactions
 * are never seen) and hands the records over in batches. kafkajs reads only through a consumer
 * group, so the restore uses a group of its own, whose assigner hands it just this partition; it
 * commits no offsets and leaves when done.
 *
 * The end is reached when the consumer's position passes `to`: transaction markers occupy offsets
 * but never reach `eachBatch`, so positions come from kafkajs' end-of-batch events, which cover
 * batches of markers only.
 */
export async function restorePartition(
  kafka: Kafka,
  groupPrefix: string,
  range: RestoreRange,
  /** Applies records read from the changelog, in order; `next` is the offset after them. */
  apply: (messages: readonly KafkaMessage[], next: number) => Promise<void>,
): Promise<void> {
  if (range.from >= range.to) return;
  const consumer = kafka.consumer({
    groupId: `${groupPrefix}-restore-${range.partition}-${randomBytes(4).toString('hex')}`,
    partitionAssigners: [onlyPartitions(range.topic, [range.partition])],
    maxBytesPerPartition: 8 << 20,
    maxWaitTimeInMs: 250,
    retry: { retries: 8 },
  });
  let position = range.from;
  let settle: (error?: Error) => void = () => undefined;
  const finished = new Promise<void>((resolve, reject) => {
    settle = (error) => (error === undefined ? resolve() : reject(error));
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.partition !== range.partition) return;
    position = Math.max(position, Number(payload.lastOffset) + 1);
    if (position >= range.to) settle();
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    settle(classify(payload.error, { doing: `restore ${range.topic} partition ${range.partition} at offset ${position}`, context: { topic: range.topic, partition: range.partition, offset: position } }));
  });
  // A failure of `apply` (a diff that does not follow its graph's head, a full disk) ends the
  // restore with that very error: handed to kafkajs, it would be retried and lose its type.
  let failed = false;
  try {
    await consumer.connect();
    await consumer.subscribe({ topic: range.topic });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        if (failed) return;
        const messages = batch.messages.filter((m) => Number(m.offset) < range.to);
        try {
          if (messages.length > 0) await apply(messages, Number((messages[messages.length - 1] as KafkaMessage).offset) + 1);
        } catch (error) {
          failed = true;
          settle(error as Error);
        }
      },
    });
    consumer.seek({ topic: range.topic, partition: range.partition, offset: String(range.from) });
    await finished;
  } finally {
    await consumer.disconnect();
  }
}

/** An assigner for a group of one: these partitions of this topic, nothing else (a restore, a follower). */
export function onlyPartitions(topic: string, partitions: readonly number[]): PartitionAssigner {
  return () => ({
    name: 'GraphfoldRestore',
    version: 1,
    async assign({ members }) {
      return members.map(({ memberId }, i) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: i === 0 ? { [topic]: [...partitions] } : {}, userData: Buffer.alloc(0) }),
      }));
    },
    protocol({ topics }) {
      return { name: 'GraphfoldRestore', metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.alloc(0) }) };
    },
  });
}
