import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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
import type { ClusterState } from './cluster-state';
import { readBrokerToolingEnvironment } from './environment';
import { InvalidOptionError } from './errors';
import { findJava, standardJvmDirs } from './java';
import { isMarkedProcessAlive, markedProcesses, processExists, terminateJvm } from './jvm-process';
import { awaitKafkaReady, kafkaAnswers, kafkaMinimumJava, kafkaVersion, launchKafkaBroker, warmUpKafka } from './kafka-broker';
import { apicurioHome, kafkaClasspath } from './maven';
import { freePorts } from './ports';

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
}

export type LocalClusterStatus =
  | ({ readonly state: 'running' } & Omit<StartedLocalCluster, 'reused'>)
  | { readonly state: 'stopped' }
  | { readonly state: 'stale'; readonly reason: string };

export interface LocalClusterOptions {
  /**
   * Which cluster: each name has its own state file, lock, processes and data, under
   * `<cacheDir>/<name>`. The CLI and the demo use the default; the test harness uses its own.
   * @default 'local-cluster'
   */
  readonly name?: string;
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
  const name = options.name ?? 'local-cluster';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
    throw new InvalidOptionError(`a local cluster name is letters, digits, '.', '_' and '-' and starts with a letter or digit (got ${JSON.stringify(name)})`);
  }
  const stateDir = join(cacheDir, name);
  return Object.freeze({
    stateDir,
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
  if (recorded !== undefined && (await isHealthy(recorded))) {
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
    const [kafkaPort, controllerPort, registryPort, managementPort] = await freePorts(4);
    if (kafkaPort === undefined || controllerPort === undefined || registryPort === undefined || managementPort === undefined) {
      throw new Error('freePorts returned fewer ports than asked for');
    }
    const kafkaMarker = `${config.stateId}/${runId}/kafka`;
    const registryMarker = `${config.stateId}/${runId}/registry`;
    const kafkaDir = join(dir, 'kafka');
    const registryDir = join(dir, 'registry');
    await mkdir(kafkaDir);
    await mkdir(registryDir);

    config.progress(`starting Kafka ${kafkaVersion} on Java ${kafkaJava.major} and Apicurio Registry ${apicurioVersion} on Java ${registryJava.major}`);
    const registry = await launchApicurio({
      java: registryJava,
      home: registryHome,
      dir: registryDir,
      port: registryPort,
      managementPort,
      marker: registryMarker,
    });
    state = { ...state, registry: { pid: registry.pid, marker: registryMarker, logFile: registry.logFile, url: registry.url } };
    await writeClusterState(config.stateDir, state);
    const kafka = await launchKafkaBroker({ java: kafkaJava, classpath, dir: kafkaDir, port: kafkaPort, controllerPort, marker: kafkaMarker });
    state = { ...state, kafka: { pid: kafka.pid, marker: kafkaMarker, logFile: kafka.logFile, bootstrap: kafka.bootstrap } };
    await writeClusterState(config.stateDir, state);

    // 6.
    await Promise.all([
      awaitKafkaReady(kafka, kafkaMarker, config.readyTimeoutMs),
      awaitApicurioReady(registry, registryMarker, config.readyTimeoutMs),
    ]);
    // 7.
    config.progress('warming up the transaction and group coordinators');
    await warmUpKafka(kafka.bootstrap);
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
  const [kafkaOk, registryOk] = await Promise.all([kafkaAnswers(kafka.bootstrap, 5_000), registryAnswers(registry.url, 5_000)]);
  return kafkaOk && registryOk;
}

function addressesOf(state: ClusterState): Omit<StartedLocalCluster, 'reused'> {
  const { kafka, registry } = state;
  if (kafka === undefined || registry === undefined) throw new Error('a ready cluster state lacks a process');
  return { brokers: [kafka.bootstrap], registryUrl: registry.url, kafkaLog: kafka.logFile, registryLog: registry.logFile };
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
