import { Type } from 'avsc';
import { avroTypes } from '../codec/avro';
import type { AvroGraphDiff, AvroValue } from '../codec/avro-wire.generated';
import { changeFromAvro, changeToAvro } from '../codec/diff';
import { valueFromAvro, valueToAvro } from '../codec/value';
import type { AtomKind, GraphDiff, SourcePosition, Value } from '../engine/model';
import type { AtomRecord } from '../engine/state';

/**
 * The Avro encodings of what the store keeps (see keys.ts for where). They reuse the named wire
 * types (Value, AtomKind, the changes) so a value is encoded one way everywhere; store-only
 * numbers (slices) are plain numbers.
 */
function storeType(schema: unknown): Type {
  return Type.forSchema(schema as Parameters<typeof Type.forSchema>[0], { registry: { ...avroTypes().named } });
}

const nullable = (type: string): { type: string[]; default: null } => ({ type: ['null', type], default: null });

const atomType = storeType({
  type: 'record',
  name: 'graphfold.store.Atom',
  fields: [
    { name: 'kind', type: 'graphfold.AtomKind' },
    { name: 'type', type: 'string' },
    { name: 'created', type: 'long' },
    { name: 'terminated', ...nullable('long') },
    { name: 'source', ...nullable('string') },
    { name: 'target', ...nullable('string') },
    { name: 'value', ...nullable('graphfold.Value') },
    { name: 'assigned', ...nullable('long') },
  ],
});

const lifetimeFields = [
  { name: 'created', type: 'long' },
  { name: 'terminated', ...nullable('long') },
];
const edgeType = storeType({ type: 'record', name: 'graphfold.store.Edge', fields: [{ name: 'other', type: 'string' }, ...lifetimeFields] });
const lifetimeType = storeType({ type: 'record', name: 'graphfold.store.Lifetime', fields: lifetimeFields });
const sliceType = storeType({
  type: 'record',
  name: 'graphfold.store.Slice',
  fields: [
    { name: 'txId', type: 'string' },
    { name: 'time', type: 'long' },
    { name: 'topic', type: 'string' },
    { name: 'partition', type: 'int' },
    { name: 'offset', type: 'long' },
    { name: 'changes', type: { type: 'array', items: ['graphfold.Created', 'graphfold.Assigned', 'graphfold.Terminated'] } },
  ],
});
const longType = storeType('long');
const txType = storeType(['null', 'long']);
const checkpointType = storeType({ type: 'map', values: 'long' });

interface StoredAtom {
  kind: AtomKind;
  type: string;
  created: number;
  terminated: number | null;
  source: string | null;
  target: string | null;
  value: AvroValue | null;
  assigned: number | null;
}

export function encodeAtom(atom: AtomRecord): Buffer {
  const stored: StoredAtom = {
    kind: atom.kind,
    type: atom.type,
    created: atom.created,
    terminated: atom.terminated ?? null,
    source: atom.source ?? null,
    target: atom.target ?? null,
    value: atom.value === undefined ? null : valueToAvro(atom.value),
    assigned: atom.assigned ?? null,
  };
  return atomType.toBuffer(stored);
}

export function decodeAtom(uid: string, buf: Buffer): AtomRecord {
  const s = atomType.fromBuffer(buf) as StoredAtom;
  const atom: { -readonly [K in keyof AtomRecord]: AtomRecord[K] } = { uid, kind: s.kind, type: s.type, created: s.created };
  if (s.terminated !== null) atom.terminated = s.terminated;
  if (s.source !== null) atom.source = s.source;
  if (s.target !== null) atom.target = s.target;
  if (s.value !== null) atom.value = valueFromAvro(s.value);
  if (s.assigned !== null) atom.assigned = s.assigned;
  return atom;
}

export function encodeValue(value: Value): Buffer {
  return avroTypes().value.toBuffer(valueToAvro(value));
}

export function decodeValue(buf: Buffer): Value {
  return valueFromAvro(avroTypes().value.fromBuffer(buf) as AvroValue);
}

/** When an atom (or an edge's relation) lived: created at, and terminated at if it was. */
export interface Lifetime {
  readonly created: number;
  readonly terminated?: number;
}

export interface StoredEdge extends Lifetime {
  readonly other: string;
}

export function encodeEdge(edge: StoredEdge): Buffer {
  return edgeType.toBuffer({ other: edge.other, created: edge.created, terminated: edge.terminated ?? null });
}

export function decodeEdge(buf: Buffer): StoredEdge {
  const s = edgeType.fromBuffer(buf) as { other: string; created: number; terminated: number | null };
  return s.terminated === null ? { other: s.other, created: s.created } : { other: s.other, created: s.created, terminated: s.terminated };
}

export function encodeLifetime(lifetime: Lifetime): Buffer {
  return lifetimeType.toBuffer({ created: lifetime.created, terminated: lifetime.terminated ?? null });
}

export function decodeLifetime(buf: Buffer): Lifetime {
  const s = lifetimeType.fromBuffer(buf) as { created: number; terminated: number | null };
  return s.terminated === null ? { created: s.created } : { created: s.created, terminated: s.terminated };
}

/** The slice log entry: which transaction made a slice, when, and from which record. */
export interface SliceInfo {
  readonly slice: number;
  readonly txId: string;
  readonly time: number;
  readonly source: SourcePosition;
}

interface StoredSlice {
  txId: string;
  time: number;
  topic: string;
  partition: number;
  offset: number;
  changes: AvroGraphDiff['changes'];
}

/** A slice's entry: its log info and its changes, so a diff is one read. */
export function encodeSlice(diff: GraphDiff): Buffer {
  const stored: StoredSlice = { txId: diff.txId, time: diff.time, topic: diff.source.topic, partition: diff.source.partition, offset: diff.source.offset, changes: diff.changes.map(changeToAvro) };
  return sliceType.toBuffer(stored);
}

export function decodeSlice(graph: string, slice: number, buf: Buffer): GraphDiff {
  const s = sliceType.fromBuffer(buf) as StoredSlice;
  return { graph, slice, txId: s.txId, time: s.time, source: { topic: s.topic, partition: s.partition, offset: s.offset }, changes: s.changes.map(changeFromAvro) };
}

export function encodeNumber(n: number): Buffer {
  return longType.toBuffer(n);
}

export function decodeNumber(buf: Buffer): number {
  return longType.fromBuffer(buf) as number;
}

/** A txId's entry: the slice it made, or null when it changed nothing. */
export function encodeTx(slice: number | null): Buffer {
  return txType.toBuffer(slice);
}

export function decodeTx(buf: Buffer): number | null {
  return txType.fromBuffer(buf) as number | null;
}

/** Offsets the store reflects, as the runtime names them (e.g. `input:<topic>`, `changelog`). */
export type Checkpoint = Readonly<Record<string, number>>;

export function encodeCheckpoint(checkpoint: Checkpoint): Buffer {
  return checkpointType.toBuffer(checkpoint);
}

export function decodeCheckpoint(buf: Buffer): Checkpoint {
  return checkpointType.fromBuffer(buf) as Checkpoint;
}
