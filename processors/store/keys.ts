import type { Uid } from '../engine/model';
import type { Direction } from '../engine/state';
import { writeUid } from './binary';

/**
 * RocksDB key layout. Every graph-scoped key is `tag, graph id (UTF-8), 0x00, rest`, so one
 * partition's database holds many graphs and each graph's keys sort together. Numbers are 8 bytes
 * big-endian so they sort numerically.
 *
 * Each RocksDB entry costs microseconds to write while bytes are cheap, so the layout keeps
 * entries few. An atom's record holds its latest value and its relations in both directions,
 * ended ones included, until a direction holds more than the layout's `inlineEdges`: then that
 * direction's relations move to edge entries of their own (a hub's record stays small). A value
 * that is replaced moves to the history, keyed by the slice that had assigned it, inverted so
 * that "as of slice s" is one seek. The type index and the slice log only grow: they are kept a
 * bucket of slices per entry (see buckets.ts).
 *
 * | tag  | key rest                                           | value                        |
 * |------|----------------------------------------------------|------------------------------|
 * | 0x01 | (none: database-wide)                              | checkpoint                   |
 * | 0x02 | (none: database-wide)                              | layout                       |
 * | 0x10 |                                                    | head slice and its time      |
 * | 0x11 | uid                                                | atom record                  |
 * | 0x12 | uid, inverted slice                                | a replaced value             |
 * | 0x13 | uid, direction, relation type, 0x00, relation uid  | edge (spilled directions)    |
 * | 0x14 | bucket                                             | entities and relations created in the bucket, with their types |
 * | 0x15 | bucket                                             | the bucket's slices: info and changes |
 * | 0x17 | txId                                               | slice or no-op               |
 */
export const tags = { checkpoint: 0x01, layout: 0x02, head: 0x10, atom: 0x11, value: 0x12, edge: 0x13, type: 0x14, slice: 0x15, tx: 0x17 } as const;

const maxSlice = Number.MAX_SAFE_INTEGER;
const directionByte: Record<Direction, number> = { out: 0x6f, in: 0x69 };

function writeNumber(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  buf.writeUInt32BE(n % 0x1_0000_0000, at + 4);
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

/** The relation type and relation uid of an edge key. */
export function parseEdgeKey(key: Buffer): { type: string; relation: Uid } {
  const end = key.length - 17;
  const typeStart = key.indexOf(0, 1) + 18;
  return { type: key.toString('utf8', typeStart, end), relation: key.toString('hex', end + 1) };
}

/** The keys of one graph; the graph id is encoded once. */
export class GraphKeys {
  /** `tag, graph id, 0x00` with the tag byte left to fill. */
  private readonly prefix: Buffer;

  constructor(readonly graph: string) {
    const id = Buffer.from(graph, 'utf8');
    this.prefix = Buffer.alloc(id.length + 2);
    id.copy(this.prefix, 1);
  }

  /** The bytes every key of this graph with this tag starts with. */
  tagged(tag: number): Buffer {
    return this.key(tag, 0);
  }

  head(): Buffer {
    return this.key(tags.head, 0);
  }

  atom(uid: Uid): Buffer {
    const buf = this.key(tags.atom, 16);
    writeUid(buf, this.prefix.length, uid);
    return buf;
  }

  value(uid: Uid, slice: number): Buffer {
    const buf = this.key(tags.value, 24);
    writeUid(buf, this.prefix.length, uid);
    writeNumber(buf, this.prefix.length + 16, maxSlice - slice);
    return buf;
  }

  /** The value history of one attribute, newest first. */
  valuePrefix(uid: Uid): Buffer {
    const buf = this.key(tags.value, 16);
    writeUid(buf, this.prefix.length, uid);
    return buf;
  }

  edge(uid: Uid, direction: Direction, type: string, relation: Uid): Buffer {
    const typeLength = Buffer.byteLength(type);
    const buf = this.key(tags.edge, 16 + 1 + typeLength + 1 + 16);
    const at = this.prefix.length;
    writeUid(buf, at, uid);
    buf[at + 16] = directionByte[direction];
    buf.write(type, at + 17, 'utf8');
    buf[at + 17 + typeLength] = 0;
    writeUid(buf, at + 18 + typeLength, relation);
    return buf;
  }

  /** Edges of one atom in one direction; with `type`, of that relation type only. */
  edgePrefix(uid: Uid, direction: Direction, type?: string): Buffer {
    const typePart = type === undefined ? 0 : Buffer.byteLength(type) + 1;
    const buf = this.key(tags.edge, 17 + typePart);
    const at = this.prefix.length;
    writeUid(buf, at, uid);
    buf[at + 16] = directionByte[direction];
    if (type !== undefined) {
      buf.write(type, at + 17, 'utf8');
      buf[buf.length - 1] = 0;
    }
    return buf;
  }

  tx(txId: string): Buffer {
    const buf = this.key(tags.tx, Buffer.byteLength(txId));
    buf.write(txId, this.prefix.length, 'utf8');
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
