import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { ClusterStartError } from './errors';
import type { JavaRuntime } from './java';
import { isMarkedProcessAlive, launchJvm, logTail } from './jvm-process';

/**
 * One Apache Kafka node in KRaft combined mode (broker and controller in one JVM) on loopback,
 * configured so that transactions and consumer groups work with a single replica.
 */

/** The newest 4.x on Maven Central; kafkajs 2.2.4's transactional path works against it. */
export const kafkaVersion = '4.4.0';
/** Kafka 4.x brokers run on Java 17 or newer. */
export const kafkaMinimumJava = 17;

export interface KafkaBrokerLaunch {
  readonly java: JavaRuntime;
  readonly classpath: readonly string[];
  /** The broker's own directory: configuration, data, log and scratch space all live under it. */
  readonly dir: string;
  readonly port: number;
  readonly controllerPort: number;
  readonly marker: string;
  /**
   * Write the configuration and format the storage first. False restarts a broker that ran in
   * `dir` before, on its data. @default true
   */
  readonly format?: boolean;
  /**
   * A second listener, `PROXIED`, on `port`, advertised at `advertisedPort` (where a proxy
   * forwards to it), so that clients bootstrapped there stay behind the proxy. @default none
   */
  readonly proxied?: { readonly port: number; readonly advertisedPort: number };
}

export interface LaunchedKafkaBroker {
  readonly pid: number;
  /** `127.0.0.1:<port>` */
  readonly bootstrap: string;
  readonly logFile: string;
}

/** The broker settings; everything a single node needs for transactions and groups. */
export function kafkaServerProperties(launch: Pick<KafkaBrokerLaunch, 'dir' | 'port' | 'controllerPort' | 'proxied'>): string {
  const { proxied } = launch;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    listeners: `PLAINTEXT://127.0.0.1:${launch.port},CONTROLLER://127.0.0.1:${launch.controllerPort}${proxied === undefined ? '' : `,PROXIED://127.0.0.1:${proxied.port}`}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${launch.port}${proxied === undefined ? '' : `,PROXIED://127.0.0.1:${proxied.advertisedPort}`}`,
    'inter.broker.listener.name': 'PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'listener.security.protocol.map': `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${proxied === undefined ? '' : ',PROXIED:PLAINTEXT'}`,
    'controller.quorum.voters': `1@127.0.0.1:${launch.controllerPort}`,
    'log.dirs': join(launch.dir, 'data'),
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join('\n');
}

const log4jConfig = [
  'status = warn',
  'appender.out.type = Console',
  'appender.out.name = OUT',
  'appender.out.layout.type = PatternLayout',
  'appender.out.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.out.ref = OUT',
  // The controller and log layers narrate every step at INFO; their warnings are what matter here.
  'logger.kafka.name = kafka',
  'logger.kafka.level = WARN',
  'logger.apache.name = org.apache.kafka',
  'logger.apache.level = WARN',
  'logger.started.name = kafka.server.KafkaRaftServer',
  'logger.started.level = INFO',
].join('\n');

/**
 * Writes the configuration, formats the KRaft storage and starts the broker JVM (or, with
 * `format: false`, starts it again on what an earlier launch in `dir` wrote). Returns once the
 * process runs; {@link awaitKafkaReady} waits until it answers.
 */
export async function launchKafkaBroker(launch: KafkaBrokerLaunch): Promise<LaunchedKafkaBroker> {
  const properties = join(launch.dir, 'server.properties');
  const log4j = join(launch.dir, 'log4j2.properties');
  const scratch = join(launch.dir, 'tmp');
  await mkdir(scratch, { recursive: true });
  if (launch.format !== false) {
    await writeFile(properties, `${kafkaServerProperties(launch)}\n`);
    await writeFile(log4j, `${log4jConfig}\n`);
  }

  const jvmOptions = [
    '-Xms256m',
    '-Xmx1g',
    '-XX:+UseSerialGC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Djava.io.tmpdir=${scratch}`,
    `-Dlog4j2.configurationFile=${log4j}`,
    '-cp',
    launch.classpath.join(':'),
  ];
  if (launch.format !== false) await formatStorage(launch.java.executable, jvmOptions, properties);

  const logFile = join(launch.dir, 'kafka.log');
  const pid = launchJvm({
    executable: launch.java.executable,
    args: [...jvmOptions, 'kafka.Kafka', properties],
    marker: launch.marker,
    cwd: launch.dir,
    logFile,
  });
  return { pid, bootstrap: `127.0.0.1:${launch.port}`, logFile };
}

/**
 * Resolves once the broker answers a metadata request. Fails at once if the JVM exits, and after
 * `timeoutMs` otherwise, with the tail of the broker's log.
 */
export async function awaitKafkaReady(broker: LaunchedKafkaBroker, marker: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isMarkedProcessAlive(broker.pid, marker)) {
      throw new ClusterStartError(`the Kafka broker exited while starting; its log (${broker.logFile}) ends:\n${await logTail(broker.logFile)}`);
    }
    if (await kafkaAnswers(broker.bootstrap, 2_000)) return;
    await sleep(250);
  }
  throw new ClusterStartError(
    `the Kafka broker did not answer metadata within ${timeoutMs} ms; its log (${broker.logFile}) ends:\n${await logTail(broker.logFile)}`,
  );
}

/** True when a broker at `bootstrap` answers a metadata request within `timeoutMs`. */
export async function kafkaAnswers(bootstrap: string, timeoutMs: number): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'graphfold-local-cluster',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  }).admin();
  try {
    await admin.connect();
    await admin.describeCluster();
    return true;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/**
 * Creates the transaction and group coordinators' internal topics by using them once, so the first
 * test does not pay for it: one empty transaction (`__transaction_state`) and one group lookup
 * (`__consumer_offsets`).
 */
export async function warmUpKafka(bootstrap: string): Promise<void> {
  const kafka = new Kafka({
    clientId: 'graphfold-local-cluster',
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 20, initialRetryTime: 100, maxRetryTime: 1_000 },
  });
  const producer = kafka.producer({ transactionalId: 'graphfold-local-cluster-warm-up', idempotent: true, maxInFlightRequests: 1 });
  const admin = kafka.admin();
  try {
    await producer.connect();
    const transaction = await producer.transaction();
    await transaction.abort();
    await admin.connect();
    await admin.describeGroups(['graphfold-local-cluster-warm-up']);
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** A KRaft cluster id: 16 random bytes in URL-safe base64, never starting with `-` (Kafka's own rule). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

async function formatStorage(java: string, jvmOptions: readonly string[], properties: string): Promise<void> {
  const args = [...jvmOptions, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties];
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) {
    const tail = output.join('').trimEnd().split('\n').slice(-15).join('\n');
    throw new ClusterStartError(`formatting the Kafka storage failed (exit ${code}):\n${tail}`);
  }
}
