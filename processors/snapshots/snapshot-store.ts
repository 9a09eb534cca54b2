import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { RetriableError } from '../errors';

/**
 * Where snapshots are kept: named objects (`<topic>/<partition>/<snapshot id>/<file>`), written
 * whole or not at all, listed by prefix. What an object store (S3, GCS, Azure Blob) offers, so one
 * of those implements it by these four methods; {@link DirectorySnapshotStore} keeps the objects
 * as files in a directory, local or shared (NFS, a Kubernetes volume).
 *
 * Nothing here knows what a snapshot is: `snapshots.ts` writes a snapshot's files first and its
 * manifest last, so a snapshot without a manifest is incomplete and never restored.
 *
 * Failures are {@link RetriableError}s naming the store and the object.
 */
export interface SnapshotStore {
  /** What and where the store is, for log lines: `directory /mnt/snapshots`. */
  readonly description: string;
  /** The names of the objects under `prefix` (which ends with `/`), in no order. */
  list(prefix: string): Promise<readonly string[]>;
  /** An object's bytes. */
  read(name: string): Promise<Readable>;
  /** Writes an object from `data`: others see all of it once this resolves, or nothing. Replaces an object of that name. */
  write(name: string, data: Readable): Promise<void>;
  /** Deletes objects; a name that does not exist is no error. */
  remove(names: readonly string[]): Promise<void>;
  /**
   * Optional, for files that are never modified once written (RocksDB's table files): writes an
   * object from a local file, or places an object at a local path, as cheaply as the store can
   * (a directory on the same filesystem hard-links). The same guarantees as `write` and `read`.
   */
  linkFrom?(path: string, name: string): Promise<void>;
  linkTo?(name: string, path: string): Promise<void>;
}

/** Bytes a file is read and written in: a snapshot's files are tens of megabytes. */
const chunkBytes = 1 << 20;

/**
 * A {@link SnapshotStore} in a directory: each object a file at `<dir>/<name>`. A file is written
 * beside its final name, flushed to disk (fsync) and renamed over it, so a reader (on this host or
 * another one sharing the directory) sees a whole file or none. Names may not leave the directory.
 */
export class DirectorySnapshotStore implements SnapshotStore {
  readonly description: string;

  constructor(private readonly dir: string) {
    this.description = `directory ${dir}`;
  }

  async list(prefix: string): Promise<readonly string[]> {
    const base = this.path(prefix);
    const names: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
        throw this.failure(`list ${prefix}`, error);
      }
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) await walk(path);
        else if (entry.isFile() && !entry.name.includes('.partial-')) names.push(relative(this.dir, path).split(sep).join('/'));
      }
    };
    await walk(base);
    return names;
  }

  async read(name: string): Promise<Readable> {
    const path = this.path(name);
    // Opened here, so a missing object fails the read, not the stream later.
    const handle = await open(path, 'r').catch((error: unknown) => {
      throw this.failure(`read ${name}`, error);
    });
    return handle.createReadStream({ highWaterMark: chunkBytes });
  }

  async write(name: string, data: Readable): Promise<void> {
    const path = this.path(name);
    const partial = `${path}.partial-${randomBytes(4).toString('hex')}`;
    try {
      await mkdir(dirname(path), { recursive: true });
      // `flush`: the file is on disk (fsync) before it closes, so the rename publishes whole bytes.
      await pipeline(data, createWriteStream(partial, { highWaterMark: chunkBytes, flush: true }));
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true }).catch(() => undefined);
      throw this.failure(`write ${name}`, error);
    }
  }

  async remove(names: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const name of names) {
      const path = this.path(name);
      try {
        await rm(path, { force: true });
      } catch (error) {
        throw this.failure(`delete ${name}`, error);
      }
      dirs.add(dirname(path));
    }
    // A snapshot's directory goes with its last file (a directory another writer still fills is not empty).
    for (const dir of dirs) await rmdir(dir).catch(() => undefined);
  }

  async linkFrom(path: string, name: string): Promise<void> {
    const target = this.path(name);
    try {
      await mkdir(dirname(target), { recursive: true });
      await rm(target, { force: true });
      // A hard link is the whole file at once; across filesystems (a shared mount), a copy.
      await link(path, target).catch(async (error: unknown) => {
        if (!crossDevice(error)) throw error;
        await this.write(name, createReadStream(path, { highWaterMark: chunkBytes }));
      });
    } catch (error) {
      throw error instanceof RetriableError ? error : this.failure(`write ${name}`, error);
    }
  }

  async linkTo(name: string, path: string): Promise<void> {
    const source = this.path(name);
    try {
      await link(source, path).catch(async (error: unknown) => {
        if (!crossDevice(error)) throw error;
        await copyFile(source, path);
      });
    } catch (error) {
      throw this.failure(`read ${name}`, error);
    }
  }

  private path(name: string): string {
    const path = join(this.dir, ...name.split('/'));
    if (path !== this.dir && !path.startsWith(`${this.dir}${sep}`)) throw new RetriableError(`snapshot object name ${name} leaves the snapshot directory ${this.dir}`);
    return path;
  }

  private failure(doing: string, error: unknown): RetriableError {
    const code = (error as NodeJS.ErrnoException).code;
    return new RetriableError(`snapshot store ${this.description}: cannot ${doing}: ${(error as Error).message}${code === 'ENOSPC' ? '; the disk is full' : code === 'EACCES' || code === 'EROFS' ? '; check the directory\'s permissions and that it is mounted writable' : ''}`, {}, { cause: error });
  }
}

/** A hard link is refused: another filesystem, or one that has none. */
function crossDevice(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP';
}
