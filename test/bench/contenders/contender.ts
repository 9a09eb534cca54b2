import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

/** What every contender gets: the cluster, the input, where to write, and a scratch directory. */
export interface ContenderSetup {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  readonly input: string;
  readonly partitions: number;
  /** Where the contender writes its output (and, if it has one, rejections: `<output>-rejections`). */
  readonly output: string;
  /** Names its consumer group / application id and transactional ids. */
  readonly name: string;
  /** A directory of its own for state and logs. */
  readonly dir: string;
  readonly transactionSchemaId: number;
  readonly diffSchemaId: number;
}

/** A contender running as a child process. */
export interface ContenderRun {
  readonly pid: number;
  /** The consumer group whose committed input offsets measure its progress. */
  readonly group: string;
  /** JSON lines it printed (stdout or its JSON log), parsed. */
  readonly events: readonly Record<string, unknown>[];
  /** Waits until it consumes. */
  ready(): Promise<void>;
  /** SIGTERM, then waits for it to exit. */
  stop(): Promise<void>;
}

export interface Contender {
  readonly name: string;
  /** What it is, for the report. */
  readonly description: string;
  /** Creates what it needs (output topics) and starts it. */
  start(setup: ContenderSetup): Promise<ContenderRun>;
  /** Deletes its local state, for a cold restore; undefined when it has none. */
  readonly resetState?: (setup: ContenderSetup) => Promise<void>;
}

/** A child process whose JSON lines (on `stream`) become events; everything it writes is logged to `logFile`. */
export class ChildRun implements ContenderRun {
  readonly events: Record<string, unknown>[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  constructor(
    command: string,
    args: readonly string[],
    readonly group: string,
    logFile: string,
    stream: 'stdout' | 'stderr',
    private readonly isReady: (event: Record<string, unknown>) => boolean,
  ) {
    const log = createWriteStream(logFile, { flags: 'a' });
    this.child = spawn(command, [...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    this.child[stream]?.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) continue;
        try {
          this.events.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          continue;
        }
      }
    });
    this.child.stdout?.on('data', (chunk: Buffer) => log.write(chunk));
    this.child.stderr?.on('data', (chunk: Buffer) => log.write(chunk));
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async ready(timeoutMs = 180_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => {
      exited = true;
    });
    while (!this.events.some(this.isReady)) {
      if (exited) throw new Error(`the contender exited before it was ready (pid ${this.pid})`);
      if (Date.now() > deadline) throw new Error(`the contender was not ready within ${timeoutMs} ms (pid ${this.pid})`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** SIGKILL (a crash: no clean stop), then waits for it to exit. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<void> {
    this.child.kill('SIGTERM');
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    await this.exited;
    clearTimeout(timeout);
  }
}
