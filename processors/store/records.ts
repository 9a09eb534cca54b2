import type { AtomKind, Change, GraphDiff, SourcePosition, Uid, Value } from '../engine/model';
import type { AtomRecord, Direction, RelationEdge } from '../engine/state';
import { Reader, Writer } from './binary';

/**
 * What the store keeps, and its encodings (see keys.ts for where). Uids are 16 bytes, numbers
 * varints; a value is encoded one way everywhere: in atom records, the history and slices.
 */

/** A relation seen from one of its ends, with the relation's lifetime. */
export class StoredEdge implements RelationEdge {
  constructor(
    readonly uid: Uid,
    readonly type: string,
    readonly other: Uid,
    readonly created: number,
    readonly terminated: number | undefined,
  ) {}

  ended(slice: number): StoredEdge {
    return new StoredEdge(this.uid, this.type, this.other, this.created, slice);
  }
}

/** Relations in an atom's record are kept in this order. */
export function byTypeThenUid(a: RelationEdge, b: RelationEdge): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

/** An atom as the store holds it: the engine's record, and the atom's relations until they spill. */
export class StoredAtom implements AtomRecord {
  private liveOut: readonly StoredEdge[] | undefined;
  private liveIn: readonly StoredEdge[] | undefined;

  constructor(
    readonly uid: Uid,
    readonly kind: AtomKind,
    readonly type: string,
    readonly created: number,
    readonly terminated: number | undefined,
    readonly source: Uid | undefined,
    readonly target: Uid | undefined,
    readonly value: Value | undefined,
    readonly assigned: number | undefined,
    /** Every relation out of the atom, ended ones too, by type then uid; undefined once spilled. */
    readonly outEdges: readonly StoredEdge[] | undefined,
    /** Likewise, the relations into the atom. */
    readonly inEdges: readonly StoredEdge[] | undefined,
  ) {}

  static created(uid: Uid, kind: AtomKind, type: string, slice: number, source: Uid | undefined, target: Uid | undefined): StoredAtom {
    return new StoredAtom(uid, kind, type, slice, undefined, source, target, undefined, undefined, none, none);
  }

  /** The relations of one direction, ended ones too; undefined when they spilled to edge entries. */
  edges(direction: Direction): readonly StoredEdge[] | undefined {
    return direction === 'out' ? this.outEdges : this.inEdges;
  }

  /** The live relations of one direction, in order; undefined when they spilled. */
  liveEdges(direction: Direction): readonly StoredEdge[] | undefined {
    if (direction === 'out') return (this.liveOut ??= live(this.outEdges));
    return (this.liveIn ??= live(this.inEdges));
  }

  assignedTo(value: Value, slice: number): StoredAtom {
    return new StoredAtom(this.uid, this.kind, this.type, this.created, this.terminated, this.source, this.target, value, slice, this.outEdges, this.inEdges);
  }

  terminatedAt(slice: number): StoredAtom {
    return new StoredAtom(this.uid, this.kind, this.type, this.created, slice, this.source, this.target, this.value, this.assigned, this.outEdges, this.inEdges);
  }

  withEdges(direction: Direction, edges: readonly StoredEdge[] | undefined): StoredAtom {
    const out = direction === 'out' ? edges : this.outEdges;
    const into = direction === 'in' ? edges : this.inEdges;
    return new StoredAtom(this.uid, this.kind, this.type, this.created, this.terminated, this.source, this.target, this.value, this.assigned, out, into);
  }
}

const none: readonly StoredEdge[] = [];

function live(edges: readonly StoredEdge[] | undefined): readonly StoredEdge[] | undefined {
  if (edges === undefined || edges.every((edge) => edge.terminated === undefined)) return edges;
  return edges.filter((edge) => edge.terminated === undefined);
}

const kindCodes: Record<AtomKind, number> = { entity: 0, attribute: 1, relation: 2 };
const kinds: readonly AtomKind[] = ['entity', 'attribute', 'relation'];
const flag = { terminated: 4, value: 8, outSpilled: 16, inSpilled: 32 } as const;

const writer = new Writer();

