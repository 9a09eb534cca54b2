import { spawn } from 'node:child_process';
import { compiledModule } from './compiled';
import { childEnvironment } from './environment';

/** How a run of the graphfold CLI ended. */
export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliOptions {
  /** Written to the CLI's stdin, which is then closed. @default nothing (stdin closed at once) */
  readonly input?: string;
  /** Changes to this process's environment (which holds the test cluster). @default none */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Kill the CLI after this long and fail. @default 60000 */
  readonly timeoutMs?: number;
}

/**
 * Runs `graphfold <args>` as users do: the compiled CLI (`dist/processors/cli/main.js`) in a child
 * process, with the test cluster's KAFKA_BROKERS and SCHEMA_REGISTRY_URL in its environment.
 */
export function runCli(args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
  const main = compiledModule('processors/cli/main.ts');
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { env: childEnvironment(options.env ?? {}), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`graphfold ${args.join(' ')} ran longer than ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
