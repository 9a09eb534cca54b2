import type { Uid } from '../../engine/model';
import { writeUid } from './binary';

/**
 * RocksDB key layout, version 2. Every graph-scoped key is `tag, graph id (UTF-8), 0x00, rest`, so
 * one partition's database holds many graphs and each graph's keys sort together. Numbers are 8
 * bytes big-endian so they sort numerically.
 *
 * A write is proportional to the change, never to the atom: an atom's record is small (its
 * header, its termination and its latest value, no relations) and is put again only when the
 * atom is assigned or terminated. Its relations, both directions, are a log of relation events
 * (added, ended) that each commit extends by appending to the atom's adjacency entry (RocksDB's
 * merge operator concatenates, see rocks.ts); a hub's new relation costs one small append, and a
 * traversal reads one adjacency entry per atom, by multi-get. A value that is replaced moves to
 * the history, keyed by the slice that had assigned it, inverted so that "as of slice s" is one
 * seek. The type index and the slice log only grow: a bucket of slices per entry, extended by
 * appends too (see buckets.ts). Beside the graph, and not part of it (a rejection makes no
 * slice), the store keeps the graph's newest rejected transactions, numbered in the order they
 * were refused, with an index from txId to the number of its latest refusal (rejections.ts).
 *
 * | tag  | key rest            | value                                              | written by |
 * |------|---------------------|----------------------------------------------------|------------|
 * | 0x01 | (none: database-wide) | checkpoint                                       | put        |
 * | 0x02 | (none: database-wide) | layout                                           | put        |
 * | 0x10 |                     | head slice and its time                            | put        |
 * | 0x11 | uid                 | atom record                                        | put        |
 * | 0x12 | uid, inverted slice | a replaced value                                   | put        |
 * | 0x13 | uid                 | adjacency: relation events of both directions      | append     |
 * | 0x14 | bucket              | entities and relations created in the bucket, with their types | append |
 * | 0x15 | bucket              | the bucket's slices: info and changes              | append     |
 * | 0x16 | rejection number    | a rejected transaction                             | put, delete |
 * | 0x17 | txId                | slice or no-op                                     | put        |
 * | 0x18 | txId                | the number of its latest rejection                 | put, delete |
 *
 * Tags 0x03-0x0f and 0x19-0xff are unused.
 */
export const tags = { checkpoint: 0x01, layout: 0x02, head: 0x10, atom: 0x11, value: 0x12, adjacency: 0x13, type: 0x14, slice: 0x15, rejection: 0x16, tx: 0x17, rejectedTx: 0x18 } as const;

const maxSlice = Number.MAX_SAFE_INTEGER;

function writeNumber(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  buf.writeUInt32BE(n % 0x1_0000_0000, at + 4);
}

function readNumber(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 0x1_0000_0000 + buf.readUInt32BE(at + 4);
}

/** The first key after every key that starts with `prefix`. */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i -= 1) {
    if (end[i] !== 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0xff, 0xff, 0xff, 0xff]);
}

export const checkpointKey = Buffer.from([tags.checkpoint]);
export const layoutKey = Buffer.from([tags.layout]);

/** Every key with this tag, of every graph. */
export function tagRange(tag: number): { readonly gte: Buffer; readonly lt: Buffer } {
  return { gte: Buffer.from([tag]), lt: Buffer.from([tag + 1]) };
}

/** The graph id of a head key. */
export function graphOfHeadKey(key: Buffer): string {
  return key.toString('utf8', 1, key.length - 1);
}

export function uidOfAtomKey(key: Buffer): Uid {
  return key.toString('hex', key.length - 16);
}

/** The number of a rejection key. */
export function numberOfRejectionKey(key: Buffer): number {
  return readNumber(key, key.length - 8);
}

/** The keys of one graph; the graph id is encoded once. */
export class GraphKeys {
  /** `tag, graph id, 0x00` with the tag byte left to fill. */
  private readonly prefix: Buffer;
  /** Reused by the `...Scratch` keys: one per tag, each valid until its next use. */
  private readonly scratch = new Map<number, Buffer>();

  constructor(readonly graph: string) {
    const id = Buffer.from(graph, 'utf8');
    this.prefix = Buffer.alloc(id.length + 2);
    id.copy(this.prefix, 1);
  }

  /** Like `atom`, in a buffer reused by the next call: for a write that copies the key at once. */
  atomScratch(uid: Uid): Buffer {
    const buf = this.scratchOf(tags.atom, 16);
    writeUid(buf, this.prefix.length, uid);
    return buf;
  }

  /** Like `adjacency`, in a buffer reused by the next call. */
  adjacencyScratch(uid: Uid): Buffer {
    const buf = this.scratchOf(tags.adjacency, 16);
    writeUid(buf, this.prefix.length, uid);
    return buf;
  }

  /** Like `value`, in a buffer reused by the next call. */
  valueScratch(uid: Uid, slice: number): Buffer {
    const buf = this.scratchOf(tags.value, 24);
    writeUid(buf, this.prefix.length, uid);
    writeNumber(buf, this.prefix.length + 16, maxSlice - slice);
    return buf;
  }

  private scratchOf(tag: number, restLength: number): Buffer {
    let buf = this.scratch.get(tag);
    if (buf === undefined) this.scratch.set(tag, (buf = this.key(tag, restLength)));
    return buf;
  }

  /** The bytes every key of this graph with this tag starts with. */
  tagged(tag: number): Buffer {
    return this.key(tag, 0);
  }

  head(): Buffer {
    return this.key(tags.head, 0);
  }

  atom(uid: Uid): Buffer {
    return this.uidKey(tags.atom, uid);
  }

  adjacency(uid: Uid): Buffer {
    return this.uidKey(tags.adjacency, uid);
  }

  value(uid: Uid, slice: number): Buffer {
    const buf = this.key(tags.value, 24);
    writeUid(buf, this.prefix.length, uid);
    writeNumber(buf, this.prefix.length + 16, maxSlice - slice);
    return buf;
  }

  /** The value history of one attribute, newest first. */
  valuePrefix(uid: Uid): Buffer {
    return this.uidKey(tags.value, uid);
  }

  tx(txId: string): Buffer {
    return this.textKey(tags.tx, txId);
  }

  /** The graph's rejection of this number (they are numbered in the order they were refused). */
  rejection(n: number): Buffer {
    const buf = this.key(tags.rejection, 8);
    writeNumber(buf, this.prefix.length, n);
    return buf;
  }

  /** The index entry of a rejected txId: the number of its latest rejection. */
  rejectedTx(txId: string): Buffer {
    return this.textKey(tags.rejectedTx, txId);
  }

  private textKey(tag: number, text: string): Buffer {
    const buf = this.key(tag, Buffer.byteLength(text));
    buf.write(text, this.prefix.length, 'utf8');
    return buf;
  }

  private uidKey(tag: number, uid: Uid): Buffer {
    const buf = this.key(tag, 16);
    writeUid(buf, this.prefix.length, uid);
    return buf;
  }

  private key(tag: number, restLength: number): Buffer {
    const buf = Buffer.allocUnsafe(this.prefix.length + restLength);
    this.prefix.copy(buf);
    buf[0] = tag;
    return buf;
  }
}

/** A bucket's key: a list's prefix (a graph's type index or slice log) and the bucket number. */
export function bucketKey(prefix: Buffer, bucket: number): Buffer {
  const buf = Buffer.allocUnsafe(prefix.length + 8);
  prefix.copy(buf);
  writeNumber(buf, prefix.length, bucket);
  return buf;
}
