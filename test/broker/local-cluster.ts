import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  apicurioMinimumJava,
  apicurioVersion,
  awaitApicurioReady,
  launchApicurio,
  registryAnswers,
} from './apicurio-registry';
import { withClusterLock } from './cluster-lock';
import { clearClusterState, readClusterState, writeClusterState } from './cluster-state';
import type { ClusterState, RecordedSecurity } from './cluster-state';
import { readBrokerToolingEnvironment } from './environment';
import { InvalidOptionError } from './errors';
import { findJava, standardJvmDirs } from './java';
import { isMarkedProcessAlive, markedProcesses, processExists, terminateJvm } from './jvm-process';
import { awaitKafkaReady, kafkaAnswers, kafkaMinimumJava, kafkaVersion, launchKafkaBroker, warmUpKafka, type BrokerCredentials } from './kafka-broker';
import { apicurioHome, kafkaClasspath } from './maven';
import { freePorts } from './ports';
import { generateTlsMaterial } from './tls-material';

/** A Kafka cluster and a Confluent-compatible schema registry to talk to. */
export interface LocalCluster {
  /** Bootstrap servers, `host:port`. */
  readonly brokers: string[];
  /** Base URL of the Confluent Schema Registry REST API. */
  readonly registryUrl: string;
}

export interface StartedLocalCluster extends LocalCluster {
  /** True when a cluster that was already running was handed back instead of a new one. */
  readonly reused: boolean;
  readonly kafkaLog: string;
  readonly registryLog: string;
  /** Set for a secured cluster (`secured: true`): `brokers` is then its SASL_SSL listener and `registryUrl` HTTPS. */
  readonly security?: SecuredClusterAccess;
}

/**
 * How to reach a secured cluster, and how to be refused by it. Its files live in the run's
 * directory and go with it on stop; the passwords (random for each run) are only in
 * `credentialsFile`, read with {@link readClusterCredentials}.
 */
export interface SecuredClusterAccess {
  /** PEM of the CA that signed the broker's and the registry's certificates. */
  readonly caFile: string;
  /** PEM of a CA that signed nothing of this cluster. */
  readonly untrustedCaFile: string;
  /** JSON, mode 0600: {@link ClusterCredentials}. */
  readonly credentialsFile: string;
  /** SASL_SSL listeners of the same broker presenting a certificate for another host name, and an expired one. */
  readonly badListeners: { readonly wrongHostname: string; readonly expiredCertificate: string };
}

/** The passwords of a secured cluster, by user. */
export interface ClusterCredentials {
  /**
   * SCRAM-SHA-512 users of the broker. `admin` is a super user (for tests to create topics and
   * grant ACLs); `deployer` and `processor` start with no ACL at all; `broker` is the broker's own.
   */
  readonly kafka: Readonly<Record<SecuredKafkaUser, string>>;
  /** Basic-auth users of the registry. */
  readonly registry: Readonly<Record<SecuredRegistryUser, string>>;
}

export const securedKafkaUsers = ['admin', 'deployer', 'processor', 'broker'] as const;
export type SecuredKafkaUser = (typeof securedKafkaUsers)[number];
export const securedRegistryUsers = ['graphfold'] as const;
export type SecuredRegistryUser = (typeof securedRegistryUsers)[number];

/** The passwords of a secured cluster, from its credentials file. */
export async function readClusterCredentials(access: Pick<SecuredClusterAccess, 'credentialsFile'>): Promise<ClusterCredentials> {
  return JSON.parse(await readFile(access.credentialsFile, 'utf8')) as ClusterCredentials;
}

export type LocalClusterStatus =
  | ({ readonly state: 'running' } & Omit<StartedLocalCluster, 'reused'>)
  | { readonly state: 'stopped' }
  | { readonly state: 'stale'; readonly reason: string };

