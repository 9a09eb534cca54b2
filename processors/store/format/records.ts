import { StoreDivergedError, type RejectionCode } from '../../errors';
import type { AtomKind, Change, GraphDiff, SourcePosition, Uid, Value } from '../../engine/model';
import type { AtomRecord, Direction, RelationEdge } from '../../engine/state';
import { Reader, type Writer } from './binary';

/**
 * What the store keeps, and its encodings (see keys.ts for where). Uids are 16 bytes, numbers
 * varints; a value is encoded one way everywhere: in atom records, the history and slices.
 * Encoders write into a {@link Writer} the caller owns (one per store, reused for every record);
 * test/fixtures/store-format pins their bytes, so a change of format is deliberate.
 */

/** An atom as the store holds it: the engine's record of it, without its relations. */
export class StoredAtom implements AtomRecord {
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
  ) {}

  static created(uid: Uid, kind: AtomKind, type: string, slice: number, source: Uid | undefined, target: Uid | undefined): StoredAtom {
    return new StoredAtom(uid, kind, type, slice, undefined, source, target, undefined, undefined);
  }

  assignedTo(value: Value, slice: number): StoredAtom {
    return new StoredAtom(this.uid, this.kind, this.type, this.created, this.terminated, this.source, this.target, value, slice);
  }

  terminatedAt(slice: number): StoredAtom {
    return new StoredAtom(this.uid, this.kind, this.type, this.created, slice, this.source, this.target, this.value, this.assigned);
  }
}

const kindCodes: Record<AtomKind, number> = { entity: 0, attribute: 1, relation: 2 };
const kinds: readonly AtomKind[] = ['entity', 'attribute', 'relation'];
const atomFlag = { terminated: 4, value: 8 } as const;

export function encodeAtom(w: Writer, atom: StoredAtom): void {
  let flags = kindCodes[atom.kind];
  if (atom.terminated !== undefined) flags |= atomFlag.terminated;
  if (atom.value !== undefined) flags |= atomFlag.value;
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
}

export function decodeAtom(uid: Uid, buf: Buffer): StoredAtom {
  const r = new Reader(buf);
  const flags = r.byte();
  const kind = kinds[flags & 3] as AtomKind;
  const created = r.varint();
  const terminated = flags & atomFlag.terminated ? r.varint() : undefined;
  const type = r.name();
  const source = kind === 'relation' ? r.uid() : undefined;
  const target = kind === 'relation' ? r.uid() : undefined;
  const assigned = flags & atomFlag.value ? r.varint() : undefined;
  const value = flags & atomFlag.value ? readValue(r) : undefined;
  return new StoredAtom(uid, kind, type, created, terminated, source, target, value, assigned);
}

// --- adjacency -------------------------------------------------------------------------------

/** A relation seen from one of its ends, with the relation's lifetime. */
export interface HistoricEdge extends RelationEdge {
  readonly created: number;
  readonly terminated?: number;
}

/** An atom's relations in both directions, ended ones too, each by type then uid. */
export interface Adjacency {
  readonly out: readonly HistoricEdge[];
  readonly in: readonly HistoricEdge[];
}

export const noAdjacency: Adjacency = { out: [], in: [] };

/** Relations are listed in this order. */
export function byTypeThenUid(a: RelationEdge, b: RelationEdge): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : a.uid < b.uid ? -1 : a.uid > b.uid ? 1 : 0;
}

const eventFlag = { ended: 1, into: 2 } as const;

/** An adjacency event: a relation of `direction` was created at `slice`, to or from `other`. */
export function encodeEdgeAdded(w: Writer, direction: Direction, type: string, relation: Uid, other: Uid, slice: number): void {
  w.byte(direction === 'in' ? eventFlag.into : 0);
  w.uid(relation);
  w.uid(other);
  w.varint(slice);
  w.string(type);
}

/** An adjacency event: a relation of `direction` ended at `slice`. */
export function encodeEdgeEnded(w: Writer, direction: Direction, relation: Uid, slice: number): void {
  w.byte(eventFlag.ended | (direction === 'in' ? eventFlag.into : 0));
  w.uid(relation);
  w.varint(slice);
}

interface MutableEdge {
  readonly uid: Uid;
  readonly type: string;
  readonly other: Uid;
  readonly created: number;
  terminated?: number;
}

