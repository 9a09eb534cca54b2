import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * The foreign clients of the interop suite, which nobody here wrote: Debian's kcat, and
 * confluent-kafka-python (with fastavro) from PyPI in a virtual environment outside the clone,
 * installed on first use from `requirements.txt` and reinstalled when that file changes.
 */

const run = promisify(execFile);
const repo = resolve(__dirname, '../..');
const requirements = join(__dirname, 'requirements.txt');

/** Where the virtual environment lives: `~/.cache/graphfold/interop-venv` (GRAPHFOLD_INTEROP_VENV overrides). */
export function venvDirectory(): string {
  return process.env['GRAPHFOLD_INTEROP_VENV'] ?? join(homedir(), '.cache', 'graphfold', 'interop-venv');
}

/** The venv's python, with the pinned requirements installed. */
export async function interopPython(): Promise<string> {
  const dir = venvDirectory();
  const python = join(dir, 'bin', 'python');
  const stamp = join(dir, 'requirements.sha256');
  const wanted = createHash('sha256').update(readFileSync(requirements)).digest('hex');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return python;
  try {
    await run('python3', ['-m', 'venv', '--clear', dir]);
    await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', requirements], { maxBuffer: 1 << 24 });
  } catch (error) {
    throw new Error(`cannot set up the interop suite's Python clients in ${dir}: ${(error as Error).message}; it needs python3 with venv (Debian: apt-get install python3-venv) and PyPI`);
  }
  writeFileSync(stamp, wanted);
  return python;
}

/** kcat's version line, or a clear error when Debian's kcat is not installed. */
export async function kcatVersion(): Promise<string> {
  try {
    const { stdout } = await run('kcat', ['-V']);
    return stdout.split('\n').find((line) => line.startsWith('Version')) ?? stdout.trim();
  } catch {
    throw new Error('the interop suite runs kcat, which is not installed: apt-get install kcat (.ci/run installs it)');
  }
}

/** A pip package's installed version in the venv. */
export async function pythonPackageVersion(python: string, name: string): Promise<string> {
  const { stdout } = await run(python, ['-c', `import importlib.metadata as m; print(m.version(${JSON.stringify(name)}))`]);
  return stdout.trim();
}

/**
 * A fenced code block of README.md, the one after the line `<!-- recipe: <name> -->`: the recipes
 * of "Producing from other languages" are run as they are written there.
 */
export function readmeRecipe(name: string): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const marker = `<!-- recipe: ${name} -->`;
  const at = readme.indexOf(marker);
  if (at < 0) throw new Error(`README.md has no recipe '${name}' (a line ${marker} before a fenced code block)`);
  const block = /```[a-z]*\n([\s\S]*?)\n```/.exec(readme.slice(at + marker.length));
  if (block?.[1] === undefined) throw new Error(`README.md: no fenced code block after ${marker}`);
  return `${block[1]}\n`;
}

export interface ProcessRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`), with `env` added to the environment. */
export function runProcess(command: string, args: readonly string[], options: { readonly env?: Record<string, string>; readonly cwd?: string; readonly input?: string; readonly timeoutMs?: number } = {}): Promise<ProcessRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} ran longer than ${options.timeoutMs ?? 120_000} ms; stdout: ${stdout} stderr: ${stderr}`));
    }, options.timeoutMs ?? 120_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
