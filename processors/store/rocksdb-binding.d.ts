/** The parts of npm `rocksdb` (an abstract-leveldown store) and of its native binding that graphfold uses. */
declare module 'rocksdb' {
  namespace rocksdb {
    export type Callback<T = void> = (error: Error | undefined | null, result?: T) => void;

    export interface OpenOptions {
      createIfMissing?: boolean;
      errorIfExists?: boolean;
      compression?: boolean;
      cacheSize?: number;
      writeBufferSize?: number;
      blockSize?: number;
      maxOpenFiles?: number;
      infoLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header';
    }

    export interface IteratorOptions {
      gt?: Buffer;
      gte?: Buffer;
      lt?: Buffer;
      lte?: Buffer;
      reverse?: boolean;
      limit?: number;
      keys?: boolean;
      values?: boolean;
      keyAsBuffer?: boolean;
      valueAsBuffer?: boolean;
      fillCache?: boolean;
    }

    export interface Iterator {
      next(callback: (error: Error | undefined | null, key?: Buffer, value?: Buffer) => void): void;
      end(callback: Callback): void;
    }

    export interface ChainedBatch {
      put(key: Buffer, value: Buffer): ChainedBatch;
      del(key: Buffer): ChainedBatch;
      clear(): ChainedBatch;
      write(callback: Callback): void;
      readonly length: number;
    }

    export interface RocksDB {
      /** The native database handle, for the binding's functions. */
      readonly context: object;
      open(options: OpenOptions, callback: Callback): void;
      close(callback: Callback): void;
      get(key: Buffer, options: { asBuffer?: boolean; fillCache?: boolean }, callback: Callback<Buffer>): void;
      getMany(keys: Buffer[], options: { asBuffer?: boolean; fillCache?: boolean }, callback: Callback<(Buffer | undefined)[]>): void;
      batch(): ChainedBatch;
      iterator(options: IteratorOptions): Iterator;
      approximateSize(start: Buffer, end: Buffer, callback: Callback<number>): void;
      compactRange(start: Buffer, end: Buffer, callback: Callback): void;
    }

    export interface RocksDBConstructor {
      (location: string): RocksDB;
      destroy(location: string, callback: Callback): void;
    }
  }

  const rocksdb: rocksdb.RocksDBConstructor;
  export = rocksdb;
}

/** The native functions behind npm `rocksdb`'s JavaScript classes (`rocksdb/binding.js`). */
declare module 'rocksdb/binding' {
  type Done = (error: Error | undefined | null) => void;

  interface RangeOptions {
    gte?: Buffer;
    lt?: Buffer;
    reverse?: boolean;
    limit?: number;
    keys?: boolean;
    values?: boolean;
    keyAsBuffer?: boolean;
    valueAsBuffer?: boolean;
    fillCache?: boolean;
    highWaterMark?: number;
  }

  interface Binding {
    db_get_many(db: object, keys: Buffer[], options: { asBuffer: boolean; fillCache: boolean }, callback: (error: Error | undefined | null, values?: (Buffer | undefined)[]) => void): void;
    batch_init(db: object): object;
    batch_put(batch: object, key: Buffer, value: Buffer): void;
    batch_del(batch: object, key: Buffer): void;
    batch_write(batch: object, options: { sync: boolean }, callback: Done): void;
    iterator_init(db: object, options: RangeOptions): object;
    /** Entries in descending order (pop them): value, key, value, key, ...; `finished` when no more follow. */
    iterator_next(iterator: object, callback: (error: Error | undefined | null, entries: (Buffer | string)[], finished: boolean) => void): void;
    iterator_end(iterator: object, callback: Done): void;
  }

  const binding: Binding;
  export = binding;
}
