import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, type WriteStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { stripVTControlCharacters } from 'node:util';
import { readBrokerToolingEnvironment } from '../../broker/environment';
import { MissingToolError } from '../../broker/errors';
import { findJava, standardJvmDirs } from '../../broker/java';

/**
 * The Kafka Streams contender of the benchmark (issue 5): a Java application in
 * `test/bench/peers/kafka-streams/` that folds the same GraphTransactions into the same GraphDiffs
 * as graphfold, in Kafka Streams' idiom (Processor API, RocksDB key-value stores with changelogs,
 * `exactly_once_v2`). This module builds its jar with Maven and runs it as a child process whose
 * stdout is one JSON event per line.
 */

/** Thrown when the peer cannot be built, or ends before an awaited event; the message says why and what to do. */
export class KafkaStreamsPeerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KafkaStreamsPeerError';
  }
}

export interface BuildOptions {
  /** How long Maven may take; a cold `~/.m2` downloads about 100 MB of artifacts. @default 600000 */
  readonly timeoutMs?: number;
}

const jarName = 'graphfold-kafka-streams-peer.jar';

/** The Maven project's directory, from source or from `dist/`. */
function projectDir(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const project = join(dir, 'test', 'bench', 'peers', 'kafka-streams');
    if (existsSync(join(project, 'pom.xml'))) return project;
    if (dirname(dir) === dir) throw new KafkaStreamsPeerError(`test/bench/peers/kafka-streams/pom.xml not found above ${__dirname}: run from a graphfold clone`);
  }
}

let building: Promise<string> | undefined;

/**
 * The path of the peer's runnable jar, built first with `mvn -B -q package` when it is missing or
 * older than its pom, its sources or graphfold's schemas. Calls in one process share one build;
 * two processes must not build at once (Maven would write `target/` twice).
 *
 * @throws MissingToolError when Java 17+ or Maven is missing
 * @throws KafkaStreamsPeerError when Maven fails or times out, with the tail of its output
 */
export function buildKafkaStreamsPeer(options: BuildOptions = {}): Promise<string> {
  building ??= build(options.timeoutMs ?? 600_000).catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

async function build(timeoutMs: number): Promise<string> {
  const project = projectDir();
  const jar = join(project, 'target', jarName);
  const inputs = [join(project, 'pom.xml'), ...(await filesUnder(join(project, 'src'))), ...(await filesUnder(join(project, '..', '..', '..', '..', 'schemas')))];
  const newestInput = Math.max(...(await Promise.all(inputs.map(async (file) => (await stat(file)).mtimeMs))));
  if (existsSync(jar) && (await stat(jar)).mtimeMs >= newestInput) return jar;

  const java = javaRuntime('to build the Kafka Streams peer');
  const output: string[] = [];
  const exit = await new Promise<{ code: number | null; timedOut: boolean }>((resolve, reject) => {
    const child = spawn('mvn', ['-B', '-q', 'package'], { cwd: project, env: { ...process.env, JAVA_HOME: java.home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        error.code === 'ENOENT'
          ? new MissingToolError('Maven (mvn)', 'to build the Kafka Streams peer', 'install it (Debian: apt-get install -y maven) or put mvn on PATH')
          : new KafkaStreamsPeerError(`could not start mvn in ${project}: ${error.message}`, { cause: error }),
      );
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, timedOut });
    });
  });
  if (exit.code !== 0 || !existsSync(jar)) {
    // Maven colours its output even in batch mode; the escapes only clutter a message.
    const tail = stripVTControlCharacters(output.join('')).split('\n').filter((line) => line.trim() !== '').slice(-20).join('\n');
    const why = exit.timedOut ? `did not finish within ${timeoutMs} ms` : `failed (exit ${exit.code})`;
    throw new KafkaStreamsPeerError(`mvn -B -q package in ${project} ${why}; check that Maven Central is reachable and the Java sources compile. Maven said:\n${tail}`);
  }
  return jar;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

function javaRuntime(purpose: string): { home: string; executable: string } {
  const environment = readBrokerToolingEnvironment();
  return findJava(17, purpose, { javaHome: environment.javaHome, pathDirs: environment.pathDirs, jvmDirs: standardJvmDirs });
}

