/** The part of npm `rocksdb` (an abstract-leveldown store) that graphfold uses. */
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
