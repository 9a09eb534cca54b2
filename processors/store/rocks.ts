import rocksdb from 'rocksdb';
import binding from 'rocksdb/binding';
import { RetriableError } from '../errors';

/** A WriteBatch being filled; `write` applies all its puts atomically, once. */
export interface RocksBatch {
  /** Copies key and value into the batch: both may be reused once it returns. */
  put(key: Buffer, value: Buffer): void;
  /** Deletes a key (after the puts before it in the batch). */
  del(key: Buffer): void;
  readonly size: number;
  write(): Promise<void>;
}

export interface RocksOptions {
  /** Bytes of RocksDB block cache. */
  readonly cacheBytes: number;
  /** Bytes of memtable before a flush. */
  readonly writeBufferBytes: number;
}

/** Key-value pairs read by a scan, in key order. */
export type Entries = [Buffer, Buffer][];

/**
 * A promise-shaped RocksDB database (npm `rocksdb`): the only module that talks to the binding.
 * Opening and closing go through the package; batches, multi-gets and scans call its native
 * binding directly, skipping abstract-leveldown's argument checks and callback deferrals on the
 * hot path. Failures are {@link RetriableError}s naming the directory.
 */
export class Rocks {
  private closed = false;

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

  /** Closes once the reads, scans and writes in flight are done. */
  close(): Promise<void> {
    this.closed = true;
    return new Promise((resolve, reject) => this.db.close((error) => (error ? reject(this.failure('close', error)) : resolve())));
  }

  get(key: Buffer): Promise<Buffer | undefined> {
    return this.getMany([key]).then((values) => values[0]);
  }

  /** The values of `keys`, in order; undefined where a key is absent. */
  getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return Promise.resolve([]);
    this.checkOpen('getMany');
    return new Promise((resolve, reject) =>
      binding.db_get_many(this.db.context, keys, { asBuffer: true, fillCache: true }, (error, values) => (error ? reject(this.failure('getMany', error)) : resolve(values ?? []))),
    );
  }

  /** A new WriteBatch: puts collect in native memory and are written atomically by `write`. */
  batch(): RocksBatch {
    this.checkOpen('batch');
    const context = binding.batch_init(this.db.context);
    let size = 0;
    return {
      put: (key, value) => {
        binding.batch_put(context, key, value);
        size += 1;
      },
      del: (key) => {
        binding.batch_del(context, key);
        size += 1;
      },
      get size() {
        return size;
      },
      write: () => {
        this.checkOpen('write');
        return new Promise((resolve, reject) => binding.batch_write(context, { sync: false }, (error) => (error ? reject(this.failure('write', error)) : resolve())));
      },
    };
  }

  /**
   * Key-value pairs with `gte <= key < lt`, in key order (descending with `reverse`), a native
   * batch at a time (about a thousand pairs, fewer when large); at most `limit` pairs in all.
   * Without `values`, values are empty.
   */
  async *scan(gte: Buffer, lt: Buffer, options: { readonly limit?: number; readonly values?: boolean; readonly reverse?: boolean } = {}): AsyncGenerator<Entries> {
    this.checkOpen('scan');
    const withValues = options.values ?? true;
    const iterator = binding.iterator_init(this.db.context, { gte, lt, reverse: options.reverse ?? false, limit: options.limit ?? -1, values: withValues, keyAsBuffer: true, valueAsBuffer: withValues, fillCache: false });
    let finished = false;
    try {
      while (!finished) {
        const batch = await new Promise<(Buffer | string)[]>((resolve, reject) =>
          binding.iterator_next(iterator, (error, array, last) => {
            if (error) {
              reject(this.failure('scan', error));
              return;
            }
            finished = last;
            resolve(array);
          }),
        );
        const entries: Entries = [];
        for (let i = batch.length - 1; i > 0; i -= 2) entries.push([batch[i] as Buffer, withValues ? (batch[i - 1] as Buffer) : empty]);
        if (entries.length > 0) yield entries;
      }
    } finally {
      binding.iterator_end(iterator, ignore);
    }
  }

  /** The first key-value pair with `gte <= key < lt`, if any. */
  async first(gte: Buffer, lt: Buffer): Promise<[Buffer, Buffer] | undefined> {
    for await (const entries of this.scan(gte, lt, { limit: 1 })) return entries[0];
    return undefined;
  }

  approximateSize(start: Buffer, end: Buffer): Promise<number> {
    return new Promise((resolve, reject) => this.db.approximateSize(start, end, (error, size) => (error ? reject(this.failure('approximateSize', error)) : resolve(size ?? 0))));
  }

  private checkOpen(operation: string): void {
    if (this.closed) throw new RetriableError(`RocksDB ${operation} at ${this.location} after the store was closed: reopen it`);
  }

  private failure(operation: string, error: Error): RetriableError {
    return new RetriableError(`RocksDB ${operation} failed at ${this.location}: ${error.message}; check disk space and permissions`, {}, { cause: error });
  }
}

const empty = Buffer.alloc(0);

function ignore(): void {}
