import { Worker } from 'node:worker_threads';

/**
 * The thread that writes WriteBatches for every store of the process. The binding writes a batch
 * synchronously, on the calling thread, which cost the JavaScript thread a fifth of a fold (memtable
 * inserts and the write-ahead log); here the JavaScript thread only copies each operation's bytes
 * into one buffer, and this thread builds the native batch from it and writes it, while the next
 * batch folds. RocksDB databases are safe to use from several threads; the binding lets a second
 * thread use a database opened by the first through its handle. One thread for all stores: a
 * process has one JavaScript thread to keep busy and RocksDB's own threads for the rest.
 *
 * A batch's buffer holds, per operation: a byte (1 put, 2 append, 3 delete), the key's length (4
 * bytes, little-endian), the key, the value's length, the value (empty for a delete).
 */

/** The worker's source: plain JavaScript, because a worker thread runs JavaScript, not the TypeScript the tests load. */
const source = `
const { parentPort, workerData } = require('node:worker_threads');
const { RocksLevel } = require(workerData.binding);
const dbs = new Map();
async function database(handle) {
  let db = dbs.get(handle);
  if (db === undefined) {
    db = new RocksLevel(handle, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
    dbs.set(handle, db);
    await db.open({});
  }
  return db;
}
parentPort.on('message', async (message) => {
  if (message.forget !== undefined) {
    dbs.delete(message.forget);
    parentPort.postMessage({ id: message.id });
    return;
  }
  try {
    const db = await database(message.handle);
    const buf = Buffer.from(message.buffer, 0, message.length);
    const batch = db.batch();
    let pos = 0;
    while (pos < buf.length) {
      const op = buf[pos];
      const keyLength = buf.readUInt32LE(pos + 1);
      const key = buf.subarray(pos + 5, pos + 5 + keyLength);
      pos += 5 + keyLength;
      const valueLength = buf.readUInt32LE(pos);
      const value = buf.subarray(pos + 4, pos + 4 + valueLength);
      pos += 4 + valueLength;
      if (op === 1) batch._put(key, value, {});
      else if (op === 2) batch._merge(key, value, {});
      else batch._del(key, {});
    }
    batch._writeSync({});
    batch._closeSync();
    parentPort.postMessage({ id: message.id });
  } catch (error) {
    parentPort.postMessage({ id: message.id, error: String(error && error.message || error) });
  }
});
`;

interface Pending {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The process's writer thread, started on first use; it does not keep the process alive when idle. */
export class RocksWriter {
  private static shared: RocksWriter | undefined;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private broken: Error | undefined;

  private constructor() {
    this.worker = new Worker(source, { eval: true, workerData: { binding: require.resolve('@nxtedition/rocksdb') } });
    this.worker.unref();
    this.worker.on('message', (message: { id: number; error?: string }) => this.settle(message.id, message.error === undefined ? undefined : new Error(message.error)));
    this.worker.on('error', (error) => this.fail(error));
    this.worker.on('exit', (code) => this.fail(new Error(`the RocksDB writer thread exited with code ${code}`)));
  }

  static get(): RocksWriter {
    if (RocksWriter.shared === undefined || RocksWriter.shared.broken !== undefined) RocksWriter.shared = new RocksWriter();
    return RocksWriter.shared;
  }

  /**
   * Writes one batch into the database of `handle`: the first `length` bytes of `buffer` (see the
   * module comment for their layout). The buffer moves to the writer thread: it is unusable after.
   */
  write(handle: bigint, buffer: ArrayBuffer, length: number): Promise<void> {
    return this.send({ handle, buffer, length }, [buffer]);
  }

  /** Drops the thread's use of a database (before it closes). */
  forget(handle: bigint): Promise<void> {
    return this.send({ forget: handle }, []);
  }

  private send(message: object, transfer: ArrayBuffer[]): Promise<void> {
    if (this.broken !== undefined) return Promise.reject(this.broken);
    const id = this.next++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    if (this.pending.size === 1) this.worker.ref();
    this.worker.postMessage({ id, ...message }, transfer);
    return done;
  }

  private settle(id: number, error: Error | undefined): void {
    const waiting = this.pending.get(id);
    if (waiting === undefined) return;
    this.pending.delete(id);
    if (this.pending.size === 0) this.worker.unref();
    if (error === undefined) waiting.resolve();
    else waiting.reject(error);
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