/** The relations an adjacency entry's events describe, with their lifetimes. */
export function decodeAdjacency(buf: Buffer): Adjacency {
  const out = new Map<Uid, MutableEdge>();
  const into = new Map<Uid, MutableEdge>();
  const r = new Reader(buf);
  while (!r.done) {
    const flags = r.byte();
    const edges = flags & eventFlag.into ? into : out;
    const relation = r.uid();
    if (flags & eventFlag.ended) {
      const slice = r.varint();
      const edge = edges.get(relation);
      if (edge !== undefined) edge.terminated = slice;
      continue;
    }
    const other = r.uid();
    const created = r.varint();
    edges.set(relation, { uid: relation, type: r.name(), other, created });
  }
  return { out: [...out.values()].sort(byTypeThenUid), in: [...into.values()].sort(byTypeThenUid) };
}

/** The live relations of one direction of an adjacency entry, by type then uid (without lifetimes). */
export function liveEdges(adjacency: Adjacency, direction: Direction): RelationEdge[] {
  const edges: RelationEdge[] = [];
  for (const edge of direction === 'out' ? adjacency.out : adjacency.in) if (edge.terminated === undefined) edges.push({ uid: edge.uid, type: edge.type, other: edge.other });
  return edges;
}

// --- values ----------------------------------------------------------------------------------

const valueTags = { String: 0, Int: 1, Float: 2, False: 3, True: 4, Time: 5, Bytes: 6, Enum: 7, Quantity: 8 } as const;

export function writeValue(w: Writer, value: Value): void {
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

export function decodeValue(buf: Buffer): Value {
  return readValue(new Reader(buf));
}

// --- the slice log and the type index --------------------------------------------------------

/** The slice log entry: which transaction made a slice, when, and from which record. */
export interface SliceInfo {
  readonly slice: number;
  readonly txId: string;
  readonly time: number;
  readonly source: SourcePosition;
}

const changeTags = { Created: 0, Assigned: 1, Terminated: 2 } as const;
const changeFlag = { ends: 16, previous: 4, cascade: 4, kindAndType: 8 } as const;

/**
 * A slice as kept in the slice log: its info and its changes, with its length in front, so a
 * bucket is its slices' entries back to back. `body` is scratch space, reused.
 */
export function encodeSlice(w: Writer, body: Writer, diff: GraphDiff): void {
  body.reset();
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
      w.byte(changeTags.Created | (kindCodes[change.kind] << 2) | (ends ? changeFlag.ends : 0));
      w.uid(change.uid);
      w.string(change.type);
      if (ends) {
        w.uid(change.source as Uid);
        w.uid(change.target as Uid);
      }
      return;
    }
    case 'Assigned':
      w.byte(changeTags.Assigned | (change.previous === undefined ? 0 : changeFlag.previous));
      w.uid(change.uid);
      if (change.previous !== undefined) writeValue(w, change.previous);
      writeValue(w, change.value);
      return;
    case 'Terminated': {
      // The kindAndType flag is always set since the diff model carries both; the flag keeps the
      // slice-log byte format explicit about it.
      w.byte(changeTags.Terminated | (change.cascade ? changeFlag.cascade : 0) | changeFlag.kindAndType | (kindCodes[change.kind] << 5));
      w.uid(change.uid);
      w.string(change.type);
      return;
    }
  }
}