/** The atom's record; a view, valid until the next encoding. */
export function encodeAtom(atom: StoredAtom): Buffer {
  const w = writer.reset();
  let flags = kindCodes[atom.kind];
  if (atom.terminated !== undefined) flags |= flag.terminated;
  if (atom.value !== undefined) flags |= flag.value;
  if (atom.outEdges === undefined) flags |= flag.outSpilled;
  if (atom.inEdges === undefined) flags |= flag.inSpilled;
  w.byte(flags);
  w.varint(atom.created);
  if (atom.terminated !== undefined) w.varint(atom.terminated);
  w.string(atom.type);
  if (atom.kind === 'relation') {
    w.uid(atom.source as Uid);
    w.uid(atom.target as Uid);
  }
  if (atom.value !== undefined) {
    w.varint(atom.assigned as number);
    writeValue(w, atom.value);
  }
  if (atom.outEdges !== undefined) writeEdges(w, atom.outEdges);
  if (atom.inEdges !== undefined) writeEdges(w, atom.inEdges);
  return w.view();
}

export function decodeAtom(uid: Uid, buf: Buffer): StoredAtom {
  const r = new Reader(buf);
  const flags = r.byte();
  const kind = kinds[flags & 3] as AtomKind;
  const created = r.varint();
  const terminated = flags & flag.terminated ? r.varint() : undefined;
  const type = r.name();
  const source = kind === 'relation' ? r.uid() : undefined;
  const target = kind === 'relation' ? r.uid() : undefined;
  const assigned = flags & flag.value ? r.varint() : undefined;
  const value = flags & flag.value ? readValue(r) : undefined;
  const out = flags & flag.outSpilled ? undefined : readEdges(r);
  const into = flags & flag.inSpilled ? undefined : readEdges(r);
  return new StoredAtom(uid, kind, type, created, terminated, source, target, value, assigned, out, into);
}

/**
 * A direction's relations: their count, each one's type and lifetime, then all their uids (the
 * relation's and the other end's) as one block of bytes, converted from and to hex in one call.
 */
function writeEdges(w: Writer, edges: readonly StoredEdge[]): void {
  w.varint(edges.length);
  if (edges.length === 0) return;
  const uids: string[] = [];
  for (const edge of edges) {
    w.string(edge.type);
    w.varint(edge.created);
    w.varint(edge.terminated ?? 0);
    uids.push(edge.uid, edge.other);
  }
  w.hex(uids.join(''));
}

function readEdges(r: Reader): readonly StoredEdge[] {
  const count = r.varint();
  if (count === 0) return none;
  const types: string[] = [];
  const lifetimes: number[] = [];
  for (let i = 0; i < count; i += 1) {
    types.push(r.name());
    lifetimes.push(r.varint(), r.varint());
  }
  const uids = r.hex(32 * count);
  const edges: StoredEdge[] = [];
  for (let i = 0; i < count; i += 1) {
    const terminated = lifetimes[2 * i + 1] as number;
    edges.push(new StoredEdge(uids.slice(64 * i, 64 * i + 32), types[i] as string, uids.slice(64 * i + 32, 64 * i + 64), lifetimes[2 * i] as number, terminated === 0 ? undefined : terminated));
  }
  return edges;
}

/** An edge entry (spilled directions; the key holds the end, the type and the relation). */
export function encodeEdge(other: Uid, created: number, terminated: number | undefined): Buffer {
  const w = writer.reset();
  w.uid(other);
  w.varint(created);
  w.varint(terminated ?? 0);
  return w.view();
}

export function decodeEdge(buf: Buffer): { readonly other: Uid; readonly created: number; readonly terminated?: number } {
  const r = new Reader(buf);
  const other = r.uid();
  const created = r.varint();
  const terminated = r.varint();
  return terminated === 0 ? { other, created } : { other, created, terminated };
}

const valueTags = { String: 0, Int: 1, Float: 2, False: 3, True: 4, Time: 5, Bytes: 6, Enum: 7, Quantity: 8 } as const;