export interface LocalClusterOptions {
  /**
   * Which cluster: each name has its own state file, lock, processes and data, under
   * `<cacheDir>/<name>`. The CLI and the demo use the default; the test harness uses its own.
   * @default 'local-cluster', or 'secured-cluster' when `secured`
   */
  readonly name?: string;
  /**
   * A secured cluster: the broker on SASL_SSL only (SCRAM-SHA-512, certificates from a CA made
   * for the run, the standard authorizer with `allow.everyone.if.no.acl.found=false`), the
   * registry on HTTPS with basic auth. See {@link SecuredClusterAccess}.
   * @default false
   */
  readonly secured?: boolean;
  /**
   * Where resolved classpaths, unpacked archives and the clusters' state are kept.
   * @default `GRAPHFOLD_CACHE_DIR`, else `$XDG_CACHE_HOME/graphfold`, else `~/.cache/graphfold`
   */
  readonly cacheDir?: string;
  /** Receives one line per step of a start or stop. @default silence */
  readonly onProgress?: (message: string) => void;
  /** How long a start waits for the broker and the registry to answer. @default 180000 */
  readonly readyTimeoutMs?: number;
  /** How long to wait while another process starts or stops the same cluster. @default 900000 */
  readonly lockTimeoutMs?: number;
}

/** A hold on a shared cluster; the last holder to release it stops it. */
export interface LocalClusterLease {
  readonly cluster: StartedLocalCluster;
  /**
   * Gives the hold back. Stops the cluster when no other live process holds it (holders that died
   * without releasing do not count). Idempotent.
   */
  release(): Promise<{ stopped: boolean }>;
}

interface LocalClusterConfig {
  readonly stateDir: string;
  readonly secured: boolean;
  /** Prefix of every marker this state directory's JVMs carry. */
  readonly stateId: string;
  readonly cacheDir: string;
  readonly javaHome: string | undefined;
  readonly pathDirs: readonly string[];
  readonly progress: (message: string) => void;
  readonly readyTimeoutMs: number;
  readonly lockTimeoutMs: number;
}

function compileConfig(options: LocalClusterOptions): LocalClusterConfig {
  const environment = readBrokerToolingEnvironment();
  const cacheDir = resolve(options.cacheDir ?? environment.cacheDir);
  const secured = options.secured ?? false;
  const name = options.name ?? (secured ? 'secured-cluster' : 'local-cluster');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new InvalidOptionError(`a local cluster name is letters, digits, '.', '_' and '-' and starts with a letter or digit (got ${JSON.stringify(name)})`);
  }
  const stateDir = join(cacheDir, name);
  return Object.freeze({
    stateDir,
    secured,
    stateId: createHash('sha256').update(stateDir).digest('hex').slice(0, 12),
    cacheDir,
    javaHome: environment.javaHome,
    pathDirs: environment.pathDirs,
    progress: options.onProgress ?? (() => undefined),
    readyTimeoutMs: options.readyTimeoutMs ?? 180_000,
    lockTimeoutMs: options.lockTimeoutMs ?? 900_000,
  });
}

/**
 * Starts a single-node Kafka broker and Apicurio Registry on loopback, or hands back the ones this
 * state directory already runs. Never leaves a half-started cluster: on failure everything it
 * launched is ended and removed before the error is thrown.
 *
 * Steps, in this order:
 * 1. Take the state directory's lock, so starts and stops of other processes wait their turn.
 * 2. If the recorded cluster is ready, alive and answering, return it (`reused: true`).
 * 3. Otherwise end whatever the record or a process scan still finds of an earlier run (a killed
 *    test run, a crashed JVM) and remove its directory.
 * 4. Find the JDKs and fetch the artifacts, before launching anything, so a missing tool leaves
 *    nothing behind.
 * 5. Make the run directory, pick free ports and record the run; launch broker and registry,
 *    recording each pid as soon as it exists.
 * 6. Wait until the broker answers metadata and the registry lists subjects.
 * 7. Warm up Kafka's transaction and group coordinators.
 * 8. Record the cluster as ready and release the lock.
 */
export async function startLocalCluster(options: LocalClusterOptions = {}): Promise<StartedLocalCluster> {
  const config = compileConfig(options);
  return withClusterLock(config.stateDir, config.lockTimeoutMs, () => startUnderLock(config));
}

/**
 * Ends the named cluster's broker and registry (SIGTERM, then SIGKILL after a grace period), also
 * any stray JVM of an earlier run, and removes their data, whoever holds a lease on it.
 * Idempotent: stopping a stopped cluster resolves with `stopped: false`.
 */
