/** The parts of npm `@nxtedition/rocksdb` (an abstract-level store) that processors/store/rocks.ts uses. */
declare module '@nxtedition/rocksdb' {
  export interface OpenOptions {
    readonly createIfMissing?: boolean;
    /** zstd for every level when true. */
    readonly compression?: boolean;
    /** Bytes of block cache (a HyperClockCache). */
    readonly cacheSize?: number;
    /** With `compaction`: the memtables' budget (each a quarter of it, at most six). */
    readonly memtableMemoryBudget?: number;
    readonly compaction?: 'level' | 'universal';
    /** A RocksDB merge operator, as `MergeOperator::CreateFromString` reads it. */
    readonly mergeOperator?: string;
    /** zstd for the write-ahead log (the binding's default: true). */
    readonly walCompression?: boolean;
    readonly infoLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'header';
  }

  export interface IteratorOptions {
    readonly gte?: Buffer;
    readonly lt?: Buffer;
    /** Descending key order. */
    readonly reverse?: boolean;
    readonly limit?: number;
    readonly keys?: boolean;
    readonly values?: boolean;
    readonly fillCache?: boolean;
  }

  export interface Iterator {
    nextv(size: number): Promise<[Buffer, Buffer][]>;
    close(): Promise<void>;
  }

  export class RocksLevel {
    constructor(location: string, options: { readonly keyEncoding: 'buffer'; readonly valueEncoding: 'buffer' });
    readonly status: 'opening' | 'open' | 'closing' | 'closed';
    /** The native database, for another thread to use it: `new RocksLevel(handle, ...)` there. */
    readonly handle: bigint;
    open(options: OpenOptions): Promise<void>;
    close(): Promise<void>;
    getMany(keys: Buffer[], options?: { readonly fillCache?: boolean }): Promise<(Buffer | undefined)[]>;
    iterator(options: IteratorOptions): Iterator;
    getProperty(property: string): string;
  }
}
