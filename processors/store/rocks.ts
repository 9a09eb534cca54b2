import { mkdir, rm } from 'node:fs/promises';
import { RocksLevel, type Iterator } from '@nxtedition/rocksdb';
import { RetriableError, storeFailure, type GraphfoldError } from '../errors';
import { RocksWriter } from './rocks-writer';

/** A WriteBatch being filled; `write` applies all its operations atomically, once. */
export interface RocksBatch {
  /** Copies key and value (its first `valueLength` bytes) into the batch: both may be reused once it returns. */
  put(key: Buffer, value: Buffer, valueLength?: number): void;
  /** Appends `value` to the key's value (or makes it the value of an absent key); copies both. */
  append(key: Buffer, value: Buffer, valueLength?: number): void;
  /** Deletes a key (after the operations before it in the batch; one after it wins); copies it. */
  del(key: Buffer): void;
  /** Operations so far. */
  readonly size: number;
  write(): Promise<void>;
}

export interface RocksOptions {
  /** Bytes of RocksDB block cache. */
  readonly cacheBytes: number;
  /** Bytes of memtable: a flush starts when half of it fills (and at most three times it is held). */
  readonly writeBufferBytes: number;
}

/** Key-value pairs read by a scan, in key order. */
export type Entries = [Buffer, Buffer][];

/** What a checkpoint copied. */
export interface CheckpointStats {
  readonly entries: number;
  readonly bytes: number;
  /**
   * The longest the copy held the JavaScript thread at once (one native step's pairs put into the
   * copy's batch), in milliseconds: what the copy can delay the work of other stores by.
   */
  readonly longestStepMs: number;
}

/**
 * RocksDB's own string-append merge operator with no delimiter: a merge operand is appended to
 * the value byte for byte, so a key's value is the same whether its operands were written in
 * one batch or in many (the store's layout relies on it).
 */
const appendOperator = 'id=stringappend;delimiter=';

/** Pairs per native iterator step. */
const scanStep = 1000;

/** Bytes per WriteBatch when a checkpoint copies a store. */
const checkpointBatchBytes = 4 << 20;
/** Pairs a snapshot's copy puts into its batch between two turns of the event loop (about a millisecond's work). */
const checkpointYieldEntries = 2_048;

/**
 * A promise-shaped RocksDB database, through npm `@nxtedition/rocksdb` (RocksDB 9.7, N-API,
 * prebuilt for Linux x64; chosen over `rocksdb` 5.2.1, which aborts at open on Node 22 and 24,
 * and over `rocksdb-native`, which has no merge operator, for its merge operators, its
 * configurable block cache and its faster multi-gets and scans, measured). The only module that
 * talks to a RocksDB binding. Reads run in the binding's thread pool; WriteBatches are written on
 * the process's writer thread (rocks-writer.ts). Failures are classified by `storeFailure`
 * (errors.ts): a lock, corruption, a full or read-only disk, each naming the directory and the OS
 * error.
 *
 * Every iterator reads one consistent view of the database (RocksDB pins a snapshot for each), so
 * a scan sees the store as it was when the scan began, whatever is written meanwhile;
 * `checkpoint` uses that to copy a live store.
 */
export class Rocks {
  private closing: Promise<void> | undefined;
  /** Batches being written; whether any was. */
  private writes = 0;
  private wrote = false;
  /** Bytes a new batch starts with: a little more than the last one written needed. */
  private batchBytes = minBatchBytes;
  private readonly handle: bigint;

  private constructor(
    readonly location: string,
    private readonly db: RocksLevel,
  ) {
    this.handle = db.handle;
  }