export async function stopLocalCluster(options: LocalClusterOptions = {}): Promise<{ stopped: boolean }> {
  const config = compileConfig(options);
  return withClusterLock(config.stateDir, config.lockTimeoutMs, async () => ({
    stopped: await endRun(config, await readClusterState(config.stateDir)),
  }));
}

/**
 * Starts or reuses the named cluster like {@link startLocalCluster} and records a lease for this
 * process. Concurrent test runs share one cluster; the last one to release it stops it, and a run
 * that was killed before releasing is not waited for.
 */
export async function leaseLocalCluster(options: LocalClusterOptions = {}): Promise<LocalClusterLease> {
  const config = compileConfig(options);
  const leases = join(config.stateDir, 'leases');
  const lease = join(leases, `${process.pid}-${randomBytes(4).toString('hex')}`);
  const cluster = await withClusterLock(config.stateDir, config.lockTimeoutMs, async () => {
    const started = await startUnderLock(config);
    await mkdir(leases, { recursive: true });
    await writeFile(lease, `${new Date().toISOString()}\n`);
    return started;
  });
  let released: Promise<{ stopped: boolean }> | undefined;
  const release = (): Promise<{ stopped: boolean }> =>
    (released ??= withClusterLock(config.stateDir, config.lockTimeoutMs, async () => {
      await rm(lease, { force: true });
      if ((await liveLeaseCount(leases)) > 0) return { stopped: false };
      return { stopped: await endRun(config, await readClusterState(config.stateDir)) };
    }));
  return { cluster, release };
}

/** Steps 2 to 8 of {@link startLocalCluster}; the caller holds the lock (step 1). */
async function startUnderLock(config: LocalClusterConfig): Promise<StartedLocalCluster> {
  // 2.
  const recorded = await readClusterState(config.stateDir);
  if (recorded !== undefined && (recorded.security !== undefined) === config.secured && (await isHealthy(recorded))) {
    await endStrays(config, recorded.runId);
    config.progress('reusing the running local cluster');
    return { ...addressesOf(recorded), reused: true };
  }
  // 3.
  await endRun(config, recorded);

  // 4.
  const search = { javaHome: config.javaHome, pathDirs: config.pathDirs, jvmDirs: standardJvmDirs };
  const kafkaJava = findJava(kafkaMinimumJava, `to run the Kafka ${kafkaVersion} broker`, search);
  const registryJava = findJava(apicurioMinimumJava, `to run Apicurio Registry ${apicurioVersion}`, search);
  config.progress(`fetching Kafka ${kafkaVersion} and Apicurio Registry ${apicurioVersion} (cached in ${config.cacheDir})`);
  const classpath = await kafkaClasspath(config.cacheDir, kafkaVersion);
  const registryHome = await apicurioHome(config.cacheDir, apicurioVersion);

  // 5.
  const runId = randomBytes(6).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-cluster-'));
  let state: ClusterState = { format: 1, phase: 'starting', runId, dir, startedAt: new Date().toISOString() };
  await writeClusterState(config.stateDir, state);
  try {
    const [kafkaPort, controllerPort, registryPort, managementPort, wrongHostPort, expiredPort] = await freePorts(config.secured ? 6 : 4);
    if (kafkaPort === undefined || controllerPort === undefined || registryPort === undefined || managementPort === undefined) {
      throw new Error('freePorts returned fewer ports than asked for');
    }
    const kafkaMarker = `${config.stateId}/${runId}/kafka`;
    const registryMarker = `${config.stateId}/${runId}/registry`;
    const kafkaDir = join(dir, 'kafka');
    const registryDir = join(dir, 'registry');
    await mkdir(kafkaDir);
    await mkdir(registryDir);

    // 5a. A secured cluster's passwords and certificates, made for this run inside its directory.
    let secured: SecuredRun | undefined;
    if (config.secured) {
      if (wrongHostPort === undefined || expiredPort === undefined) throw new Error('freePorts returned fewer ports than asked for');
      config.progress('making the secured cluster\'s certificates and passwords');
      await chmod(dir, 0o700);
      secured = await prepareSecuredRun(dir, kafkaJava, `127.0.0.1:${wrongHostPort}`, `127.0.0.1:${expiredPort}`);
      state = { ...state, security: secured.recorded };
      await writeClusterState(config.stateDir, state);
    }

    config.progress(`starting Kafka ${kafkaVersion} on Java ${kafkaJava.major} and Apicurio Registry ${apicurioVersion} on Java ${registryJava.major}${secured === undefined ? '' : ', secured'}`);
    const registry = await launchApicurio({
      java: registryJava,
      home: registryHome,
      dir: registryDir,
      port: registryPort,
      managementPort,
      marker: registryMarker,
      ...(secured === undefined
        ? {}
        : { security: { keystore: secured.tls.serverKeystore, storePassword: secured.tls.storePassword, users: secured.credentials.registry } }),
    });
    state = { ...state, registry: { pid: registry.pid, marker: registryMarker, logFile: registry.logFile, url: registry.url } };
    await writeClusterState(config.stateDir, state);
    const kafka = await launchKafkaBroker({
      java: kafkaJava,
      classpath,
      dir: kafkaDir,
      port: kafkaPort,
      controllerPort,
      marker: kafkaMarker,
      ...(secured === undefined || wrongHostPort === undefined || expiredPort === undefined
        ? {}
        : {
            security: {
              tls: secured.tls,
              wrongHostPort,
              expiredPort,
              users: secured.credentials.kafka,
              brokerUser: 'broker',
              superUsers: ['broker', 'admin'],
              controllerPassword: secured.controllerPassword,
            },
          }),
    });
    state = { ...state, kafka: { pid: kafka.pid, marker: kafkaMarker, logFile: kafka.logFile, bootstrap: kafka.bootstrap } };
    await writeClusterState(config.stateDir, state);

    // 6.
    const access = secured === undefined ? undefined : await adminAccess(state);
    await Promise.all([
      awaitKafkaReady(kafka, kafkaMarker, config.readyTimeoutMs, access?.kafka),
      awaitApicurioReady(registry, registryMarker, config.readyTimeoutMs, access?.registry),
    ]);
    // 7.
    config.progress('warming up the transaction and group coordinators');
    await warmUpKafka(kafka.bootstrap, access?.kafka);
    // 8.
    state = { ...state, phase: 'ready' };
    await writeClusterState(config.stateDir, state);
    return { ...addressesOf(state), reused: false };
  } catch (error) {
    await endRun(config, state);
    throw error;
  }
}