export interface KafkaStreamsPeerOptions {
  /** The jar {@link buildKafkaStreamsPeer} returned. */
  readonly jar: string;
  readonly brokers: readonly string[];
  /** The Kafka Streams application id: its consumer group, and the prefix of its changelog topics. */
  readonly applicationId: string;
  /** GraphTransactions keyed by graph id, Confluent-framed Avro. */
  readonly inputTopic: string;
  /** Where the GraphDiffs go; it must exist. */
  readonly outputTopic: string;
  /** The RocksDB stores live under `<stateDir>/<applicationId>/`. */
  readonly stateDir: string;
  /** The id the GraphDiff schema is registered under, written into every diff's header. */
  readonly diffSchemaId: number;
  /** num.stream.threads. @default 1 */
  readonly threads?: number;
  /** commit.interval.ms: how often each task commits its Kafka transaction. @default 100 */
  readonly commitIntervalMs?: number;
  /**
   * statestore.cache.max.bytes, shared by every store of the instance. 0 builds the stores without
   * Kafka Streams' record cache (the Processor API's default), which measured cheaper for this fold.
   * @default 0
   */
  readonly cacheBytes?: number;
  /** How long a stop lets Kafka Streams close (commit, leave the group). @default 30000 */
  readonly closeTimeoutMs?: number;
  /** Further Kafka Streams properties, applied last, e.g. `{ 'replication.factor': '1' }`. @default {} */
  readonly properties?: Readonly<Record<string, string>>;
  /** JVM options before `-jar`, e.g. `['-Xmx2g']`. @default [] */
  readonly jvmOptions?: readonly string[];
  /** The peer's log (stderr, warnings and errors) is appended here. @default only its last lines are kept, for errors */
  readonly logFile?: string;
  /** Called with every event as it arrives. */
  readonly onEvent?: (event: KafkaStreamsPeerEvent) => void;
}

interface RestoreFields {
  readonly store: string;
  /** The changelog topic. */
  readonly topic: string;
  readonly partition: number;
}

/** What the peer prints, one JSON object per line (see Events.java); each also carries `time`, in epoch milliseconds. */
export type KafkaStreamsPeerEvent = { readonly time: number } & (
  | { readonly event: 'started'; readonly applicationId: string; readonly input: string; readonly output: string; readonly threads: number; readonly commitIntervalMs: number; readonly cacheBytes: number }
  /** A Kafka Streams state change (CREATED, REBALANCING, RUNNING, PENDING_SHUTDOWN, NOT_RUNNING, ERROR, ...). */
  | { readonly event: 'state'; readonly from: string; readonly to: string }
  /** Every time the instance reaches RUNNING: assigned, restored, processing. */
  | { readonly event: 'running' }
  /** A store partition starts restoring from its changelog, from offset `start` up to `end` (exclusive). */
  | (RestoreFields & { readonly event: 'restore.start'; readonly start: number; readonly end: number })
  /** `records`: restored in this batch, which ends at offset `batchEnd` (inclusive). */
  | (RestoreFields & { readonly event: 'restore.batch'; readonly batchEnd: number; readonly records: number })
  /** `records`: restored in all, from `restore.start` on. */
  | (RestoreFields & { readonly event: 'restore.end'; readonly records: number; readonly durationMs: number })
  | (RestoreFields & { readonly event: 'restore.suspended'; readonly records: number; readonly durationMs: number })
  /** A record that made no diff because it is invalid (graphfold's rejection code and message). */
  | {
      readonly event: 'refused';
      readonly graph?: string;
      readonly txId?: string;
      readonly code: string;
      readonly message: string;
      readonly topic: string;
      readonly partition: number;
      readonly offset: number;
    }
  /** Bad options, or a stream thread died; the process exits. */
  | { readonly event: 'error'; readonly message: string }
  /** Kafka Streams closed on SIGTERM; `clean` is false when it did not within the close timeout. */
  | { readonly event: 'stopped'; readonly clean: boolean }
);

export type KafkaStreamsPeerEventName = KafkaStreamsPeerEvent['event'];
export type KafkaStreamsPeerEventOf<N extends KafkaStreamsPeerEventName> = Extract<KafkaStreamsPeerEvent, { readonly event: N }>;

export interface PeerExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface WaitForEventOptions<E> {
  /** @default 60000 */
  readonly timeoutMs?: number;
  /** Only an event for which this holds. */
  readonly where?: (event: E) => boolean;
  /** Only events at or after this index of {@link KafkaStreamsPeer.events}. @default 0 */
  readonly from?: number;
}

/** A running peer process. */
export interface KafkaStreamsPeer {
  readonly pid: number;
  /** Every event so far, in the order printed. */
  readonly events: readonly KafkaStreamsPeerEvent[];
  /** Settles when the process has ended. */
  readonly exited: Promise<PeerExit>;
  /**
   * The first event named `name` (and matching `where`) among those already received or still to
   * come. Rejects with the log tail when the process ends first, or after the timeout.
   */
  waitFor<N extends KafkaStreamsPeerEventName>(name: N, options?: WaitForEventOptions<KafkaStreamsPeerEventOf<N>>): Promise<KafkaStreamsPeerEventOf<N>>;
  /**
   * SIGTERM (Kafka Streams commits, leaves the group and closes), then SIGKILL if the process is
   * still there after `graceMs` (default: the close timeout plus 15 s). Idempotent.
   */
  stop(graceMs?: number): Promise<PeerExit>;
  /** SIGKILL: a crash, as far as Kafka is concerned. Idempotent. */
  kill(): Promise<PeerExit>;
  /** The last lines of the peer's log (stderr). */
  logTail(): string;
}

