import rocksdb from 'rocksdb';
import { RetriableError } from '../errors';

/** A WriteBatch being filled; `write` applies all its puts atomically, once. */
export interface RocksBatch {
  put(key: Buffer, value: Buffer): void;
  readonly size: number;
  write(): Promise<void>;
}

export interface RocksOptions {
  /** Bytes of RocksDB block cache. */
  readonly cacheBytes: number;
  /** Bytes of memtable before a flush. */
  readonly writeBufferBytes: number;
}

/**
 * A promise-shaped RocksDB database (npm `rocksdb`): the only module that talks to the binding.
 * Failures are {@link RetriableError}s naming the directory.
 */
export class Rocks {
  private constructor(
    readonly location: string,
    private readonly db: rocksdb.RocksDB,
  ) {}

  static async open(location: string, options: RocksOptions): Promise<Rocks> {
    const db = rocksdb(location);
    await new Promise<void>((resolve, reject) =>
      db.open({ createIfMissing: true, compression: true, cacheSize: options.cacheBytes, writeBufferSize: options.writeBufferBytes, infoLogLevel: 'error' }, (error) =>
        error ? reject(new RetriableError(`cannot open RocksDB at ${location}: ${error.message}`, {}, { cause: error })) : resolve(),
      ),
    );
    return new Rocks(location, db);
  }

  /** Deletes a database directory and everything in it. */
  static async destroy(location: string): Promise<void> {
    await new Promise<void>((resolve, reject) =>
      rocksdb.destroy(location, (error) => (error ? reject(new RetriableError(`cannot destroy RocksDB at ${location}: ${error.message}`, {}, { cause: error })) : resolve())),
    );
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.db.close((error) => (error ? reject(this.failure('close', error)) : resolve())));
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return new Promise((resolve, reject) =>
      this.db.get(key, { asBuffer: true }, (error, value) => {
        if (error && !/NotFound/i.test(error.message)) reject(this.failure('get', error));
        else resolve(error ? undefined : value);
      }),
    );
  }

  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    return new Promise((resolve, reject) =>
      this.db.getMany(keys, { asBuffer: true }, (error, values) => (error ? reject(this.failure('getMany', error)) : resolve(values ?? []))),
    );
  }

  /** A new WriteBatch: puts collect in native memory and are written atomically by `write`. */
  batch(): RocksBatch {
    const batch = this.db.batch();
    return {
      put: (key, value) => {
        batch.put(key, value);
      },
      get size() {
        return batch.length;
      },
      write: () => new Promise((resolve, reject) => batch.write((error) => (error ? reject(this.failure('write', error)) : resolve()))),
    };
  }

  /** Key-value pairs with `gte <= key < lt`, in key order; at most `limit` of them. */
  async *scan(gte: Buffer, lt: Buffer, limit = -1): AsyncGenerator<[Buffer, Buffer]> {
    const iterator = this.db.iterator({ gte, lt, limit, keyAsBuffer: true, valueAsBuffer: true });
    try {
      for (;;) {
        const entry = await new Promise<[Buffer, Buffer] | undefined>((resolve, reject) =>
          iterator.next((error, key, value) => (error ? reject(this.failure('scan', error)) : resolve(key === undefined ? undefined : [key, value as Buffer]))),
        );
        if (entry === undefined) return;
        yield entry;
      }
    } finally {
      await new Promise<void>((resolve) => iterator.end(() => resolve()));
    }
  }

  /** The first key-value pair with `gte <= key < lt`, if any. */
  async first(gte: Buffer, lt: Buffer): Promise<[Buffer, Buffer] | undefined> {
    for await (const entry of this.scan(gte, lt, 1)) return entry;
    return undefined;
  }

  approximateSize(start: Buffer, end: Buffer): Promise<number> {
    return new Promise((resolve, reject) => this.db.approximateSize(start, end, (error, size) => (error ? reject(this.failure('approximateSize', error)) : resolve(size ?? 0))));
  }

  private failure(operation: string, error: Error): RetriableError {
    return new RetriableError(`RocksDB ${operation} failed at ${this.location}: ${error.message}; check disk space and permissions`, {}, { cause: error });
  }
}
