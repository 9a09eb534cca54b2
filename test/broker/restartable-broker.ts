import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readBrokerToolingEnvironment } from './environment';
import { ClusterStartError } from './errors';
import { findJava, standardJvmDirs } from './java';
import { isMarkedProcessAlive, markedProcesses, processExists, terminateJvm } from './jvm-process';
import { awaitKafkaReady, kafkaMinimumJava, kafkaVersion, launchKafkaBroker, warmUpKafka, type LaunchedKafkaBroker } from './kafka-broker';
import { KafkaProxy } from './kafka-proxy';
import { kafkaClasspath } from './maven';
import { freePorts } from './ports';

/**
 * A Kafka broker of one's own, for tests that do to a broker what production does to it: kill it
 * (SIGKILL), stop it cleanly (SIGTERM), freeze it (SIGSTOP) and thaw it, and start it again on
 * the same ports with the same log directories, so that clients reconnect to the broker they knew
 * and find its topics, groups and transactions where they were.
 *
 * It is not the shared `test-cluster` (which other tests lease and must never see die): each
 * handle launches its own JVM in its own directory. Its JVM carries a marker naming the process
 * that owns it, so a test run that is killed leaves nothing running for long: the next
 * {@link startRestartableBroker} ends every broker whose owner is gone.
 */
export interface RestartableBroker {
  /** `127.0.0.1:<port>`; the same across restarts. */
  readonly bootstrap: string;
  /**
   * With `proxied`: a {@link KafkaProxy} in front of a second listener of the broker; clients
   * bootstrapped at `proxy.bootstrap` reach the broker only through it (its metadata advertises
   * the proxy), so a test can fail their requests while its own clients go straight through.
   */
  readonly proxy: KafkaProxy | undefined;
  /** The broker's directory: configuration, data (`data/`), log (`kafka.log`). */
  readonly dir: string;
  readonly logFile: string;
  /** True while the JVM runs (also while it is frozen). */
  readonly running: boolean;
  /** Sends `signal` to the JVM and waits until it has exited (SIGTERM: after its controlled shutdown). */
  kill(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** SIGSTOP: the JVM stays, its sockets stay open, it answers nothing. */
  freeze(): void;
  /** SIGCONT after {@link freeze}. */
  thaw(): void;
  /** Starts the broker again on the same ports and data, and resolves once it answers metadata. */
  restart(): Promise<void>;
  /** Ends the JVM (if it runs) and deletes its directory. Idempotent. */
  destroy(): Promise<void>;
}

export interface RestartableBrokerOptions {
  /** @default the tooling's cache directory (`GRAPHFOLD_CACHE_DIR`, ...) */
  readonly cacheDir?: string;
  /** How long a (re)start waits for the broker to answer. @default 180000 */
  readonly readyTimeoutMs?: number;
  /** Put a {@link KafkaProxy} in front of a second listener. @default false */
  readonly proxied?: boolean;
}

const markerPrefix = 'restartable-broker/';

/** Launches a new single-node KRaft broker (formatted storage, warmed-up coordinators) and returns its handle. */
export async function startRestartableBroker(options: RestartableBrokerOptions = {}): Promise<RestartableBroker> {
  await endOrphans();
  const environment = readBrokerToolingEnvironment();
  const cacheDir = resolve(options.cacheDir ?? environment.cacheDir);
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  const java = findJava(kafkaMinimumJava, `to run the Kafka ${kafkaVersion} broker`, { javaHome: environment.javaHome, pathDirs: environment.pathDirs, jvmDirs: standardJvmDirs });
  const classpath = await kafkaClasspath(cacheDir, kafkaVersion);
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-broker-'));
  const [port, controllerPort, proxiedPort, proxyPort] = await freePorts(4);
  if (port === undefined || controllerPort === undefined || proxiedPort === undefined || proxyPort === undefined) throw new Error('freePorts returned fewer ports than asked for');
  const proxied = options.proxied === true ? { port: proxiedPort, advertisedPort: proxyPort } : undefined;
  const proxy = proxied === undefined ? undefined : await KafkaProxy.start(proxyPort, { host: '127.0.0.1', port: proxiedPort });
  const marker = `${markerPrefix}${process.pid}/${randomBytes(6).toString('hex')}`;
  await mkdir(dir, { recursive: true });

  let launched: LaunchedKafkaBroker | undefined;
  const launch = async (format: boolean): Promise<void> => {
    launched = await launchKafkaBroker({ java, classpath, dir, port, controllerPort, marker, format, ...(proxied === undefined ? {} : { proxied }) });
    await awaitKafkaReady(launched, marker, readyTimeoutMs);
  };
  const alive = (): boolean => launched !== undefined && isMarkedProcessAlive(launched.pid, marker);
  const pidOf = (): number => {
    if (launched === undefined || !alive()) throw new ClusterStartError(`the broker at 127.0.0.1:${port} is not running`);
    return launched.pid;
  };

  try {
    await launch(true);
    await warmUpKafka(`127.0.0.1:${port}`);
  } catch (error) {
    if (launched !== undefined) await terminateJvm(launched.pid, marker, 10_000);
    await proxy?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  return {
    bootstrap: `127.0.0.1:${port}`,
    proxy,
    dir,
    logFile: join(dir, 'kafka.log'),
    get running() {
      return alive();
    },
    async kill(signal) {
      const pid = pidOf();
      process.kill(pid, signal);
      const deadline = Date.now() + 120_000;
      while (isMarkedProcessAlive(pid, marker)) {
        if (Date.now() > deadline) throw new ClusterStartError(`the broker (pid ${pid}) did not exit within 120 s of ${signal}`);
        await sleep(50);
      }
    },
    freeze() {
      process.kill(pidOf(), 'SIGSTOP');
    },
    thaw() {
      process.kill(pidOf(), 'SIGCONT');
    },
    async restart() {
      if (alive()) throw new ClusterStartError(`the broker at 127.0.0.1:${port} still runs: kill it before restarting it`);
      await launch(false);
    },
    async destroy() {
      if (launched !== undefined && alive()) {
        process.kill(launched.pid, 'SIGCONT');
        await terminateJvm(launched.pid, marker, 15_000);
      }
      await proxy?.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Ends restartable brokers whose owning process is gone (a test run that was killed). */
async function endOrphans(): Promise<void> {
  const orphans = markedProcesses(markerPrefix).filter(({ marker }) => !processExists(Number.parseInt(marker.slice(markerPrefix.length), 10)));
  await Promise.all(
    orphans.map(async ({ pid, marker }) => {
      process.kill(pid, 'SIGCONT');
      await terminateJvm(pid, marker, 10_000);
    }),
  );
}