function readChange(r: Reader): Change {
  const head = r.byte();
  const uid = r.uid();
  switch (head & 3) {
    case changeTags.Created: {
      const kind = kinds[(head >> 2) & 3] as AtomKind;
      const type = r.name();
      if ((head & changeFlag.ends) === 0) return { op: 'Created', uid, kind, type };
      const source = r.uid();
      return { op: 'Created', uid, kind, type, source, target: r.uid() };
    }
    case changeTags.Assigned: {
      if ((head & changeFlag.previous) === 0) return { op: 'Assigned', uid, value: readValue(r) };
      const previous = readValue(r);
      return { op: 'Assigned', uid, previous, value: readValue(r) };
    }
    default: {
      if ((head & changeFlag.kindAndType) === 0) throw new StoreDivergedError(`a slice-log Terminated change of ${uid} lacks its kind and type: the store was written by another layout; the changelog rebuilds it`);
      return { op: 'Terminated', uid, cascade: (head & changeFlag.cascade) !== 0, kind: kinds[(head >> 5) & 3] as AtomKind, type: r.name() };
    }
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

// --- small values ----------------------------------------------------------------------------

/** A graph's head: its latest slice and that slice's time (the engine stamps no slice earlier). */
export interface Head {
  readonly slice: number;
  /** Microseconds since the epoch; 0 for a graph without slices. */
  readonly time: number;
}

export function encodeHead(w: Writer, head: Head): void {
  w.varint(head.slice);
  w.signed(head.time);
}

export function decodeHead(buf: Buffer): Head {
  const r = new Reader(buf);
  const slice = r.varint();
  return { slice, time: r.signed() };
}

/** A number: the index entry of a rejected txId. */
export function encodeNumber(w: Writer, n: number): void {
  w.varint(n);
}

export function decodeNumber(buf: Buffer): number {
  return new Reader(buf).varint();
}

/** A txId's entry: the slice it made, or null when it changed nothing (one 0x00 byte). */
export function encodeTx(w: Writer, slice: number | null): void {
  w.varint(slice ?? 0);
}

export function decodeTx(buf: Buffer): number | null {
  const slice = new Reader(buf).varint();
  return slice === 0 ? null : slice;
}

/** The offsets a store's written state reflects. */
export interface Checkpoint {
  /** The changelog offset after the last diff the store holds (past its transaction's marker). */
  readonly changelog?: number;
  /** Per input topic, the offset after the last record the store reflects. */
  readonly inputs?: Readonly<Record<string, number>>;
  /**
   * The offset of the partition's rejections partition up to which the store's record of
   * rejected txIds holds every rejection of the partition's records.
   */
  readonly rejections?: number;
}

const checkpointFlag = { changelog: 1, rejections: 2 } as const;

export function encodeCheckpoint(w: Writer, checkpoint: Checkpoint): void {
  w.byte((checkpoint.changelog === undefined ? 0 : checkpointFlag.changelog) | (checkpoint.rejections === undefined ? 0 : checkpointFlag.rejections));
  if (checkpoint.changelog !== undefined) w.signed(checkpoint.changelog);
  if (checkpoint.rejections !== undefined) w.signed(checkpoint.rejections);
  const inputs = Object.entries(checkpoint.inputs ?? {});
  w.varint(inputs.length);
  for (const [topic, offset] of inputs) {
    w.string(topic);
    w.signed(offset);
  }
}

export function decodeCheckpoint(buf: Buffer): Checkpoint {
  const r = new Reader(buf);
  const flags = r.byte();
  const changelog = flags & checkpointFlag.changelog ? r.signed() : undefined;
  const rejections = flags & checkpointFlag.rejections ? r.signed() : undefined;
  const inputs: Record<string, number> = {};
  for (let n = r.varint(); n > 0; n -= 1) {
    const topic = r.string();
    inputs[topic] = r.signed();
  }
  return { ...(changelog === undefined ? {} : { changelog }), inputs, ...(rejections === undefined ? {} : { rejections }) };
}

// --- rejected transactions -------------------------------------------------------------------

/** A transaction the processor refused, as the store remembers it (for `transactions/{txId}`). */
export interface StoredRejection {
  readonly txId: string;
  /** 'OTHER' for a code this graphfold does not know (written by a newer one, read back from the rejections topic). */
  readonly code: RejectionCode | 'OTHER';
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source: SourcePosition;
  /** The graph's head when it was refused. */
  readonly head: number;
  /** Microseconds since the epoch: the record's time. */
  readonly time: number;
}

export function encodeRejection(w: Writer, rejection: StoredRejection): void {
  w.string(rejection.txId);
  w.string(rejection.code);
  w.string(rejection.message);
  w.varint(rejection.instructionIndex === undefined ? 0 : rejection.instructionIndex + 1);
  w.string(rejection.source.topic);
  w.signed(rejection.source.partition);
  w.signed(rejection.source.offset);
  w.varint(rejection.head);
  w.signed(rejection.time);
}

export function decodeRejection(buf: Buffer): StoredRejection {
  const r = new Reader(buf);
  const txId = r.string();
  const code = r.name() as RejectionCode;
  const message = r.string();
  const index = r.varint();
  const topic = r.name();
  const source = { topic, partition: r.signed(), offset: r.signed() };
  const head = r.varint();
  const time = r.signed();
  return index === 0 ? { txId, code, message, source, head, time } : { txId, code, message, instructionIndex: index - 1, source, head, time };
}

/** How a store lays out its data; fixed when the store is created. */
export interface Layout {
  /** Slices per slice log entry. */
  readonly sliceBucket: number;
  /** Slices per type index entry (all types of a graph share the entries). */
  readonly typeBucket: number;
}

/**
 * The layout version this code writes and reads (version 1 kept relations in atom records, and
 * its head record no time).
 */
export const layoutVersion = 2;

export function encodeLayout(w: Writer, layout: Layout): void {
  w.varint(layoutVersion);
  w.varint(layout.sliceBucket);
  w.varint(layout.typeBucket);
}

/** The layout's version, and the layout when this code reads that version. */
export function decodeLayout(buf: Buffer): { readonly version: number; readonly layout?: Layout } {
  const r = new Reader(buf);
  const version = r.varint();
  if (version !== layoutVersion) return { version };
  const sliceBucket = r.varint();
  return { version, layout: { sliceBucket, typeBucket: r.varint() } };
}