function writeValue(w: Writer, value: Value): void {
  switch (value.type) {
    case 'String':
      w.byte(valueTags.String);
      w.string(value.value);
      return;
    case 'Int':
      w.byte(valueTags.Int);
      w.int64(value.value);
      return;
    case 'Float':
      w.byte(valueTags.Float);
      w.double(value.value);
      return;
    case 'Bool':
      w.byte(value.value ? valueTags.True : valueTags.False);
      return;
    case 'Time':
      w.byte(valueTags.Time);
      w.int64(value.value);
      return;
    case 'Bytes':
      w.byte(valueTags.Bytes);
      w.bytes(value.value);
      return;
    case 'Enum':
      w.byte(valueTags.Enum);
      w.string(value.enum);
      w.string(value.value);
      return;
    case 'Quantity':
      w.byte(valueTags.Quantity);
      w.string(value.unit);
      w.double(value.value);
      return;
  }
}

function readValue(r: Reader): Value {
  const tag = r.byte();
  switch (tag) {
    case valueTags.String:
      return { type: 'String', value: r.string() };
    case valueTags.Int:
      return { type: 'Int', value: r.int64() };
    case valueTags.Float:
      return { type: 'Float', value: r.double() };
    case valueTags.False:
    case valueTags.True:
      return { type: 'Bool', value: tag === valueTags.True };
    case valueTags.Time:
      return { type: 'Time', value: r.int64() };
    case valueTags.Bytes:
      return { type: 'Bytes', value: r.bytes() };
    case valueTags.Enum: {
      const enumName = r.name();
      return { type: 'Enum', enum: enumName, value: r.name() };
    }
    case valueTags.Quantity: {
      const unit = r.name();
      return { type: 'Quantity', unit, value: r.double() };
    }
    default:
      throw new RangeError(`unknown value tag ${tag} in a store record`);
  }
}

/** A replaced value, in the history. */
export function encodeValue(value: Value): Buffer {
  writeValue(writer.reset(), value);
  return writer.view();
}

export function decodeValue(buf: Buffer): Value {
  return readValue(new Reader(buf));
}

/** The slice log entry: which transaction made a slice, when, and from which record. */
export interface SliceInfo {
  readonly slice: number;
  readonly txId: string;
  readonly time: number;
  readonly source: SourcePosition;
}

const changeTags = { Created: 0, Assigned: 1, Terminated: 2 } as const;

/** A slice as kept in the slice log: its info and its changes, with its length in front. */
export function encodeSlice(w: Writer, diff: GraphDiff): void {
  const body = writer.reset();
  body.varint(diff.slice);
  body.string(diff.txId);
  body.signed(diff.time);
  body.string(diff.source.topic);
  body.signed(diff.source.partition);
  body.signed(diff.source.offset);
  body.varint(diff.changes.length);
  for (const change of diff.changes) writeChange(body, change);
  w.varint(body.length);
  w.raw(body.view());
}

function writeChange(w: Writer, change: Change): void {
  switch (change.op) {
    case 'Created': {
      const ends = change.source !== undefined && change.target !== undefined;
      w.byte(changeTags.Created | (kindCodes[change.kind] << 2) | (ends ? 16 : 0));
      w.uid(change.uid);
      w.string(change.type);
      if (ends) {
        w.uid(change.source as Uid);
        w.uid(change.target as Uid);
      }
      return;
    }
    case 'Assigned':
      w.byte(changeTags.Assigned | (change.previous === undefined ? 0 : 4));
      w.uid(change.uid);
      if (change.previous !== undefined) writeValue(w, change.previous);
      writeValue(w, change.value);
      return;
    case 'Terminated':
      w.byte(changeTags.Terminated | (change.cascade ? 4 : 0));
      w.uid(change.uid);
      return;
  }
}

function readChange(r: Reader): Change {
  const head = r.byte();
  const uid = r.uid();
  switch (head & 3) {
    case changeTags.Created: {
      const kind = kinds[(head >> 2) & 3] as AtomKind;
      const type = r.name();
      if ((head & 16) === 0) return { op: 'Created', uid, kind, type };
      const source = r.uid();
      return { op: 'Created', uid, kind, type, source, target: r.uid() };
    }
    case changeTags.Assigned: {
      if ((head & 4) === 0) return { op: 'Assigned', uid, value: readValue(r) };
      const previous = readValue(r);
      return { op: 'Assigned', uid, previous, value: readValue(r) };
    }
    default:
      return { op: 'Terminated', uid, cascade: (head & 4) !== 0 };
  }
}

