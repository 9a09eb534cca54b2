import { Partitioners, type PartitionMetadata } from 'kafkajs';

/**
 * The partition Kafka's default partitioner gives a key: murmur2 of its bytes, made positive,
 * modulo the partition count, as kafkajs and the Java client compute it (kafkajs' own
 * DefaultPartitioner, called here, so the two can never disagree). A graph lives on the partition
 * of its id.
 */
export function partitionOf(key: string, partitions: number): number {
  if (!(Number.isSafeInteger(partitions) && partitions > 0)) throw new RangeError(`partitionOf: ${partitions} is not a partition count`);
  let metadata = metadataByCount.get(partitions);
  if (metadata === undefined) {
    metadata = Array.from({ length: partitions }, (_, partitionId) => ({ partitionErrorCode: 0, partitionId, leader: 0, replicas: [0], isr: [0] }));
    metadataByCount.set(partitions, metadata);
  }
  return partitioner({ topic: 'graphs', partitionMetadata: metadata, message: { key, value: null } });
}

const partitioner = Partitioners.DefaultPartitioner();
const metadataByCount = new Map<number, PartitionMetadata[]>();
