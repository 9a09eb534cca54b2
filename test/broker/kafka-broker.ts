import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, type KafkaConfig } from 'kafkajs';
import { ClusterStartError } from './errors';
import type { JavaRuntime } from './java';
import { isMarkedProcessAlive, launchJvm, logTail } from './jvm-process';
import type { TlsMaterial } from './tls-material';

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
  /** Set for a secured broker: `port` is then its SASL_SSL listener. @default plaintext */
  readonly security?: BrokerSecurity;
}

/**
 * What makes a broker secured: SASL_SSL with SCRAM-SHA-512 on its client listener (also the
 * inter-broker one), TLS from a test CA, and the standard authorizer refusing whatever no ACL
 * allows. Two more SASL_SSL listeners present bad certificates, for clients to be refused by:
 * one for another host name, one expired. The controller listener takes SASL/PLAIN from the
 * broker alone.
 */
export interface BrokerSecurity {
  readonly tls: TlsMaterial;
  readonly wrongHostPort: number;
  readonly expiredPort: number;
  /** SCRAM-SHA-512 users created when the storage is formatted: name to password. */
  readonly users: Readonly<Record<string, string>>;
  /** The user the broker itself connects as (one of `users`, a super user). */
  readonly brokerUser: string;
  /** Users every ACL check lets through (the broker's and the tests' administrator). */
  readonly superUsers: readonly string[];
  /** The controller listener's PLAIN password (user `controller`). */
  readonly controllerPassword: string;
}

export interface LaunchedKafkaBroker {
  readonly pid: number;
  /** `127.0.0.1:<port>`: plaintext, or SASL_SSL for a secured broker. */
  readonly bootstrap: string;
  readonly logFile: string;
  /** A secured broker's listeners that present a bad certificate. */
  readonly badListeners?: { readonly wrongHostname: string; readonly expiredCertificate: string };
}

/** How a client authenticates to a secured broker: TLS trusting `ca` (PEM text), SCRAM-SHA-512 as a user. */
export interface BrokerCredentials {
  readonly ca: string;
  readonly username: string;
  readonly password: string;
}