  static async open(location: string, options: RocksOptions): Promise<Rocks> {
    await mkdir(location, { recursive: true });
    const db = new RocksLevel(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    try {
      // Level compaction: memtables of half `writeBufferBytes` (a quarter of the budget), levels 0 and
      // 1 uncompressed, zstd below (no dictionary: training one costs compactions CPU).
      await db.open({
        createIfMissing: true,
        compression: false,
        cacheSize: options.cacheBytes,
        compaction: 'level',
        memtableMemoryBudget: 2 * options.writeBufferBytes,
        mergeOperator: appendOperator,
        // The write-ahead log is written on the caller's thread: compressing it (the binding's
        // default) costs more than the bytes it saves.
        walCompression: false,
        infoLogLevel: 'error',
      });
    } catch (error) {
      throw storeFailure(location, 'open', error);
    }
    return new Rocks(location, db);
  }

  /** Deletes a database directory and everything in it. */
  static async destroy(location: string): Promise<void> {
    try {
      await rm(location, { recursive: true, force: true });
    } catch (error) {
      throw storeFailure(location, 'be deleted', error);
    }
  }

  /** Closes once the reads, scans and writes in flight are done (the caller waits for its writes first). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.writes > 0) throw new RetriableError(`RocksDB at ${this.location} closed while a batch was being written: wait for writes before closing`);
      if (this.wrote) await RocksWriter.get().forget(this.handle);
      try {
        await this.db.close();
      } catch (error) {
        throw this.failure('close', error);
      }
    })();
    return this.closing;
  }

  async get(key: Buffer): Promise<Buffer | undefined> {
    return (await this.getMany([key]))[0];
  }

  /** The values of `keys`, in order; undefined where a key is absent. */
  async getMany(keys: Buffer[]): Promise<(Buffer | undefined)[]> {
    if (keys.length === 0) return [];
    this.checkOpen('getMany');
    try {
      return await this.db.getMany(keys);
    } catch (error) {
      throw this.failure('getMany', error);
    }
  }

  /**
   * A new WriteBatch: operations collect as bytes and are written atomically by `write`, on the
   * process's writer thread (see rocks-writer.ts).
   */
  batch(): RocksBatch {
    this.checkOpen('batch');
    const operations = new Operations(this.batchBytes);
    return {
      put: (key, value, valueLength = value.length) => operations.add(put, key, value, valueLength),
      append: (key, value, valueLength = value.length) => operations.add(append, key, value, valueLength),
      del: (key) => operations.add(del, key, empty, 0),
      get size() {
        return operations.count;
      },
      write: async () => {
        this.checkOpen('write');
        this.writes += 1;
        this.wrote = true;
        this.batchBytes = Math.max(minBatchBytes, operations.length + (operations.length >> 2));
        try {
          await RocksWriter.get().write(this.handle, operations.buffer, operations.length);
        } catch (error) {
          throw this.failure('write', error);
        } finally {
          this.writes -= 1;
        }
      },
    };
  }

  /**
   * Key-value pairs with `gte <= key < lt`, in key order (descending with `reverse`), a native
   * step at a time; at most `limit` pairs in all. Without `values`, values are empty. One
   * consistent view throughout.
   */
  scan(gte: Buffer, lt: Buffer, options: { readonly limit?: number; readonly values?: boolean; readonly reverse?: boolean } = {}): AsyncGenerator<Entries> {
    this.checkOpen('scan');
    const values = options.values ?? true;
    const limit = options.limit ?? -1;
    return this.entries(this.db.iterator({ gte, lt, limit, values, reverse: options.reverse ?? false, fillCache: false }), limit, values);
  }

  /** The pairs of an iterator (created when the scan was asked for: its view is of that moment). */
  private async *entries(iterator: Iterator, limit: number, values: boolean): AsyncGenerator<Entries> {
    try {
      for (;;) {
        let entries: Entries;
        try {
          entries = await iterator.nextv(limit > 0 ? Math.min(limit, scanStep) : scanStep);
        } catch (error) {
          throw this.failure('scan', error);
        }
        if (entries.length === 0) return;
        if (!values) for (const entry of entries) entry[1] = empty;
        yield entries;
      }
    } finally {
      await iterator.close().catch(() => undefined);
    }
  }

  /** The first key-value pair with `gte <= key < lt`, if any. */
  async first(gte: Buffer, lt: Buffer): Promise<[Buffer, Buffer] | undefined> {
    for await (const entries of this.scan(gte, lt, { limit: 1 })) return entries[0];
    return undefined;
  }

  /** Approximate bytes of the database: its live table files and its memtables. */
  approximateSize(): number {
    this.checkOpen('approximateSize');
    return Number(this.db.getProperty('rocksdb.live-sst-files-size')) + Number(this.db.getProperty('rocksdb.cur-size-all-mem-tables'));
  }

  /**
   * Copies the database as it is when called into a new database at `dir` (which must not
   * exist), while writes go on: one iterator's consistent view, written in batches and closed. The copy opens
   * like any store; the source is untouched.
   */
  async checkpoint(dir: string, options: RocksOptions): Promise<CheckpointStats> {
    const source = this.scan(Buffer.from([0x00]), Buffer.from([0xff, 0xff, 0xff, 0xff]));
    const target = await Rocks.open(dir, options);
    let entries = 0;
    let bytes = 0;
    let longestStepMs = 0;
    try {
      let batch = target.batch();
      let batchBytes = 0;
      for await (const pairs of source) {
        let step = performance.now();
        for (const [key, value] of pairs) {
          batch.put(key, value);
          entries += 1;
          batchBytes += key.length + value.length;
          if (batchBytes >= checkpointBatchBytes) {
            longestStepMs = Math.max(longestStepMs, performance.now() - step);
            await batch.write();
            step = performance.now();
            bytes += batchBytes;
            batch = target.batch();
            batchBytes = 0;
          } else if (entries % checkpointYieldEntries === 0) {
            // Let the partitions' folds and the queries run between runs of puts.
            longestStepMs = Math.max(longestStepMs, performance.now() - step);
            await new Promise((resolve) => setImmediate(resolve));
            step = performance.now();
          }
        }
        longestStepMs = Math.max(longestStepMs, performance.now() - step);
      }
      await batch.write();
      bytes += batchBytes;
    } finally {
      await source.return(undefined);
      await target.close();
    }
    return { entries, bytes, longestStepMs };
  }

  private checkOpen(operation: string): void {
    if (this.closing !== undefined) throw new RetriableError(`RocksDB ${operation} at ${this.location} after the store was closed: reopen it`);
  }

  private failure(operation: string, error: unknown): GraphfoldError {
    return storeFailure(this.location, operation, error);
  }
}

const empty = Buffer.alloc(0);

const put = 1;
const append = 2;
const del = 3;
const minBatchBytes = 64 * 1024;

/** A batch's operations as the writer thread reads them: op byte, key length, key, value length, value (empty for a delete). */
class Operations {
  /** Owns its ArrayBuffer, which moves to the writer thread. */
  private bytes: Buffer;
  length = 0;
  count = 0;

  constructor(capacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(capacity);
  }

  get buffer(): ArrayBuffer {
    return this.bytes.buffer as ArrayBuffer;
  }

  add(op: number, key: Buffer, value: Buffer, valueLength: number): void {
    this.ensure(9 + key.length + valueLength);
    const { bytes } = this;
    let at = this.length;
    bytes[at] = op;
    bytes.writeUInt32LE(key.length, at + 1);
    at += 5 + key.copy(bytes, at + 5);
    bytes.writeUInt32LE(valueLength, at);
    at += 4 + value.copy(bytes, at + 4, 0, valueLength);
    this.length = at;
    this.count += 1;
  }

  private ensure(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(2 * this.bytes.length, this.length + n));
    this.bytes.copy(grown, 0, 0, this.length);
    this.bytes = grown;
  }
}
