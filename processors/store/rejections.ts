import type { RejectionCode } from '../errors';
import type { SourcePosition } from '../engine/model';
import { Reader, Writer } from './binary';
import { GraphKeys, prefixEnd } from './keys';
import type { RocksBatch, Rocks } from './rocks';

/** A transaction the processor refused, as the store remembers it for `transactions/{txId}`. */
export interface StoredRejection {
  readonly txId: string;
  readonly code: RejectionCode;
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source: SourcePosition;
  /** The graph's head when it was refused. */
  readonly head: number;
  /** Microseconds since the epoch: the record's time. */
  readonly time: number;
}

/**
 * The store's bounded record of refused txIds, per graph: what a client asks after a write that
 * did not land. Kept beside the graphs, in keys of its own, and written with the batch that
 * refused them; it is not part of the changelog (a rejection is not a slice), so a store rebuilt
 * from the changelog starts without it (the processor then reads the rejections topic back).
 *
 * | key                          | value                                   |
 * |------------------------------|-----------------------------------------|
 * | 0x03 (database-wide)         | the next sequence number                |
 * | 0x18, graph, 0x00, sequence  | the rejection (8-byte big-endian number) |
 * | 0x19, graph, 0x00, txId      | the sequence of its latest rejection    |
 *
 * A graph keeps its newest `kept` rejections: each commit that records some for a graph drops
 * that graph's oldest beyond the bound.
 */
export class RejectionLog {
  private readonly writer = new Writer();

  private constructor(
    private readonly rocks: Rocks,
    private next: number,
    private readonly kept: number,
  ) {}

  static async open(rocks: Rocks, kept: number): Promise<RejectionLog> {
    const value = await rocks.get(sequenceKey);
    return new RejectionLog(rocks, value === undefined ? 0 : new Reader(value).varint(), kept);
  }

  /** Puts a rejection in `batch`; `staged` collects, per graph, what the batch records. */
  stage(batch: RocksBatch, staged: Map<string, StagedRejections>, graph: string, rejection: StoredRejection): void {
    const sequence = this.next++;
    const keys = new GraphKeys(graph);
    batch.put(recordKey(keys, sequence), this.encode(rejection));
    const w = this.writer.reset();
    w.varint(sequence);
    batch.put(txKey(keys, rejection.txId), w.copy());
    w.reset().varint(this.next);
    batch.put(sequenceKey, w.copy());
    let mine = staged.get(graph);
    if (mine === undefined) staged.set(graph, (mine = { txIds: new Set(), count: 0 }));
    mine.txIds.add(rejection.txId);
    mine.count += 1;
  }

  /**
   * Adds to `batch` the deletions that keep each graph of `staged` within the bound, counting what
   * `staged` adds. Runs in the write path, after every earlier batch was written, so what it reads
   * is all that is on disk; it reads only graphs that recorded a rejection in this batch.
   */
  async prune(batch: RocksBatch, staged: ReadonlyMap<string, StagedRejections>): Promise<void> {
    for (const [graph, { txIds, count }] of staged) {
      const keys = new GraphKeys(graph);
      const prefix = keys.tagged(tags.record);
      let onDisk = 0;
      for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { values: false })) onDisk += entries.length;
      const excess = onDisk + count - this.kept;
      if (excess <= 0) continue;
      for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { limit: excess })) {
        for (const [key, value] of entries) {
          batch.del(key);
          const { txId } = this.decode(value);
          if (txIds.has(txId)) continue; // this batch records it again: keep the new index entry
          const index = await this.rocks.get(txKey(keys, txId));
          if (index !== undefined && new Reader(index).varint() === key.readUIntBE(key.length - 6, 6)) batch.del(txKey(keys, txId));
        }
      }
    }
  }

  /** The latest recorded rejection of a txId, if it is among the kept ones. */
  async rejectionOf(graph: string, txId: string): Promise<StoredRejection | undefined> {
    const keys = new GraphKeys(graph);
    const index = await this.rocks.get(txKey(keys, txId));
    if (index === undefined) return undefined;
    const value = await this.rocks.get(recordKey(keys, new Reader(index).varint()));
    return value === undefined ? undefined : this.decode(value);
  }

  /** The kept rejections of a graph, newest first; at most `limit`. */
  async *rejections(graph: string, limit?: number): AsyncGenerator<StoredRejection> {
    const prefix = new GraphKeys(graph).tagged(tags.record);
    for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { reverse: true, ...(limit === undefined ? {} : { limit }) })) {
      for (const [, value] of entries) yield this.decode(value);
    }
  }

  private encode(rejection: StoredRejection): Buffer {
    const w = this.writer.reset();
    w.string(rejection.txId);
    w.string(rejection.code);
    w.string(rejection.message);
    w.varint(rejection.instructionIndex === undefined ? 0 : rejection.instructionIndex + 1);
    w.string(rejection.source.topic);
    w.signed(rejection.source.partition);
    w.signed(rejection.source.offset);
    w.varint(rejection.head);
    w.signed(rejection.time);
    return w.copy();
  }

  private decode(buf: Buffer): StoredRejection {
    const r = new Reader(buf);
    const txId = r.string();
    const code = r.string() as RejectionCode;
    const message = r.string();
    const index = r.varint();
    const source = { topic: r.string(), partition: r.signed(), offset: r.signed() };
    const head = r.varint();
    const time = r.signed();
    return index === 0 ? { txId, code, message, source, head, time } : { txId, code, message, instructionIndex: index - 1, source, head, time };
  }
}

/** What one batch records for one graph. */
export interface StagedRejections {
  readonly txIds: Set<string>;
  count: number;
}

const tags = { sequence: 0x03, record: 0x18, tx: 0x19 } as const;

const sequenceKey = Buffer.from([tags.sequence]);

function recordKey(keys: GraphKeys, sequence: number): Buffer {
  const prefix = keys.tagged(tags.record);
  const key = Buffer.alloc(prefix.length + 8);
  prefix.copy(key);
  key.writeUIntBE(sequence, prefix.length + 2, 6);
  return key;
}

function txKey(keys: GraphKeys, txId: string): Buffer {
  return Buffer.concat([keys.tagged(tags.tx), Buffer.from(txId, 'utf8')]);
}