/** The broker settings; everything a single node needs for transactions and groups. */
export function kafkaServerProperties(launch: Pick<KafkaBrokerLaunch, 'dir' | 'port' | 'controllerPort' | 'security' | 'proxied'>): string {
  const { proxied } = launch;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    ...(launch.security === undefined
      ? {
          listeners: `PLAINTEXT://127.0.0.1:${launch.port},CONTROLLER://127.0.0.1:${launch.controllerPort}${proxied === undefined ? '' : `,PROXIED://127.0.0.1:${proxied.port}`}`,
          'advertised.listeners': `PLAINTEXT://127.0.0.1:${launch.port}${proxied === undefined ? '' : `,PROXIED://127.0.0.1:${proxied.advertisedPort}`}`,
          'inter.broker.listener.name': 'PLAINTEXT',
          'listener.security.protocol.map': `PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT${proxied === undefined ? '' : ',PROXIED:PLAINTEXT'}`,
        }
      : securedListenerSettings(launch.port, launch.controllerPort, launch.security)),
    'controller.listener.names': 'CONTROLLER',
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

/**
 * The listeners of a secured broker and what guards them. Passwords sit in `server.properties`
 * (mode 0600, in the run's directory), which Kafka logs with every password shown as [hidden].
 */
function securedListenerSettings(port: number, controllerPort: number, security: BrokerSecurity): Record<string, string> {
  const { tls } = security;
  const brokerPassword = security.users[security.brokerUser];
  if (brokerPassword === undefined) throw new Error(`the broker user ${security.brokerUser} is not among the SCRAM users`);
  const scramServer = 'org.apache.kafka.common.security.scram.ScramLoginModule required;';
  const keystore = (prefix: string, file: string): Record<string, string> => ({
    [`${prefix}ssl.keystore.type`]: 'PKCS12',
    [`${prefix}ssl.keystore.location`]: file,
    [`${prefix}ssl.keystore.password`]: tls.storePassword,
  });
  return {
    listeners: [`CLIENT://127.0.0.1:${port}`, `WRONG_HOST://127.0.0.1:${security.wrongHostPort}`, `EXPIRED://127.0.0.1:${security.expiredPort}`, `CONTROLLER://127.0.0.1:${controllerPort}`].join(','),
    'advertised.listeners': [`CLIENT://127.0.0.1:${port}`, `WRONG_HOST://127.0.0.1:${security.wrongHostPort}`, `EXPIRED://127.0.0.1:${security.expiredPort}`].join(','),
    'listener.security.protocol.map': 'CLIENT:SASL_SSL,WRONG_HOST:SASL_SSL,EXPIRED:SASL_SSL,CONTROLLER:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'CLIENT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    // The broker is its own client on the inter-broker listener (transaction markers, for one).
    'listener.name.client.scram-sha-512.sasl.jaas.config': `org.apache.kafka.common.security.scram.ScramLoginModule required username="${security.brokerUser}" password="${brokerPassword}";`,
    'listener.name.wrong_host.scram-sha-512.sasl.jaas.config': scramServer,
    'listener.name.expired.scram-sha-512.sasl.jaas.config': scramServer,
    // KRaft controllers cannot check SCRAM (its credentials live in the metadata they serve), so
    // the controller listener takes PLAIN, from the broker only.
    'sasl.mechanism.controller.protocol': 'PLAIN',
    'listener.name.controller.sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.controller.plain.sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="controller" password="${security.controllerPassword}" user_controller="${security.controllerPassword}";`,
    ...keystore('', tls.serverKeystore),
    'ssl.truststore.type': 'PKCS12',
    'ssl.truststore.location': tls.truststore,
    'ssl.truststore.password': tls.storePassword,
    ...keystore('listener.name.wrong_host.', tls.wrongHostKeystore),
    ...keystore('listener.name.expired.', tls.expiredKeystore),
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'allow.everyone.if.no.acl.found': 'false',
    'super.users': ['controller', ...security.superUsers].map((user) => `User:${user}`).join(';'),
  };
}

/** The kafkajs settings of a client of a secured broker. */
export function securedClientConfig(credentials: BrokerCredentials): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  return { ssl: { ca: [credentials.ca] }, sasl: { mechanism: 'scram-sha-512', username: credentials.username, password: credentials.password } };
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
    await writeFile(properties, `${kafkaServerProperties(launch)}\n`, { mode: 0o600 });
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
  // A secured broker's SCRAM users are written into the metadata log at format time (KRaft has
  // no other way before the broker answers); the arguments live only as long as the formatter.
  const scram = Object.entries(launch.security?.users ?? {}).flatMap(([name, password]) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`]);
  if (launch.format !== false) await formatStorage(launch.java.executable, jvmOptions, properties, scram, Object.values(launch.security?.users ?? {}));

  const logFile = join(launch.dir, 'kafka.log');
  const pid = launchJvm({
    executable: launch.java.executable,
    args: [...jvmOptions, 'kafka.Kafka', properties],
    marker: launch.marker,
    cwd: launch.dir,
    logFile,
  });
  const { security } = launch;
  return {
    pid,
    bootstrap: `127.0.0.1:${launch.port}`,
    logFile,
    ...(security === undefined ? {} : { badListeners: { wrongHostname: `127.0.0.1:${security.wrongHostPort}`, expiredCertificate: `127.0.0.1:${security.expiredPort}` } }),
  };
}

/**
 * Resolves once the broker answers a metadata request. Fails at once if the JVM exits, and after
 * `timeoutMs` otherwise, with the tail of the broker's log.
 */
export async function awaitKafkaReady(broker: LaunchedKafkaBroker, marker: string, timeoutMs: number, credentials?: BrokerCredentials): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isMarkedProcessAlive(broker.pid, marker)) {
      throw new ClusterStartError(`the Kafka broker exited while starting; its log (${broker.logFile}) ends:\n${await logTail(broker.logFile)}`);
    }
    if (await kafkaAnswers(broker.bootstrap, 2_000, credentials)) return;
    await sleep(250);
  }
  throw new ClusterStartError(
    `the Kafka broker did not answer metadata within ${timeoutMs} ms; its log (${broker.logFile}) ends:\n${await logTail(broker.logFile)}`,
  );
}

/** True when a broker at `bootstrap` answers a metadata request within `timeoutMs` (as `credentials`' user, for a secured one). */
export async function kafkaAnswers(bootstrap: string, timeoutMs: number, credentials?: BrokerCredentials): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'graphfold-local-cluster',
    brokers: [bootstrap],
    ...(credentials === undefined ? {} : securedClientConfig(credentials)),
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
export async function warmUpKafka(bootstrap: string, credentials?: BrokerCredentials): Promise<void> {
  const kafka = new Kafka({
    clientId: 'graphfold-local-cluster',
    brokers: [bootstrap],
    ...(credentials === undefined ? {} : securedClientConfig(credentials)),
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

/** Formats the storage; `secrets` (passwords among `extra`) are masked in the output a failure shows. */
async function formatStorage(java: string, jvmOptions: readonly string[], properties: string, extra: readonly string[], secrets: readonly string[]): Promise<void> {
  const args = [...jvmOptions, 'kafka.tools.StorageTool', 'format', '-t', clusterId(), '-c', properties, ...extra];
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) {
    const tail = secrets.reduce((text, secret) => text.replaceAll(secret, '[hidden]'), output.join('').trimEnd().split('\n').slice(-15).join('\n'));
    throw new ClusterStartError(`formatting the Kafka storage failed (exit ${code}):\n${tail}`);
  }
}
