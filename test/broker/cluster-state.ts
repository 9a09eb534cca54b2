import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The record of the local cluster, kept in the state directory outside the clone. It is written
 * before each process is launched and updated as soon as its pid is known, so a run killed at any
 * point leaves enough behind for the next start or stop to find and end what it started.
 */
export interface ClusterState {
  readonly format: 1;
  /** `starting` until both processes answered and Kafka was warmed up. */
  readonly phase: 'starting' | 'ready';
  readonly runId: string;
  /** The run's temporary directory (Kafka data, configuration, logs); removed on stop. */
  readonly dir: string;
  readonly startedAt: string;
  readonly kafka?: RecordedProcess & { readonly bootstrap: string };
  readonly registry?: RecordedProcess & { readonly url: string };
  /** Set for a secured cluster: where its certificates and passwords are (inside `dir`), and its extra listeners. */
  readonly security?: RecordedSecurity;
}

export interface RecordedSecurity {
  readonly caFile: string;
  readonly untrustedCaFile: string;
  readonly credentialsFile: string;
  readonly badListeners: { readonly wrongHostname: string; readonly expiredCertificate: string };
}

export interface RecordedProcess {
  readonly pid: number;
  readonly marker: string;
  readonly logFile: string;
}

function stateFile(stateDir: string): string {
  return join(stateDir, 'cluster.json');
}

/** The recorded state, or undefined when there is none or it cannot be read (treated as none). */
export async function readClusterState(stateDir: string): Promise<ClusterState | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(stateFile(stateDir), 'utf8'));
    return isClusterState(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Replaces the state atomically (write to a side file, then rename). */
export async function writeClusterState(stateDir: string, state: ClusterState): Promise<void> {
  const file = stateFile(stateDir);
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, `${JSON.stringify(state, null, 2)}\n`);
  await rename(partial, file);
}

export async function clearClusterState(stateDir: string): Promise<void> {
  await rm(stateFile(stateDir), { force: true });
}

function isClusterState(value: unknown): value is ClusterState {
  if (typeof value !== 'object' || value === null) return false;
  const state = value as Record<string, unknown>;
  return state['format'] === 1 && typeof state['runId'] === 'string' && typeof state['dir'] === 'string';
}
