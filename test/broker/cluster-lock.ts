import { mkdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterBusyError } from './errors';
import { processExists } from './jvm-process';

/**
 * A lock file beside the cluster state, so that a start and a stop from different processes (two
 * terminals, a CLI and a test run) never interleave. It holds the owner's pid; a lock whose owner
 * is gone (a killed run) is taken over.
 */
export async function withClusterLock<T>(stateDir: string, waitMs: number, work: () => Promise<T>): Promise<T> {
  await mkdir(stateDir, { recursive: true });
  const lockFile = join(stateDir, 'lock');
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await writeFile(lockFile, String(process.pid), { flag: 'wx' });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await lockOwner(lockFile);
    if (owner === undefined || !processExists(owner)) {
      await unlink(lockFile).catch(() => undefined);
      continue;
    }
    if (Date.now() >= deadline) {
      throw new ClusterBusyError(
        `process ${owner} has held ${lockFile} for over ${Math.round(waitMs / 1000)} s while starting or stopping the local cluster; wait for it, or if it is stuck, end it (kill ${owner}) and retry`,
      );
    }
    await sleep(200);
  }
  try {
    return await work();
  } finally {
    await unlink(lockFile).catch(() => undefined);
  }
}

async function lockOwner(lockFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(lockFile, 'utf8'), 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
