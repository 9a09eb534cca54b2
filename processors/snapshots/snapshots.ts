import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RetriableError } from '../errors';
import type { Instrumentation } from '../instrumentation/events';
import { GraphStore } from '../store/graph-store';
import type { RocksOptions } from '../store/rocks';
import { decodeManifest, encodeManifest, manifestFormat, manifestName, parseSnapshotId, snapshotId, type SnapshotFile, type SnapshotManifest, type SnapshotWriter } from './manifest';
import type { SnapshotStore } from './snapshot-store';

export interface SnapshotsOptions {
  readonly store: SnapshotStore;
  /** Complete snapshots kept per partition and writer role; older ones are deleted after each new one. */
  readonly retain: number;
  /** A local directory for the copy a snapshot is taken from, on the stores' disk. */
  readonly staging: string;
  /** RocksDB options of the copies (they are closed once written). */
  readonly rocks: RocksOptions;
  /** Who takes the snapshots written through this object. */
  readonly writer: SnapshotWriter;
  readonly instrumentation: Instrumentation;
}

/** What a restore may use. */
export interface RestoreCriteria {
  /** The changelog's end (read_committed): a snapshot beyond it belongs to another history. */
  readonly changelogEnd: number;
  /** Only snapshots that reflect more of the changelog than this offset are worth fetching. */
  readonly above: number;
  /** The writer roles whose snapshots may be restored. */
  readonly roles: readonly SnapshotWriter['role'][];
}

/** A snapshot whose manifest is in the store (complete), by its id. */
interface Listed {
  readonly id: string;
  readonly changelogOffset: number;
  readonly takenAt: number;
}

/** An incomplete snapshot (files, no manifest) older than this is abandoned: its writer died. */
const abandonedAfterMs = 60 * 60 * 1000;

/** Files of a RocksDB directory that are not part of the database. */
const notData = /^(LOCK|LOG(\.old\..*)?)$/;

/** RocksDB's table files, never modified once written (only deleted): a snapshot store may link them instead of copying. */
const immutable = /^[0-9]+\.sst$/;

/**
 * The snapshots of one changelog's partitions (a diffs topic) in a {@link SnapshotStore}:
 * consistent copies of a partition's store with the changelog offset each reflects, so a new or
 * emptied instance restores the newest valid one and replays only the changelog after it.
 *
 * Taking one (`take`):
 * 1. Copy the store into a local staging directory from one RocksDB iterator's view (the store
 *    writes on meanwhile: the view is one moment, its checkpoint the offsets of that moment).
 * 2. Read the copy's checkpoint: the snapshot reflects the changelog up to its `changelog` offset.
 * 3. Write every file of the copy as `<topic>/<partition>/<id>/<file>`, hashing it (SHA-256).
 * 4. Write the manifest last (the files, their sizes and hashes, the checkpoint, the layout): a
 *    snapshot without one is incomplete and never restored.
 * 5. Delete the staging copy; prune to `retain` snapshots.
 *
 * Restoring one (`restore`), newest first: a snapshot is skipped, with a `snapshot.skipped` line
 * saying why, when it reflects more than the changelog holds, its manifest is damaged or of
 * another format or layout, a file is missing or its hash or size differs, or the fetched store
 * does not open at the manifest's offset; the next older one is tried, and with none left the
 * caller replays the whole changelog.
 */
export class Snapshots {
  constructor(
    readonly topic: string,
    private readonly options: SnapshotsOptions,
  ) {}

  get description(): string {
    return this.options.store.description;
  }

