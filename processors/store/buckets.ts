import { Writer } from './format/binary';
import { bucketKey } from './format/keys';
import type { RocksBatch } from './rocks';

/**
 * Lists that only grow (the slice log, the type index), one RocksDB entry per bucket of slices:
 * the entry of bucket b holds what slices `b * size` to `(b + 1) * size - 1` appended, back to
 * back. A commit appends its items to their buckets' entries (one append per bucket it reaches),
 * so nothing is read or rewritten, and what is on disk does not depend on how slices were
 * batched.
 *
 * Use: `begin` a list, then for each item in slice order `item(slice)` and write the item's bytes
 * into `writer`, then `end`.
 */
export class BucketAppender {
  readonly writer = new Writer();
  private batch: RocksBatch | undefined;
  private prefix: Buffer = Buffer.alloc(0);
  private bucket = -1;

  constructor(readonly slicesPerBucket: number) {}

  bucketOf(slice: number): number {
    return Math.floor(slice / this.slicesPerBucket);
  }

  begin(batch: RocksBatch, prefix: Buffer): void {
    this.batch = batch;
    this.prefix = prefix;
    this.bucket = -1;
    this.writer.reset();
  }

  /** Starts an item appended at `slice` (slices never decrease within a list). */
  item(slice: number): void {
    const bucket = this.bucketOf(slice);
    if (bucket === this.bucket) return;
    if (bucket < this.bucket) throw new RangeError(`slice ${slice} appended after bucket ${this.bucket}`);
    this.flush();
    this.bucket = bucket;
  }

  end(): void {
    this.flush();
    this.batch = undefined;
  }

  private flush(): void {
    if (this.bucket >= 0 && this.writer.length > 0) (this.batch as RocksBatch).append(bucketKey(this.prefix, this.bucket), this.writer.buffer, this.writer.length);
    this.writer.reset();
  }
}
