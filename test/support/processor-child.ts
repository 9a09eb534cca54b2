import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kafka } from 'kafkajs';
import { compiledModule } from './compiled';
import { childEnvironment } from './environment';
import { testCluster, uniqueName, type ReceivedMessage } from './kafka';
import type { ProcessorTopics } from './processor-harness';
import { waitFor } from './wait-for';

/**
 * `graphfold run` in a child process, for tests that crash it: its JSON log lines are parsed as
 * they come and kept, and everything it writes goes to a log file for the test's failure message.
 */
export class ProcessorChild {
  readonly lines: Record<string, unknown>[] = [];
  readonly exited: Promise<number | null>;
  private readonly child: ChildProcess;

  private constructor(
    readonly name: string,
    readonly logFile: string,
    topologyFile: string,
    env: Readonly<Record<string, string | undefined>>,
    wrap: (command: readonly string[]) => readonly string[] = (command) => command,
  ) {
    const log = createWriteStream(logFile, { flags: 'a' });
    const [program, ...args] = wrap([process.execPath, compiledModule('processors/cli/main.ts'), 'run', '--topology', topologyFile, '--log-format', 'json']) as [string, ...string[]];
    this.child = spawn(program, args, {
      env: childEnvironment(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let pending = '';
    this.child.stderr?.on('data', (chunk: Buffer) => {
      log.write(chunk);
      pending += chunk.toString();
      const complete = pending.split('\n');
      pending = complete.pop() ?? '';
      for (const line of complete) {
        try {
          this.lines.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.lines.push({ message: line });
        }
      }
    });
    this.child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    // 'close' comes after the child's output is drained; the log file is complete once it settles.
    this.exited = new Promise((resolve) => this.child.once('close', (code) => log.end(() => resolve(code))));
  }

  /** Starts `graphfold run`; `env` changes the child's environment (passwords for a secured topology, say). */
  /** `wrap` may run the command inside another (a shell that prepares a file system first, say); signals go to the outer one. */
  static start(name: string, topologyFile: string, logFile: string, env: Readonly<Record<string, string | undefined>> = {}, wrap?: (command: readonly string[]) => readonly string[]): ProcessorChild {
    return new ProcessorChild(name, logFile, topologyFile, env, wrap);
  }

  /** Log lines with this message. */
  logged(message: string): Record<string, unknown>[] {
    return this.lines.filter((line) => line['message'] === message);
  }

  /** Waits for a log line with this message that satisfies `matches`. */
  async waitForLog(message: string, matches: (line: Record<string, unknown>) => boolean = () => true, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    return waitFor(`${this.name} to log "${message}"`, () => this.logged(message).find(matches), { timeoutMs, intervalMs: 50 });
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** The last lines of its log, for a failure message. */
  async tail(lines = 40): Promise<string> {
    const text = await readFile(this.logFile, 'utf8').catch(() => '');
    return text.split('\n').slice(-lines).join('\n');
  }
}

/** A topology file for one processor over `topics`, on the test cluster, with a short session timeout. */
export async function writeTopologyFile(
  dir: string,
  topics: ProcessorTopics,
  options: {
    readonly application: string;
    readonly stateDir: string;
    readonly file?: string;
    readonly processorLines?: readonly string[];
    readonly storeLines?: readonly string[];
    readonly topologyLines?: readonly string[];
    readonly query?: { readonly listen: string; readonly token?: string };
    /** The processor's graph schema, as a topology file writes it (written as a YAML flow mapping). */
    readonly schema?: unknown;
  },
): Promise<string> {
  const cluster = testCluster();
  const file = join(dir, options.file ?? `${uniqueName('topology')}.yaml`);
  const yaml = [
    `application: ${options.application}`,
    'kafka:',
    `  brokers: [${cluster.brokers.join(', ')}]`,
    'registry:',
    `  url: ${cluster.registryUrl}`,
    'store:',
    `  dir: ${options.stateDir}`,
    '  cachedAtoms: 10000',
    ...(options.storeLines ?? []).map((line) => `  ${line}`),
    'processors:',
    '  - name: graphs',
    `    inputs: [${topics.input}]`,
    `    diffs: ${topics.diffs}`,
    `    rejections: ${topics.rejections}`,
    `    partitions: ${topics.partitions}`,
    '    replicationFactor: 1',
    `    concurrency: ${topics.partitions}`,
    '    sessionTimeoutMs: 6000',
    ...(options.processorLines ?? []).map((line) => `    ${line}`),
    ...(options.schema === undefined ? [] : [`    schema: ${JSON.stringify(options.schema)}`]),
    ...(options.topologyLines ?? []),
    ...(options.query === undefined ? [] : ['query:', `  listen: ${options.query.listen}`, ...(options.query.token === undefined ? [] : [`  token: ${options.query.token}`])]),
  ].join('\n');
  await writeFile(file, `${yaml}\n`);
  return file;
}

/** Waits until the group has committed every input partition up to its end. */
export async function waitForCaughtUp(kafka: Kafka, groupId: string, topic: string, timeoutMs = 120_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await waitFor(
      `group ${groupId} to catch up with ${topic}`,
      async () => {
        const [ends, [committed]] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId, topics: [topic] })]);
        const position = (partition: number, low: string): number => Math.max(Number(committed?.partitions.find((p) => p.partition === partition)?.offset ?? -1), Number(low));
        const behind = ends.filter((end) => position(end.partition, end.low) < Number(end.offset));
        return behind.length === 0 ? true : undefined;
      },
      { timeoutMs, intervalMs: 500 },
    );
  } finally {
    await admin.disconnect();
  }
}

/** Every committed record of a topic, from its start to its end now (read_committed). */
export async function readAll(kafka: Kafka, topic: string, timeoutMs = 60_000): Promise<ReceivedMessage[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const consumer = kafka.consumer({ groupId: uniqueName('read-all'), maxWaitTimeInMs: 100 });
  const received: ReceivedMessage[] = [];
  const positions = new Map(ends.map((e) => [e.partition, Number(e.low)]));
  const done = (): boolean => ends.every((e) => (positions.get(e.partition) ?? 0) >= Number(e.offset));
  await consumer.connect();
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    positions.set(payload.partition, Math.max(positions.get(payload.partition) ?? 0, Number(payload.lastOffset) + 1));
  });
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        received.push({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers ?? {} });
      },
    });
    await waitFor(`all of ${topic}`, () => (done() ? true : undefined), { timeoutMs, intervalMs: 50 });
    return received;
  } finally {
    await consumer.disconnect();
  }
}