/** Starts the peer (`java -jar`); it is RUNNING once {@link KafkaStreamsPeer.waitFor}('running') resolves. */
export function startKafkaStreamsPeer(options: KafkaStreamsPeerOptions): KafkaStreamsPeer {
  return new PeerProcess(options);
}

const logLines = 50;

class PeerProcess implements KafkaStreamsPeer {
  readonly pid: number;
  readonly events: KafkaStreamsPeerEvent[] = [];
  readonly exited: Promise<PeerExit>;
  private readonly child: ChildProcess;
  private readonly log: string[] = [];
  private readonly logFile: WriteStream | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly closeTimeoutMs: number;
  private exit: PeerExit | undefined;
  private stopping: Promise<PeerExit> | undefined;

  constructor(private readonly options: KafkaStreamsPeerOptions) {
    this.closeTimeoutMs = options.closeTimeoutMs ?? 30_000;
    const java = javaRuntime('to run the Kafka Streams peer');
    const args = [
      ...(options.jvmOptions ?? []),
      '-jar',
      options.jar,
      `--bootstrap-servers=${options.brokers.join(',')}`,
      `--application-id=${options.applicationId}`,
      `--input-topic=${options.inputTopic}`,
      `--output-topic=${options.outputTopic}`,
      `--state-dir=${options.stateDir}`,
      `--diff-schema-id=${options.diffSchemaId}`,
      `--threads=${options.threads ?? 1}`,
      `--commit-interval-ms=${options.commitIntervalMs ?? 100}`,
      `--cache-bytes=${options.cacheBytes ?? 0}`,
      `--close-timeout-ms=${this.closeTimeoutMs}`,
      ...Object.entries(options.properties ?? {}).map(([name, value]) => `--property=${name}=${value}`),
    ];
    this.logFile = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: 'a' });
    this.child = spawn(java.executable, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise<PeerExit>((resolve) => {
      this.child.on('error', (error) => this.keepLog(`could not start ${java.executable}: ${error.message}`));
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        this.logFile?.end();
        this.notify();
        resolve(this.exit);
      });
    });
    this.pid = this.child.pid ?? -1;
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.receive(line));
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      this.keepLog(line);
      this.logFile?.write(`${line}\n`);
    });
  }

  waitFor<N extends KafkaStreamsPeerEventName>(name: N, options: WaitForEventOptions<KafkaStreamsPeerEventOf<N>> = {}): Promise<KafkaStreamsPeerEventOf<N>> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    let next = options.from ?? 0;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        for (; next < this.events.length; next += 1) {
          const event = this.events[next] as KafkaStreamsPeerEvent;
          if (event.event === name && (options.where === undefined || options.where(event as KafkaStreamsPeerEventOf<N>))) {
            done();
            resolve(event as KafkaStreamsPeerEventOf<N>);
            return;
          }
        }
        if (this.exit !== undefined) {
          done();
          reject(new KafkaStreamsPeerError(`the Kafka Streams peer (pid ${this.pid}) ${describeExit(this.exit)} before '${name}'; its log ends:\n${this.logTail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new KafkaStreamsPeerError(`waited ${timeoutMs} ms for '${name}' from the Kafka Streams peer (pid ${this.pid}); its log ends:\n${this.logTail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(check);
      };
      this.listeners.add(check);
      check();
    });
  }

  stop(graceMs = this.closeTimeoutMs + 15_000): Promise<PeerExit> {
    this.stopping ??= this.terminate(graceMs);
    return this.stopping;
  }

  async kill(): Promise<PeerExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  private async terminate(graceMs: number): Promise<PeerExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  logTail(): string {
    return this.log.length === 0 ? '(nothing logged)' : this.log.join('\n');
  }

  private receive(line: string): void {
    const event = parseEvent(line);
    if (event === undefined) {
      this.keepLog(`stdout: ${line}`);
      return;
    }
    this.events.push(event);
    if (event.event === 'error') this.keepLog(`error event: ${event.message}`);
    this.options.onEvent?.(event);
    this.notify();
  }

  private keepLog(line: string): void {
    this.log.push(line);
    if (this.log.length > logLines) this.log.shift();
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function parseEvent(line: string): KafkaStreamsPeerEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null && typeof (parsed as { event?: unknown }).event === 'string') return parsed as KafkaStreamsPeerEvent;
  } catch {
    // Not an event: kept as a log line.
  }
  return undefined;
}

function describeExit(exit: PeerExit): string {
  return exit.signal !== null ? `was ended by ${exit.signal}` : `exited with code ${exit.code}`;
}