/** The slices `from` to `to` of a slice log bucket, appended to `out` in order. */
export function decodeSlices(graph: string, bucket: Buffer, from: number, to: number, out: GraphDiff[]): void {
  const r = new Reader(bucket);
  while (!r.done) {
    const length = r.varint();
    const end = r.pos + length;
    const slice = r.varint();
    if (slice >= from && slice <= to) {
      const txId = r.string();
      const time = r.signed();
      const topic = r.string();
      const partition = r.signed();
      const offset = r.signed();
      const changes: Change[] = [];
      for (let n = r.varint(); n > 0; n -= 1) changes.push(readChange(r));
      out.push({ graph, slice, txId, time, source: { topic, partition, offset }, changes });
    }
    r.pos = end;
  }
}

/** An entry of a type bucket: an entity or relation, its type and the slice that created it. */
export function encodeTyped(w: Writer, type: string, uid: Uid, created: number): void {
  w.string(type);
  w.uid(uid);
  w.varint(created);
}

/** The entries of a type bucket of type `type` created at or before `slice`. */
export function decodeTyped(bucket: Buffer, type: string, slice: number): Uid[] {
  const r = new Reader(bucket);
  const uids: Uid[] = [];
  while (!r.done) {
    const entryType = r.name();
    const uid = r.uid();
    if (r.varint() <= slice && entryType === type) uids.push(uid);
  }
  return uids;
}

/** A graph's head: its latest slice and that slice's time. */
export interface Head {
  readonly slice: number;
  readonly time: number;
}

export function encodeHead(head: Head): Buffer {
  const w = writer.reset();
  w.varint(head.slice);
  w.signed(head.time);
  return w.copy();
}

export function decodeHead(buf: Buffer): Head {
  const r = new Reader(buf);
  const slice = r.varint();
  return { slice, time: r.signed() };
}

/** A txId's entry: the slice it made, or null when it changed nothing (one 0x00 byte). */
export function encodeTx(slice: number | null): Buffer {
  writer.reset().varint(slice ?? 0);
  return writer.view();
}

export function decodeTx(buf: Buffer): number | null {
  const slice = new Reader(buf).varint();
  return slice === 0 ? null : slice;
}

/** Offsets the store reflects, as the runtime names them (e.g. `input:<topic>`, `changelog`). */
export type Checkpoint = Readonly<Record<string, number>>;

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  const w = writer.reset();
  const entries = Object.entries(checkpoint);
  w.varint(entries.length);
  for (const [name, offset] of entries) {
    w.string(name);
    w.signed(offset);
  }
  return w.copy();
}

export function decodeCheckpoint(buf: Buffer): Checkpoint {
  const r = new Reader(buf);
  const checkpoint: Record<string, number> = {};
  for (let n = r.varint(); n > 0; n -= 1) {
    const name = r.string();
    checkpoint[name] = r.signed();
  }
  return checkpoint;
}

/** How a store lays out its data; fixed when the store is created. */
export interface Layout {
  /** Relations an atom's record holds in one direction before they move to edge entries. */
  readonly inlineEdges: number;
  /** Slices per slice log entry. */
  readonly sliceBucket: number;
  /** Slices per type index entry (all types of a graph share the entries). */
  readonly typeBucket: number;
}

/** 2: the head record holds the head slice's time. */
const layoutVersion = 2;

export function encodeLayout(layout: Layout): Buffer {
  const w = writer.reset();
  w.varint(layoutVersion);
  w.varint(layout.inlineEdges);
  w.varint(layout.sliceBucket);
  w.varint(layout.typeBucket);
  return w.copy();
}

/** The layout, or undefined when it is of a version this code does not read. */
export function decodeLayout(buf: Buffer): Layout | undefined {
  const r = new Reader(buf);
  if (r.varint() !== layoutVersion) return undefined;
  const inlineEdges = r.varint();
  const sliceBucket = r.varint();
  return { inlineEdges, sliceBucket, typeBucket: r.varint() };
}
