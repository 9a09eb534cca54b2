import { Writer } from './format/binary';
import { GraphKeys, numberOfRejectionKey, prefixEnd, tags } from './format/keys';
import * as records from './format/records';
import type { StoredRejection } from './format/records';
import type { Rocks, RocksBatch } from './rocks';
import type { Layer } from './staging';

/** What the log knows of a graph's rejections on disk: how many, and the number the next one gets. */
interface OnDisk {
  count: number;
  next: number;
}

/**
 * The store's bounded record of refused txIds, per graph: what a client asks after a write that
 * did not land. Kept beside the graphs (tags 0x16 and 0x18, see format/keys.ts) and written in
 * the WriteBatch of the batch that refused them; it is not part of the changelog (a rejection is
 * not a slice), so a store rebuilt from the changelog starts without it (the partition task then
 * reads the rejections topic back).
 *
 * A graph's rejections are numbered in the order they were refused; a txId's index entry names
 * its latest. Each write that records some for a graph drops that graph's oldest beyond `kept`.
 * Numbers are given when the batch is written, after every earlier batch was: the log is the only
 * writer of its keys, so what it counted on disk (once per graph, then kept up to date) stays
 * true; a failed write makes the store refuse all further work, so it never goes stale.
 */
export class RejectionLog {
  private readonly w = new Writer();
  private readonly onDisk = new Map<string, OnDisk>();

  constructor(
    private readonly rocks: Rocks,
    private readonly kept: number,
  ) {}

  /**
   * Stages a rejection in `layer`, to be written with it. A layer holds at most about twice the
   * bound per graph (a restore may stage a whole topic's rejections in one): only the newest
   * `kept` are written anyway.
   */
  stage(layer: Layer, graph: string, rejection: StoredRejection): void {
    const staged = layer.rejections.get(graph);
    if (staged === undefined) {
      layer.rejections.set(graph, [rejection]);
      return;
    }
    staged.push(rejection);
    if (staged.length >= 2 * this.kept) staged.splice(0, staged.length - this.kept);
  }

  /**
   * Adds a layer's rejections to its WriteBatch: for each graph, the deletions of its oldest past
   * the bound, then the new records and index entries (after the deletions, so a txId refused
   * again keeps its new index entry). Called in the write path, just before the batch is written.
   */
  async write(batch: RocksBatch, staged: ReadonlyMap<string, readonly StoredRejection[]>): Promise<void> {
    for (const [graph, all] of staged) {
      const keys = new GraphKeys(graph);
      const rejections = all.length > this.kept ? all.slice(all.length - this.kept) : all;
      const disk = await this.counted(keys);
      const excess = disk.count + rejections.length - this.kept;
      if (excess > 0) await this.dropOldest(batch, keys, excess);
      const { w } = this;
      for (const rejection of rejections) {
        records.encodeRejection(w.reset(), rejection);
        batch.put(keys.rejection(disk.next), w.buffer, w.length);
        records.encodeNumber(w.reset(), disk.next);
        batch.put(keys.rejectedTx(rejection.txId), w.buffer, w.length);
        disk.next += 1;
      }
      disk.count = Math.min(this.kept, disk.count + rejections.length);
    }
  }

  /** The latest recorded rejection of a txId, if it is among the kept ones (written state). */
  async rejectionOf(graph: string, txId: string): Promise<StoredRejection | undefined> {
    const keys = new GraphKeys(graph);
    const index = await this.rocks.get(keys.rejectedTx(txId));
    if (index === undefined) return undefined;
    const value = await this.rocks.get(keys.rejection(records.decodeNumber(index)));
    return value === undefined ? undefined : records.decodeRejection(value);
  }

  /** The kept rejections of a graph, newest first; at most `limit`. */
  async *rejections(graph: string, limit?: number): AsyncGenerator<StoredRejection> {
    const prefix = new GraphKeys(graph).tagged(tags.rejection);
    for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { reverse: true, ...(limit === undefined ? {} : { limit }) })) {
      for (const [, value] of entries) yield records.decodeRejection(value);
    }
  }

  /** How many rejections of a graph are on disk and the next number (read once, then kept). */
  private async counted(keys: GraphKeys): Promise<OnDisk> {
    let disk = this.onDisk.get(keys.graph);
    if (disk !== undefined) return disk;
    const prefix = keys.tagged(tags.rejection);
    let count = 0;
    let last: Buffer | undefined;
    for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { values: false })) {
      count += entries.length;
      last = entries[entries.length - 1]?.[0] ?? last;
    }
    disk = { count, next: last === undefined ? 0 : numberOfRejectionKey(last) + 1 };
    this.onDisk.set(keys.graph, disk);
    return disk;
  }

  /** Deletes a graph's `n` oldest rejections, and the index entries that still name them. */
  private async dropOldest(batch: RocksBatch, keys: GraphKeys, n: number): Promise<void> {
    const prefix = keys.tagged(tags.rejection);
    for await (const entries of this.rocks.scan(prefix, prefixEnd(prefix), { limit: n })) {
      const txIds = entries.map(([, value]) => records.decodeRejection(value).txId);
      const indexes = await this.rocks.getMany(txIds.map((txId) => keys.rejectedTx(txId)));
      for (const [i, [key]] of entries.entries()) {
        batch.del(key);
        const index = indexes[i];
        if (index !== undefined && records.decodeNumber(index) === numberOfRejectionKey(key)) batch.del(keys.rejectedTx(txIds[i] as string));
      }
    }
  }
}
