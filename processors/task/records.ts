import type { RecordHeaders } from '../codec/headers';

/** A record of an input topic, as the task core reads it (what a Kafka client fetched, with no client types). */
export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The record's timestamp, milliseconds since the epoch. */
  readonly timestamp: number;
  readonly headers?: RecordHeaders;
}

/**
 * A record the task writes, a diff to its changelog or a rejection: in the shape a Kafka
 * producer sends (kafkajs' `Message` is a supertype), so the runtime sends it as it is.
 */
export interface OutputRecord {
  readonly key: Buffer | string | null;
  readonly value: Buffer;
  readonly partition: number;
  /** Milliseconds since the epoch, as text (Kafka clients' form); absent: the producer's clock. */
  readonly timestamp?: string;
  readonly headers?: Record<string, Buffer | string | (Buffer | string)[]>;
}
