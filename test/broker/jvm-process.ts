import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Background JVMs that outlive the process that started them (a CLI that exits, a test run that is
 * killed), each carrying a marker system property on its command line. The marker is how a later
 * start or stop recognises them: a recorded pid counts as ours only while its command line still
 * carries the marker, so a recycled pid is never signalled.
 */

const markerProperty = '-Dgraphfold.localCluster=';

export interface JvmLaunch {
  readonly executable: string;
  /** Everything after `java` except the marker: JVM options, then main class or `-jar`, then arguments. */
  readonly args: readonly string[];
  readonly marker: string;
  readonly cwd: string;
  /** stdout and stderr are appended here. */
  readonly logFile: string;
}

/** Starts the JVM in its own process group, detached from ours; returns its pid. */
export function launchJvm(launch: JvmLaunch): number {
  const log = openSync(launch.logFile, 'a');
  try {
    const child = spawn(launch.executable, [`${markerProperty}${launch.marker}`, ...launch.args], {
      cwd: launch.cwd,
      detached: true,
      stdio: ['ignore', log, log],
    });
    child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${launch.executable}`);
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/** True while `pid` is a live process whose command line carries `marker`. */
export function isMarkedProcessAlive(pid: number, marker: string): boolean {
  if (!existsSync('/proc')) return processExists(pid);
  const args = commandLine(pid);
  return args !== undefined && args.includes(`${markerProperty}${marker}`);
}

/** Live processes whose marker starts with `markerPrefix`, with their markers (Linux only; elsewhere none). */
export function markedProcesses(markerPrefix: string): { pid: number; marker: string }[] {
  if (!existsSync('/proc')) return [];
  const found: { pid: number; marker: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const arg = commandLine(pid)?.find((a) => a.startsWith(`${markerProperty}${markerPrefix}`));
    if (arg !== undefined) found.push({ pid, marker: arg.slice(markerProperty.length) });
  }
  return found;
}

/**
 * Ends a marked JVM: SIGTERM (the JVM's shutdown hooks run), then SIGKILL after `graceMs`.
 * Resolves once the process is gone. A process that is already gone, or is no longer ours, is left
 * alone: terminate is idempotent.
 */
export async function terminateJvm(pid: number, marker: string, graceMs: number): Promise<void> {
  if (!isMarkedProcessAlive(pid, marker)) return;
  signal(pid, 'SIGTERM');
  if (await exited(pid, marker, graceMs)) return;
  signal(pid, 'SIGKILL');
  await exited(pid, marker, 10_000);
}

/** Last lines of a log file, for error messages. */
export async function logTail(file: string, lines = 25): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log written)';
  }
}

async function exited(pid: number, marker: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (!isMarkedProcessAlive(pid, marker)) return true;
    await sleep(100);
  }
  return !isMarkedProcessAlive(pid, marker);
}

function commandLine(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw === '' ? undefined : raw.split('\0');
  } catch {
    return undefined;
  }
}

/** True while a process with this pid exists (ours or not). */
export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
