import { TerminalError } from '../errors';

/**
 * How producers map a record key to a partition. A graph lives on exactly one partition: the one
 * the configured partitioner gives its id. Kafka's Java client and kafkajs use murmur2 (the
 * default here); librdkafka clients (kcat, confluent-kafka-python, Go, .NET) use CRC32 unless
 * told `partitioner=murmur2_random`.
 *
 * - `murmur2`: Kafka's default partitioner, `toPositive(murmur2(key)) % partitions`, as
 *   `org.apache.kafka.common.utils.Utils.murmur2` computes it; librdkafka's `murmur2_random`.
 * - `crc32`: librdkafka's default (`consistent_random`, and `consistent`): `crc32(key) % partitions`.
 */
export type PartitionerName = 'murmur2' | 'crc32';

export const partitionerNames: readonly PartitionerName[] = ['murmur2', 'crc32'];

/** The partition of a key, for a topic of `partitions` partitions. */
export function partitionOf(key: Uint8Array | string, partitions: number, partitioner: PartitionerName = 'murmur2'): number {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  return partitioner === 'murmur2' ? (murmur2(bytes) & 0x7fffffff) % partitions : crc32(bytes) % partitions;
}

/**
 * Kafka's murmur2 (seed 0x9747b28c), a signed 32-bit result. Our own rather than kafkajs': theirs is
 * not exported, and it runs on every input record, where Math.imul beats its Long arithmetic.
 */
export function murmur2(data: Uint8Array): number {
  const m = 0x5bd1e995;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = (data[i] as number) | ((data[i + 1] as number) << 8) | ((data[i + 2] as number) << 16) | ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[whole + 2] as number) << 16;
    if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
    h ^= data[whole] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, as zlib and librdkafka compute it), unsigned. Node 20 has no zlib.crc32. */
export function crc32(data: Uint8Array): number {
  const table = (crcTable ??= buildCrcTable());
  let crc = 0xffffffff;
  for (const byte of data) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function buildCrcTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

const howTo: Readonly<Record<PartitionerName, string>> = {
  murmur2: "Kafka's default partitioner, murmur2 (librdkafka clients such as kcat, confluent-kafka-python, Go and .NET: set partitioner=murmur2_random; Java and kafkajs use it by default)",
  crc32: "librdkafka's default partitioner, CRC32 (partitioner=consistent_random); Java and kafkajs producers need a partitioner that hashes keys with CRC32",
};

/** Where an input record should be: its topic's partition count and the partitioner its producers must use. */
export interface Placement {
  readonly partitioner: PartitionerName;
  /** Partitions of the input topic. */
  readonly partitions: number;
}

/**
 * Refuses a record whose key the partitioner puts on another partition than the one it arrived
 * on: folding it would give its graph a second, independent history there. Undefined when it is
 * where it belongs (or has no key: that is refused on its own).
 */
export function misplaced(key: Buffer | null, arrived: { readonly topic?: string; readonly partition: number }, placement: Placement, context: { graph?: string; txId?: string } = {}): TerminalError | undefined {
  if (key === null) return undefined;
  const expected = partitionOf(key, placement.partitions, placement.partitioner);
  if (expected === arrived.partition) return undefined;
  const topic = arrived.topic === undefined ? '' : ` of ${arrived.topic}`;
  return new TerminalError(
    'WRONG_PARTITION',
    `record key '${key.toString('utf8')}' belongs on partition ${expected}${topic} (${placement.partitioner} over ${placement.partitions} partitions) but arrived on partition ${arrived.partition}: its producer hashes keys another way, and folding it here would give the graph a second history. Nothing of it was applied; send it again with ${howTo[placement.partitioner]}`,
    { ...context, ...(arrived.topic === undefined ? {} : { topic: arrived.topic }), partition: arrived.partition },
  );
}