  /** Takes a snapshot of `store` (partition `partition` of the changelog) as it is now; see the class comment. */
  async take(partition: number, store: GraphStore): Promise<SnapshotManifest> {
    const started = performance.now();
    const staging = join(this.options.staging, `${this.topic}-${partition}-${randomBytes(4).toString('hex')}`);
    try {
      await mkdir(dirname(staging), { recursive: true });
      const copied = await store.copyTo(staging, this.options.rocks);
      const copySeconds = (performance.now() - started) / 1000;
      const { checkpoint, layoutVersion } = await GraphStore.inspect(staging, this.options.rocks);
      if (checkpoint?.changelog === undefined || layoutVersion === undefined) throw new RetriableError(`the store of ${this.topic}/${partition} has written no checkpoint yet; nothing to snapshot`, { topic: this.topic, partition });
      const createdAt = new Date();
      const id = snapshotId(checkpoint.changelog, createdAt);
      const prefix = this.prefix(partition, id);
      const files: SnapshotFile[] = [];
      for (const name of (await readdir(staging)).sort()) {
        if (notData.test(name)) continue;
        const path = join(staging, name);
        if (!(await stat(path)).isFile()) continue;
        const hash = createHash('sha256');
        const counted = { bytes: 0 };
        const source = createReadStream(path, { highWaterMark: 1 << 20 });
        const hashed = hashing(hash, counted);
        source.on('error', (error) => hashed.destroy(error));
        if (immutable.test(name) && this.options.store.linkFrom !== undefined) {
          await pipeline(source, hashed, discarding());
          await this.options.store.linkFrom(path, `${prefix}${name}`);
        } else {
          await this.options.store.write(`${prefix}${name}`, source.pipe(hashed));
        }
        files.push({ name, bytes: counted.bytes, sha256: hash.digest('hex') });
      }
      const manifest: SnapshotManifest = {
        format: manifestFormat,
        id,
        topic: this.topic,
        partition,
        changelogOffset: checkpoint.changelog,
        checkpoint,
        layoutVersion,
        writer: this.options.writer,
        createdAt: createdAt.toISOString(),
        entries: copied.entries,
        bytes: copied.bytes,
        files,
      };
      await this.options.store.write(`${prefix}${manifestName}`, Readable.from([encodeManifest(manifest)]));
      this.options.instrumentation.emit('snapshot.taken', {
        name: this.options.writer.name,
        topic: this.topic,
        partition,
        id,
        changelogOffset: manifest.changelogOffset,
        entries: copied.entries,
        bytes: files.reduce((n, f) => n + f.bytes, 0),
        copySeconds,
        seconds: (performance.now() - started) / 1000,
        longestStepMs: copied.longestStepMs,
        store: this.description,
      });
      await this.prune(partition);
      return manifest;
    } finally {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  /**
   * Replaces the store directory `dir` with the newest valid snapshot that meets `criteria`, and
   * returns its manifest; undefined (and `dir` untouched) when there is none. Throws a
   * RetriableError when the snapshot store itself fails (the caller replays the changelog instead).
   */
  async restore(partition: number, dir: string, criteria: RestoreCriteria): Promise<SnapshotManifest | undefined> {
    const started = performance.now();
    for (const listed of await this.complete(partition)) {
      if (listed.changelogOffset <= criteria.above) break;
      const skip = (reason: string): void => this.options.instrumentation.emit('snapshot.skipped', { name: this.options.writer.name, topic: this.topic, partition, id: listed.id, reason });
      if (listed.changelogOffset > criteria.changelogEnd) {
        skip(`it reflects the changelog up to offset ${listed.changelogOffset}, but the changelog ends at ${criteria.changelogEnd} (the snapshot belongs to another history of the topic)`);
        continue;
      }
      const bytes = await this.readAll(`${this.prefix(partition, listed.id)}${manifestName}`).catch((error: unknown) => error as Error);
      if (bytes instanceof Error) {
        skip(`its manifest cannot be read (${bytes.message})`);
        continue;
      }
      const manifest = decodeManifest(bytes, { id: listed.id, topic: this.topic, partition, layoutVersion: GraphStore.layoutVersion });
      if ('unusable' in manifest) {
        skip(manifest.unusable);
        continue;
      }
      if (!criteria.roles.includes(manifest.writer.role)) continue;
      const fetched = `${dir}.snapshot-${randomBytes(4).toString('hex')}`;
      try {
        const damage = await this.fetch(manifest, fetched);
        if (damage !== undefined) {
          skip(damage);
          continue;
        }
        const opened = await GraphStore.inspect(fetched, this.options.rocks).catch((error: unknown) => ({ error: error as Error }));
        if ('error' in opened || opened.checkpoint?.changelog !== manifest.changelogOffset) {
          skip('error' in opened ? `its store does not open (${opened.error.message})` : `its store is at changelog offset ${String(opened.checkpoint?.changelog)}, not the manifest's ${manifest.changelogOffset}`);
          continue;
        }
        await GraphStore.destroy(dir);
        await mkdir(dirname(dir), { recursive: true });
        await rename(fetched, dir);
      } finally {
        await rm(fetched, { recursive: true, force: true }).catch(() => undefined);
      }
      this.options.instrumentation.emit('snapshot.restored', {
        name: this.options.writer.name,
        topic: this.topic,
        partition,
        id: manifest.id,
        changelogOffset: manifest.changelogOffset,
        bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
        seconds: (performance.now() - started) / 1000,
        takenBy: `${manifest.writer.role} ${manifest.writer.name} on ${manifest.writer.instance}`,
        createdAt: manifest.createdAt,
      });
      return manifest;
    }
    return undefined;
  }

  /** The changelog offset of the newest complete snapshot of a partition (by any writer), or undefined. */
  async newestOffset(partition: number): Promise<number | undefined> {
    return (await this.complete(partition))[0]?.changelogOffset;
  }

  /**
   * Deletes all but the newest `retain` complete snapshots of each writer role, and incomplete
   * snapshots whose writer has abandoned them (older than an hour).
   */
  async prune(partition: number): Promise<void> {
    const byId = await this.listed(partition);
    const complete = [...byId.values()].filter((s) => s.complete).sort(newestFirst);
    const doomed: string[] = [];
    const kept = new Map<string, number>();
    for (const snapshot of complete) {
      let role = 'owner';
      try {
        const manifest = decodeManifest(await this.readAll(`${this.prefix(partition, snapshot.id)}${manifestName}`), { id: snapshot.id, topic: this.topic, partition, layoutVersion: GraphStore.layoutVersion });
        role = 'unusable' in manifest ? 'unusable' : manifest.writer.role;
      } catch {
        role = 'unusable';
      }
      const n = (kept.get(role) ?? 0) + 1;
      kept.set(role, n);
      if (role === 'unusable' || n > this.options.retain) doomed.push(snapshot.id);
    }
    for (const snapshot of byId.values()) if (!snapshot.complete && Date.now() - snapshot.takenAt > abandonedAfterMs) doomed.push(snapshot.id);
    if (doomed.length === 0) return;
    // The manifest goes first: a snapshot half deleted is incomplete, never restored.
    for (const id of doomed) {
      const names = byId.get(id)?.names ?? [];
      const manifest = `${this.prefix(partition, id)}${manifestName}`;
      await this.options.store.remove(names.filter((n) => n === manifest));
      await this.options.store.remove(names.filter((n) => n !== manifest));
    }
    this.options.instrumentation.emit('snapshot.pruned', { name: this.options.writer.name, topic: this.topic, partition, ids: doomed });
  }

  /** Complete snapshots of a partition, newest (most of the changelog, then latest) first. */
  private async complete(partition: number): Promise<Listed[]> {
    return [...(await this.listed(partition)).values()].filter((s) => s.complete).sort(newestFirst);
  }

  private async listed(partition: number): Promise<Map<string, Listed & { complete: boolean; names: string[] }>> {
    const prefix = `${this.topic}/${partition}/`;
    const byId = new Map<string, Listed & { complete: boolean; names: string[] }>();
    for (const name of await this.options.store.list(prefix)) {
      const [id, file, ...rest] = name.slice(prefix.length).split('/');
      const parsed = id === undefined ? undefined : parseSnapshotId(id);
      if (parsed === undefined || file === undefined || rest.length > 0) continue;
      let entry = byId.get(id as string);
      if (entry === undefined) byId.set(id as string, (entry = { id: id as string, ...parsed, complete: false, names: [] }));
      entry.names.push(name);
      if (file === manifestName) entry.complete = true;
    }
    return byId;
  }

  /** Fetches a snapshot's files into `dir`, checking each one's size and SHA-256; returns what is damaged, if anything is. */
  private async fetch(manifest: SnapshotManifest, dir: string): Promise<string | undefined> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const prefix = this.prefix(manifest.partition, manifest.id);
    for (const file of manifest.files) {
      if (file.name.includes('/') || file.name.startsWith('.')) return `its manifest names a file ${file.name} outside the snapshot`;
      const hash = createHash('sha256');
      const counted = { bytes: 0 };
      const target = join(dir, file.name);
      const linkTo = this.options.store.linkTo?.bind(this.options.store);
      if (immutable.test(file.name) && linkTo !== undefined) {
        try {
          await linkTo(`${prefix}${file.name}`, target);
        } catch (error) {
          return `its file ${file.name} cannot be read (${(error as Error).message})`;
        }
        await pipeline(createReadStream(target, { highWaterMark: 1 << 20 }), hashing(hash, counted), discarding());
      } else {
        let source: Readable;
        try {
          source = await this.options.store.read(`${prefix}${file.name}`);
        } catch (error) {
          return `its file ${file.name} cannot be read (${(error as Error).message})`;
        }
        await pipeline(source, hashing(hash, counted), createWriteStream(target));
      }
      const sum = hash.digest('hex');
      if (counted.bytes !== file.bytes || sum !== file.sha256) return `its file ${file.name} is damaged (${counted.bytes} bytes with SHA-256 ${sum.slice(0, 12)}..., the manifest says ${file.bytes} bytes with ${file.sha256.slice(0, 12)}...)`;
    }
    return undefined;
  }

  private async readAll(name: string): Promise<Buffer> {
    const chunks: Buffer[] = [];
    await pipeline(
      await this.options.store.read(name),
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          done();
        },
      }),
    );
    return Buffer.concat(chunks);
  }

  private prefix(partition: number, id: string): string {
    return `${this.topic}/${partition}/${id}/`;
  }
}

function newestFirst(a: Listed, b: Listed): number {
  return b.changelogOffset - a.changelogOffset || b.takenAt - a.takenAt || (a.id < b.id ? 1 : -1);
}

/** A sink that drops what it is given (a file read only to be hashed). */
function discarding(): Writable {
  return new Writable({
    write(_chunk: Buffer, _encoding, done) {
      done();
    },
  });
}

/** Passes bytes through, hashing and counting them. */
function hashing(hash: Hash, counted: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      counted.bytes += chunk.length;
      done(null, chunk);
    },
  });
}
