import { bucketKey } from './keys';
import type { Rocks, RocksBatch } from './rocks';

/** What one commit appends to one list, in slice order. */
export interface ListAppend {
  /** Names the list among all lists of the store. */
  readonly id: string;
  /** The list's key prefix: a bucket's key is the prefix and the bucket number. */
  readonly prefix: Buffer;
  readonly slices: readonly number[];
  /** The bytes appended at each slice. */
  readonly items: readonly Buffer[];
}

interface OpenBucket {
  readonly bucket: number;
  data: Buffer;
  length: number;
}

/**
 * Lists that only grow (the slice log, the type index), one RocksDB entry per bucket of slices:
 * the entry of bucket b holds what slices `b * size` to `(b + 1) * size - 1` appended. Each list's
 * last bucket is kept in memory and written whole by every commit that appends to it, so a list
 * costs an entry or two per commit instead of one per item, and what is on disk does not depend
 * on how slices were batched.
 *
 * A list's last bucket is read from disk only when it is not in memory (the first append of this
 * process, or after `maxOpen` other lists pushed it out): slices only grow, so a later bucket of a
 * list whose last bucket is in memory is new.
 */
export class BucketedLists {
  private readonly open = new Map<string, OpenBucket>();

  constructor(
    private readonly rocks: Rocks,
    readonly slicesPerBucket: number,
    private readonly maxOpen: number,
  ) {}

  bucketOf(slice: number): number {
    return Math.floor(slice / this.slicesPerBucket);
  }

  /** Puts the buckets that `appends` extend into `batch`. Called one commit at a time, in order. */
  async write(appends: readonly ListAppend[], batch: RocksBatch): Promise<void> {
    const missing = appends.filter((append) => !this.open.has(append.id));
    const stored = await this.rocks.getMany(missing.map((append) => bucketKey(append.prefix, this.bucketOf(append.slices[0] as number))));
    missing.forEach((append, i) => {
      const value = stored[i];
      const data = Buffer.allocUnsafe(Math.max(256, 2 * (value?.length ?? 0)));
      value?.copy(data);
      this.open.set(append.id, { bucket: this.bucketOf(append.slices[0] as number), data, length: value?.length ?? 0 });
    });
    for (const append of appends) {
      let open = this.open.get(append.id) as OpenBucket;
      let dirty = false;
      this.open.delete(append.id);
      append.slices.forEach((slice, i) => {
        const bucket = this.bucketOf(slice);
        if (bucket < open.bucket) throw new RangeError(`slice ${slice} appended to list ${JSON.stringify(append.id)} after bucket ${open.bucket}`);
        if (bucket > open.bucket) {
          if (dirty) batch.put(bucketKey(append.prefix, open.bucket), open.data.subarray(0, open.length));
          open = { bucket, data: Buffer.allocUnsafe(open.data.length), length: 0 };
        }
        dirty = true;
        const item = append.items[i] as Buffer;
        if (open.length + item.length > open.data.length) {
          const grown = Buffer.allocUnsafe(2 * (open.length + item.length));
          open.data.copy(grown, 0, 0, open.length);
          open.data = grown;
        }
        item.copy(open.data, open.length);
        open.length += item.length;
      });
      batch.put(bucketKey(append.prefix, open.bucket), open.data.subarray(0, open.length));
      this.open.set(append.id, open);
    }
    for (const id of this.open.keys()) {
      if (this.open.size <= this.maxOpen) break;
      this.open.delete(id);
    }
  }
}
