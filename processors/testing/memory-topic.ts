import type { RecordHeaders } from '../codec/headers';

/** A record on a topic of the test driver. */
export interface TopicRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** Milliseconds since the epoch. */
  readonly timestamp: number;
  readonly headers: RecordHeaders;
}

/** A record to append: what a producer sends. */
export interface AppendedRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly timestamp: number;
  readonly headers?: RecordHeaders;
}

/**
 * A Kafka topic in memory, for {@link TopologyTestDriver} only: partitions of records at offsets
 * from 0. A transactional append ends with a commit marker that takes an offset and is never
 * read, as Kafka's does, so the offsets the task core sees (and checkpoints) are Kafka's.
 */
export class MemoryTopic {
  private readonly logs: TopicRecord[][];
  private readonly ends: number[];

  constructor(
    readonly name: string,
    readonly partitions: number,
  ) {
    this.logs = Array.from({ length: partitions }, () => []);
    this.ends = Array.from({ length: partitions }, () => 0);
  }

  /** Appends records to a partition; returns the first one's offset. `transactional`: a commit marker follows them. */
  append(partition: number, records: readonly AppendedRecord[], options: { readonly transactional: boolean }): number {
    const log = this.log(partition);
    const base = this.ends[partition] as number;
    records.forEach((r, i) => log.push({ topic: this.name, partition, offset: base + i, key: r.key, value: r.value, timestamp: r.timestamp, headers: r.headers ?? {} }));
    this.ends[partition] = base + records.length + (options.transactional ? 1 : 0);
    return base;
  }

  /** The offset the next record of a partition gets (Kafka's log end offset). */
  end(partition: number): number {
    this.log(partition);
    return this.ends[partition] as number;
  }

  /** The records of a partition from offset `from` up to (not including) `to`. */
  read(partition: number, from = 0, to = Number.POSITIVE_INFINITY): readonly TopicRecord[] {
    return this.log(partition).filter((r) => r.offset >= from && r.offset < to);
  }

  /** Every record of every partition, partition by partition. */
  all(): readonly TopicRecord[] {
    return this.logs.flat();
  }

  private log(partition: number): TopicRecord[] {
    const log = this.logs[partition];
    if (log === undefined) throw new RangeError(`topic ${this.name} has partitions 0 to ${this.partitions - 1}; there is no partition ${partition}`);
    return log;
  }
}
