import { readFile } from 'node:fs/promises';

/** CPU time and memory of a running process, from /proc (Linux). */
export interface ProcessStats {
  /** User + system CPU seconds so far. */
  readonly cpuSeconds: number;
  /** Peak resident set size so far, MiB. */
  readonly peakRssMiB: number;
}

const ticksPerSecond = 100;

export async function processStats(pid: number): Promise<ProcessStats> {
  const [stat, status] = await Promise.all([readFile(`/proc/${pid}/stat`, 'utf8'), readFile(`/proc/${pid}/status`, 'utf8')]);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return { cpuSeconds: (utime + stime) / ticksPerSecond, peakRssMiB: hwm === null ? Number.NaN : Number(hwm[1]) / 1024 };
}