/** What this state directory runs now; reads only, takes no lock. */
export async function localClusterStatus(options: LocalClusterOptions = {}): Promise<LocalClusterStatus> {
  const config = compileConfig(options);
  const recorded = await readClusterState(config.stateDir);
  if (recorded === undefined) {
    return markedProcesses(`${config.stateId}/`).length > 0
      ? { state: 'stale', reason: 'JVMs of an unrecorded run are alive; the next start or stop ends them' }
      : { state: 'stopped' };
  }
  if (await isHealthy(recorded)) return { state: 'running', ...addressesOf(recorded) };
  return {
    state: 'stale',
    reason: `the run recorded in ${config.stateDir} is ${recorded.phase === 'ready' ? 'no longer answering' : 'starting, or was killed while starting'}; the next start or stop cleans it up`,
  };
}

async function isHealthy(state: ClusterState): Promise<boolean> {
  const { kafka, registry } = state;
  if (state.phase !== 'ready' || kafka === undefined || registry === undefined) return false;
  if (!isMarkedProcessAlive(kafka.pid, kafka.marker) || !isMarkedProcessAlive(registry.pid, registry.marker)) return false;
  const access = state.security === undefined ? undefined : await adminAccess(state).catch(() => null);
  if (access === null) return false;
  const [kafkaOk, registryOk] = await Promise.all([kafkaAnswers(kafka.bootstrap, 5_000, access?.kafka), registryAnswers(registry.url, 5_000, access?.registry)]);
  return kafkaOk && registryOk;
}

function addressesOf(state: ClusterState): Omit<StartedLocalCluster, 'reused'> {
  const { kafka, registry, security } = state;
  if (kafka === undefined || registry === undefined) throw new Error('a ready cluster state lacks a process');
  return {
    brokers: [kafka.bootstrap],
    registryUrl: registry.url,
    kafkaLog: kafka.logFile,
    registryLog: registry.logFile,
    ...(security === undefined ? {} : { security: { ...security } }),
  };
}

