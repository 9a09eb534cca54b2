import { createHash, randomBytes } from 'node:crypto';
import type { Checkpoint } from '../store/graph-store';

/**
 * A snapshot's manifest: what the snapshot is a copy of, the changelog offset it reflects, and
 * every file with its size and SHA-256. Written last, so a snapshot whose manifest is missing is
 * incomplete; it carries a SHA-256 of its own content, so a damaged manifest is known too.
 */
export interface SnapshotManifest {
  /** The manifest's own format; another one is skipped as incompatible. */
  readonly format: typeof manifestFormat;
  readonly id: string;
  /** The changelog (a diffs topic) and partition the store holds. */
  readonly topic: string;
  readonly partition: number;
  /** The changelog offset after the last diff the snapshot holds: a restore replays from here. */
  readonly changelogOffset: number;
  /** The store's checkpoint, as the copy holds it. */
  readonly checkpoint: Checkpoint;
  /** The store layout the files are in; a restore needs the one this graphfold reads. */
  readonly layoutVersion: number;
  /** Who took it: the owner of the partition (a processor) or a follower of its changelog. */
  readonly writer: SnapshotWriter;
  /** When the copy was taken (ISO 8601). */
  readonly createdAt: string;
  /** Key-value pairs and their bytes in the copy. */
  readonly entries: number;
  readonly bytes: number;
  readonly files: readonly SnapshotFile[];
}

export interface SnapshotWriter {
  /** `owner`: the processor that writes the changelog (its snapshot holds the record of rejected txIds); `follower`: a read-only copy. */
  readonly role: 'owner' | 'follower';
  readonly application: string;
  /** The processor's or the follower's name. */
  readonly name: string;
  readonly instance: string;
}

export interface SnapshotFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
}

export const manifestFormat = 1;

/** The manifest's object name within its snapshot. */
export const manifestName = 'manifest.json';

/**
 * A snapshot's id: the changelog offset it reflects (zero-padded, so ids sort by it), the time it
 * was taken and a random suffix (two instances may snapshot the same offset).
 */
export function snapshotId(changelogOffset: number, at: Date): string {
  return `${String(changelogOffset).padStart(16, '0')}-${at.getTime().toString(36).padStart(9, '0')}-${randomBytes(3).toString('hex')}`;
}

/** The offset and time an id names, or undefined for a name that is not a snapshot id. */
export function parseSnapshotId(id: string): { readonly changelogOffset: number; readonly takenAt: number } | undefined {
  const match = /^([0-9]{16})-([0-9a-z]{9,})-[0-9a-f]{6}$/.exec(id);
  if (match === null) return undefined;
  return { changelogOffset: Number(match[1]), takenAt: parseInt(match[2] as string, 36) };
}

/** The manifest as written: its JSON with a SHA-256 of the rest. */
export function encodeManifest(manifest: SnapshotManifest): Buffer {
  const body = JSON.stringify(manifest);
  return Buffer.from(`${JSON.stringify({ sha256: sha256(body), manifest: JSON.parse(body) as unknown })}\n`);
}

/**
 * A manifest read back, or why it is unusable: damaged (not JSON, its checksum does not match),
 * or incompatible (another format, another store layout, another changelog partition).
 */
export function decodeManifest(bytes: Buffer, expected: { readonly id: string; readonly topic: string; readonly partition: number; readonly layoutVersion: number }): SnapshotManifest | { readonly unusable: string } {
  let outer: unknown;
  try {
    outer = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    return { unusable: `its manifest is damaged (not JSON: ${(error as Error).message})` };
  }
  const { sha256: sum, manifest } = (outer ?? {}) as { sha256?: unknown; manifest?: unknown };
  if (typeof sum !== 'string' || manifest === null || typeof manifest !== 'object') return { unusable: 'its manifest is damaged (no checksum or no body)' };
  if (sha256(JSON.stringify(manifest)) !== sum) return { unusable: 'its manifest is damaged (its SHA-256 does not match)' };
  const m = manifest as SnapshotManifest;
  if (m.format !== manifestFormat) return { unusable: `its manifest is in format ${String(m.format)}; this graphfold reads format ${manifestFormat}` };
  if (m.layoutVersion !== expected.layoutVersion) return { unusable: `it holds a store of layout version ${m.layoutVersion}; this graphfold reads layout version ${expected.layoutVersion}` };
  if (m.id !== expected.id || m.topic !== expected.topic || m.partition !== expected.partition) return { unusable: `its manifest names ${m.topic}/${m.partition} snapshot ${m.id}, not ${expected.topic}/${expected.partition} snapshot ${expected.id}` };
  if (!Number.isSafeInteger(m.changelogOffset) || !Array.isArray(m.files) || m.files.some((f) => typeof f?.name !== 'string' || typeof f.sha256 !== 'string' || !Number.isSafeInteger(f.bytes))) {
    return { unusable: 'its manifest is incomplete (offset or files missing)' };
  }
  return m;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
