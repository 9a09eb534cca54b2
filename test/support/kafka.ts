import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { IHeaders, Producer } from 'kafkajs';
import { waitForLeaders } from '../../processors/admin/topics';
import { clusterFromEnvironment } from './environment';
import type { ClusterAddresses } from './environment';

/**
 * Clients and names for tests against the real cluster the integration project's global setup
 * provides. Every test makes its own topics and groups with {@link uniqueName}, so tests never see
 * each other's records and need no cleanup.
 */

/** The cluster of this test run. */
export function testCluster(): ClusterAddresses {
  const cluster = clusterFromEnvironment();
  if (cluster === undefined) {
    throw new Error(
      'no cluster: integration tests get theirs from test/support/global-setup.ts; run them through jest\'s integration project (npm test, or npx jest --selectProjects integration)',
    );
  }
  return cluster;
}

/** `<prefix>-<time>-<random>`: unique across tests, runs and processes; valid as a topic, group or transactional id. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/**
 * A kafkajs client for the test cluster. It logs nothing: kafkajs logs every retried protocol
 * error (a coordinator still loading, a concurrent transaction) at ERROR, and real failures
 * surface as rejected promises anyway.
 */
export function testKafka(clientId: string = uniqueName('test')): Kafka {
  return new Kafka({
    clientId,
    brokers: [...testCluster().brokers],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

export interface TopicOptions {
  /** Prefix of the generated name. @default 'topic' */
  readonly prefix?: string;
  /** @default 1 */
  readonly partitions?: number;
  /** Topic configuration, e.g. `{ 'cleanup.policy': 'compact' }`. */
  readonly config?: Readonly<Record<string, string>>;
}

/** Creates a fresh topic (the broker does not auto-create) and waits for its leaders; returns its name. */
export async function createTopic(kafka: Kafka, options: TopicOptions = {}): Promise<string> {
  const topic = uniqueName(options.prefix ?? 'topic');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [
        {
          topic,
          numPartitions: options.partitions ?? 1,
          replicationFactor: 1,
          configEntries: Object.entries(options.config ?? {}).map(([name, value]) => ({ name, value })),
        },
      ],
      waitForLeaders: false,
    });
    if (!created) throw new Error(`topic ${topic} already existed`);
    await waitForLeaders(admin, [topic]);
    return topic;
  } finally {
    await admin.disconnect();
  }
}

/** A transactional, idempotent producer with a unique transactional id, connected. */
export async function transactionalProducer(kafka: Kafka, transactionalId: string = uniqueName('tx')): Promise<Producer> {
  const producer = kafka.producer({ transactionalId, idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  return producer;
}

export interface ReceivedMessage {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: IHeaders;
}

export interface ReadOptions {
  /** @default 20000 */
  readonly timeoutMs?: number;
  /**
   * Read as `read_uncommitted` instead: records of open and aborted transactions too.
   * @default false
   */
  readonly uncommitted?: boolean;
}

/**
 * Reads `topic` from the beginning with `read_committed` in a fresh consumer group until exactly
 * `count` messages have arrived, and returns them in the order received. Fails with how many
 * arrived if fewer come within the timeout, and if more than `count` arrive.
 */
export async function waitForMessages(kafka: Kafka, topic: string, count: number, options: ReadOptions = {}): Promise<ReceivedMessage[]> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const isolation = options.uncommitted === true ? 'read_uncommitted' : 'read_committed';
  const consumer = kafka.consumer({ groupId: uniqueName('wait'), readUncommitted: options.uncommitted === true });
  const received: ReceivedMessage[] = [];
  let reached: () => void = () => undefined;
  const countReached = new Promise<void>((resolve) => {
    reached = resolve;
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic: from, partition, message }) => {
        received.push({ topic: from, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
        if (received.length >= count) reached();
      },
    });
    if (count === 0) reached();
    const outcome = await Promise.race([countReached, timedOut]);
    await consumer.stop();
    if (outcome === 'timeout') {
      throw new Error(`waited ${timeoutMs} ms for ${count} message(s) on ${topic} (${isolation}) and got ${received.length}`);
    }
    if (received.length !== count) {
      throw new Error(`expected exactly ${count} message(s) on ${topic} (${isolation}) and got ${received.length}`);
    }
    return received;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}