/** A secured run's material, made before anything is launched (step 5a). */
interface SecuredRun {
  readonly recorded: RecordedSecurity;
  readonly tls: Awaited<ReturnType<typeof generateTlsMaterial>>;
  readonly credentials: ClusterCredentials;
  readonly controllerPassword: string;
}

/**
 * Random passwords for every user (URL-safe base64: nothing a JAAS line or kafka-storage's
 * `--add-scram` syntax would need quoted), the credentials file, and the certificates.
 */
async function prepareSecuredRun(dir: string, java: Parameters<typeof generateTlsMaterial>[0], wrongHostname: string, expiredCertificate: string): Promise<SecuredRun> {
  const password = (): string => randomBytes(18).toString('base64url');
  const credentials: ClusterCredentials = {
    kafka: Object.fromEntries(securedKafkaUsers.map((user) => [user, password()])) as Record<SecuredKafkaUser, string>,
    registry: Object.fromEntries(securedRegistryUsers.map((user) => [user, password()])) as Record<SecuredRegistryUser, string>,
  };
  const tls = await generateTlsMaterial(java, dir, password());
  const credentialsFile = join(dir, 'credentials.json');
  await writeFile(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return {
    recorded: { caFile: tls.caPem, untrustedCaFile: tls.untrustedCaPem, credentialsFile, badListeners: { wrongHostname, expiredCertificate } },
    tls,
    credentials,
    controllerPassword: password(),
  };
}

/** How the tooling itself reaches a secured cluster: as the Kafka super user `admin` and the registry's user. */
async function adminAccess(state: ClusterState): Promise<{ kafka: BrokerCredentials; registry: BrokerCredentials } | undefined> {
  if (state.security === undefined) return undefined;
  const [ca, credentials] = await Promise.all([readFile(state.security.caFile, 'utf8'), readClusterCredentials(state.security)]);
  return {
    kafka: { ca, username: 'admin', password: credentials.kafka.admin },
    registry: { ca, username: 'graphfold', password: credentials.registry.graphfold },
  };
}

/** Ends a recorded run (if any) and every stray JVM of this state directory; true if anything ran. */
async function endRun(config: LocalClusterConfig, state: ClusterState | undefined): Promise<boolean> {
  const processes = [state?.registry, state?.kafka].filter((p) => p !== undefined);
  const alive = processes.filter((p) => isMarkedProcessAlive(p.pid, p.marker));
  if (alive.length > 0) config.progress(`stopping ${alive.map((p) => `pid ${p.pid}`).join(' and ')}`);
  await Promise.all(alive.map((p) => terminateJvm(p.pid, p.marker, 30_000)));
  const strays = await endStrays(config, undefined);
  if (state !== undefined) await rm(state.dir, { recursive: true, force: true });
  await rm(join(config.stateDir, 'leases'), { recursive: true, force: true });
  await clearClusterState(config.stateDir);
  return alive.length + strays > 0;
}

/** Ends JVMs carrying this state directory's marker that belong to no run, or to another run than `keepRunId`. */
async function endStrays(config: LocalClusterConfig, keepRunId: string | undefined): Promise<number> {
  const strays = markedProcesses(`${config.stateId}/`).filter(({ marker }) => marker.split('/')[1] !== keepRunId);
  if (strays.length > 0) config.progress(`ending ${strays.length} stray JVM(s) of an earlier run`);
  await Promise.all(strays.map(({ pid, marker }) => terminateJvm(pid, marker, 10_000)));
  return strays.length;
}

/** Leases whose process is still alive (a lease file is named `<pid>-<random>`). */
async function liveLeaseCount(leases: string): Promise<number> {
  const names = await readdir(leases).catch(() => []);
  return names.filter((name) => processExists(Number.parseInt(name, 10))).length;
}

/** The state directory these options resolve to (where `cluster.json` and the lock live). */
export function localClusterStateDir(options: LocalClusterOptions = {}): string {
  return compileConfig(options).stateDir;
}
