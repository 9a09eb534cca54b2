import type { Uid } from '../engine/model';
import type { Direction } from '../engine/state';

/**
 * RocksDB key layout. Every graph-scoped key is `tag, graph id (UTF-8), 0x00, rest`, so one
 * partition's database holds many graphs and each graph's keys sort together. Numbers are 8 bytes
 * big-endian so they sort numerically. An atom's record holds its current value; a value it
 * replaces moves to the history, keyed by the slice that had assigned it, inverted so that "as
 * of slice s" is one seek. Each RocksDB entry costs microseconds to write, so the layout keeps
 * them few: attributes have no type index entry, and a first value has no history entry.
 *
 * | tag  | key rest                               | value             |
 * |------|----------------------------------------|-------------------|
 * | 0x01 | (none: database-wide)                  | checkpoint        |
 * | 0x10 |                                        | head slice        |
 * | 0x11 | uid                                    | atom record       |
 * | 0x12 | uid, inverted slice                    | a replaced value  |
 * | 0x13 | uid, direction, relation type, 0x00, relation uid | edge record |
 * | 0x14 | type, 0x00, uid (entities, relations)  | lifetime          |
 * | 0x15 | slice                                  | slice info, changes |
 * | 0x17 | txId                                   | slice or no-op    |
 */
const tags = { checkpoint: 0x01, head: 0x10, atom: 0x11, value: 0x12, edge: 0x13, type: 0x14, slice: 0x15, tx: 0x17 } as const;

const maxSlice = Number.MAX_SAFE_INTEGER;
const directionByte: Record<Direction, number> = { out: 0x6f, in: 0x69 };

function graphKey(tag: number, graph: string, restLength: number): { buf: Buffer; at: number } {
  const graphLength = Buffer.byteLength(graph);
  const buf = Buffer.allocUnsafe(2 + graphLength + restLength);
  buf[0] = tag;
  buf.write(graph, 1, 'utf8');
  buf[1 + graphLength] = 0;
  return { buf, at: 2 + graphLength };
}

function writeNumber(buf: Buffer, at: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at);
  buf.writeUInt32BE(n % 0x1_0000_0000, at + 4);
}

export function readNumber(buf: Buffer, at: number): number {
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

export function headKey(graph: string): Buffer {
  return graphKey(tags.head, graph, 0).buf;
}

/** Every head key: one per graph the database holds. */
export const headRange = { gte: Buffer.from([tags.head]), lt: Buffer.from([tags.head + 1]) };

/** The graph id of a head key. */
export function graphOfHeadKey(key: Buffer): string {
  return key.toString('utf8', 1, key.length - 1);
}

export function atomKey(graph: string, uid: Uid): Buffer {
  const { buf, at } = graphKey(tags.atom, graph, 16);
  buf.write(uid, at, 'hex');
  return buf;
}

/** Every atom of one graph. */
export function atomPrefix(graph: string): Buffer {
  return graphKey(tags.atom, graph, 0).buf;
}

export function uidOfAtomKey(key: Buffer): Uid {
  return key.toString('hex', key.length - 16);
}

export function valueKey(graph: string, uid: Uid, slice: number): Buffer {
  const { buf, at } = graphKey(tags.value, graph, 24);
  buf.write(uid, at, 'hex');
  writeNumber(buf, at + 16, maxSlice - slice);
  return buf;
}

/** The value history of one attribute, newest first. */
export function valuePrefix(graph: string, uid: Uid): Buffer {
  const { buf, at } = graphKey(tags.value, graph, 16);
  buf.write(uid, at, 'hex');
  return buf;
}

export function sliceOfValueKey(key: Buffer): number {
  return maxSlice - readNumber(key, key.length - 8);
}

export function edgeKey(graph: string, uid: Uid, direction: Direction, type: string, relation: Uid): Buffer {
  const typeLength = Buffer.byteLength(type);
  const { buf, at } = graphKey(tags.edge, graph, 16 + 1 + typeLength + 1 + 16);
  buf.write(uid, at, 'hex');
  buf[at + 16] = directionByte[direction];
  buf.write(type, at + 17, 'utf8');
  buf[at + 17 + typeLength] = 0;
  buf.write(relation, at + 18 + typeLength, 'hex');
  return buf;
}

/** Edges of one atom in one direction; with `type`, of that relation type only. */
export function edgePrefix(graph: string, uid: Uid, direction: Direction, type?: string): Buffer {
  const typePart = type === undefined ? 0 : Buffer.byteLength(type) + 1;
  const { buf, at } = graphKey(tags.edge, graph, 17 + typePart);
  buf.write(uid, at, 'hex');
  buf[at + 16] = directionByte[direction];
  if (type !== undefined) {
    buf.write(type, at + 17, 'utf8');
    buf[buf.length - 1] = 0;
  }
  return buf;
}

/** The relation type and relation uid of an edge key. */
export function parseEdgeKey(key: Buffer): { type: string; relation: Uid } {
  const end = key.length - 17;
  const typeStart = key.indexOf(0, 1) + 18;
  return { type: key.toString('utf8', typeStart, end), relation: key.toString('hex', end + 1) };
}

export function typeKey(graph: string, type: string, uid: Uid): Buffer {
  const typeLength = Buffer.byteLength(type);
  const { buf, at } = graphKey(tags.type, graph, typeLength + 17);
  buf.write(type, at, 'utf8');
  buf[at + typeLength] = 0;
  buf.write(uid, at + typeLength + 1, 'hex');
  return buf;
}

export function typePrefix(graph: string, type: string): Buffer {
  const typeLength = Buffer.byteLength(type);
  const { buf, at } = graphKey(tags.type, graph, typeLength + 1);
  buf.write(type, at, 'utf8');
  buf[at + typeLength] = 0;
  return buf;
}

export function uidOfTypeKey(key: Buffer): Uid {
  return key.toString('hex', key.length - 16);
}

export function sliceKey(graph: string, slice: number): Buffer {
  const { buf, at } = graphKey(tags.slice, graph, 8);
  writeNumber(buf, at, slice);
  return buf;
}

export function sliceOfKey(key: Buffer): number {
  return readNumber(key, key.length - 8);
}

export function txKey(graph: string, txId: string): Buffer {
  const txLength = Buffer.byteLength(txId);
  const { buf, at } = graphKey(tags.tx, graph, txLength);
  buf.write(txId, at, 'utf8');
  return buf;
}
