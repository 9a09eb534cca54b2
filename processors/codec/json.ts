import { TerminalError } from '../errors';
import { atomKinds, type AtomKind, type Change, type GraphDiff, type GraphTransaction, type Instruction, type Ref, type Value } from '../engine/model';

/**
 * The JSON form of transactions and diffs: the domain model as JSON, for producers that cannot
 * speak Avro (`content-type: application/json`), for NDJSON files and for printing. Values are
 * `{"type": "Int", "value": 42}`; 64-bit Int and Time values may be written as decimal strings
 * (and are, when beyond 2^53), Bytes as base64, non-finite floats as "NaN", "Infinity", "-Infinity".
 */
export function transactionFromJson(text: string): GraphTransaction {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Newer Node releases add " (line 1 column 2)" to what Node 20 said: a rejection says the same on every Node.
    throw decodeError(`not JSON: ${(error as Error).message.replace(/ \(line \d+ column \d+\)$/, '')}`);
  }
  return transactionFromJsonValue(parsed);
}

/** A transaction from already-parsed JSON; throws DECODE_ERROR naming the path of the first problem. */
export function transactionFromJsonValue(json: unknown): GraphTransaction {
  const tx = object(json, '$');
  const graph = string(tx['graph'], '$.graph');
  const txId = string(tx['txId'], '$.txId');
  const instructions = array(tx['instructions'], '$.instructions').map((item, i) => instruction(item, `$.instructions[${i}]`));
  return {
    graph,
    txId,
    ...optional(tx, 'time', '$', integer),
    ...optional(tx, 'expectSlice', '$', integer),
    instructions,
  };
}

export function transactionToJson(tx: GraphTransaction): string {
  return JSON.stringify(tx, replacer);
}

export function diffToJson(diff: GraphDiff): string {
  return JSON.stringify(diff, replacer);
}

/** A diff from its JSON form (as `diffToJson` writes it). */
export function diffFromJsonValue(json: unknown): GraphDiff {
  const d = object(json, '$');
  const source = object(d['source'], '$.source');
  return {
    graph: string(d['graph'], '$.graph'),
    slice: integer(d['slice'], '$.slice'),
    txId: string(d['txId'], '$.txId'),
    time: integer(d['time'], '$.time'),
    source: { topic: string(source['topic'], '$.source.topic'), partition: integer(source['partition'], '$.source.partition'), offset: integer(source['offset'], '$.source.offset') },
    changes: array(d['changes'], '$.changes').map((c, i) => change(c, `$.changes[${i}]`)),
  };
}

/**
 * A `JSON.stringify` replacer that renders values the way the JSON form reads them back: bigints
 * as numbers (decimal strings beyond 2^53), bytes as base64, non-finite floats as strings.
 */
export const jsonReplacer = replacer;

/** Renders values the way the JSON form reads them back. */
function replacer(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  if (key === 'value' && typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (value !== null && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer' && Array.isArray((value as { data?: unknown }).data)) {
    return Buffer.from((value as { data: number[] }).data).toString('base64');
  }
  return value;
}

function instruction(json: unknown, path: string): Instruction {
  const i = object(json, path);
  const op = string(i['op'], `${path}.op`);
  const named = (): { ref?: string; uid?: string } => ({ ...optional(i, 'ref', path, string), ...optional(i, 'uid', path, string) });
  switch (op) {
    case 'CreateEntity':
      return { op, ...named(), type: string(i['type'], `${path}.type`) };
    case 'CreateAttribute':
      return { op, ...named(), valueType: string(i['valueType'], `${path}.valueType`), ...optional(i, 'value', path, value) };
    case 'CreateRelation':
      return { op, ...named(), type: string(i['type'], `${path}.type`), source: ref(i['source'], `${path}.source`), target: ref(i['target'], `${path}.target`) };
    case 'Assign':
      return { op, target: ref(i['target'], `${path}.target`), value: value(i['value'], `${path}.value`) };
    case 'SetField':
      return { op, subject: ref(i['subject'], `${path}.subject`), relation: string(i['relation'], `${path}.relation`), value: value(i['value'], `${path}.value`) };
    case 'Terminate':
      return { op, target: ref(i['target'], `${path}.target`) };
    case 'Merge':
      return {
        op,
        uid: string(i['uid'], `${path}.uid`),
        kind: kind(i['kind'], `${path}.kind`),
        type: string(i['type'], `${path}.type`),
        ...optional(i, 'source', path, ref),
        ...optional(i, 'target', path, ref),
        ...optional(i, 'value', path, value),
      };
    default:
      throw decodeError(`${path}.op: '${op}' is not an instruction (CreateEntity, CreateAttribute, CreateRelation, Assign, SetField, Terminate, Merge)`);
  }
}

function change(json: unknown, path: string): Change {
  const c = object(json, path);
  const op = string(c['op'], `${path}.op`);
  const uid = string(c['uid'], `${path}.uid`);
  switch (op) {
    case 'Created':
      return { op, uid, kind: kind(c['kind'], `${path}.kind`), type: string(c['type'], `${path}.type`), ...optional(c, 'source', path, string), ...optional(c, 'target', path, string) };
    case 'Assigned':
      return { op, uid, ...optional(c, 'previous', path, value), value: value(c['value'], `${path}.value`) };
    case 'Terminated':
      if (typeof c['cascade'] !== 'boolean') throw decodeError(`${path}.cascade: expected true or false`);
      return { op, uid, cascade: c['cascade'], kind: kind(c['kind'], `${path}.kind`), type: string(c['type'], `${path}.type`) };
    default:
      throw decodeError(`${path}.op: '${op}' is not a change (Created, Assigned, Terminated)`);
  }
}

function ref(json: unknown, path: string): Ref {
  const r = object(json, path);
  const hasUid = r['uid'] !== undefined && r['uid'] !== null;
  const hasRef = r['ref'] !== undefined && r['ref'] !== null;
  if (hasUid === hasRef) throw decodeError(`${path}: a reference needs exactly one of "uid" and "ref"`);
  return hasUid ? { uid: string(r['uid'], `${path}.uid`) } : { ref: string(r['ref'], `${path}.ref`) };
}

function kind(json: unknown, path: string): AtomKind {
  if (!atomKinds.includes(json as AtomKind)) throw decodeError(`${path}: expected one of ${atomKinds.join(', ')}`);
  return json as AtomKind;
}

function value(json: unknown, path: string): Value {
  const v = object(json, path);
  const type = string(v['type'], `${path}.type`);
  const raw = v['value'];
  const at = `${path}.value`;
  switch (type) {
    case 'String':
      return { type, value: string(raw, at) };
    case 'Int':
    case 'Time':
      return { type, value: bigInteger(raw, at) };
    case 'Float':
      return { type, value: float(raw, at) };
    case 'Bool':
      if (typeof raw !== 'boolean') throw decodeError(`${at}: expected true or false`);
      return { type, value: raw };
    case 'Bytes':
      if (typeof raw !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(raw)) throw decodeError(`${at}: expected base64 text`);
      return { type, value: Buffer.from(raw, 'base64') };
    case 'Enum':
      return { type, enum: string(v['enum'], `${path}.enum`), value: string(raw, at) };
    case 'Quantity':
      return { type, unit: string(v['unit'], `${path}.unit`), value: float(raw, at) };
    default:
      throw decodeError(`${path}.type: '${type}' is not a value type (String, Int, Float, Bool, Time, Bytes, Enum, Quantity)`);
  }
}

function object(json: unknown, path: string): Record<string, unknown> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw decodeError(`${path}: expected an object`);
  return json as Record<string, unknown>;
}

function array(json: unknown, path: string): unknown[] {
  if (!Array.isArray(json)) throw decodeError(`${path}: expected an array`);
  return json;
}

function string(json: unknown, path: string): string {
  if (typeof json !== 'string') throw decodeError(`${path}: expected a string`);
  return json;
}

function integer(json: unknown, path: string): number {
  if (typeof json !== 'number' || !Number.isSafeInteger(json)) throw decodeError(`${path}: expected an integer`);
  return json;
}

function bigInteger(json: unknown, path: string): bigint {
  if (typeof json === 'number' && Number.isSafeInteger(json)) return BigInt(json);
  if (typeof json === 'string' && /^-?[0-9]+$/.test(json)) return BigInt(json);
  throw decodeError(`${path}: expected an integer (a decimal string beyond 2^53)`);
}

function float(json: unknown, path: string): number {
  if (typeof json === 'number') return json;
  if (json === 'NaN' || json === 'Infinity' || json === '-Infinity') return Number(json);
  throw decodeError(`${path}: expected a number`);
}

/** `{key: read(value)}` when the field is present and not null, else `{}`. */
function optional<T, K extends string>(o: Record<string, unknown>, key: K, path: string, read: (json: unknown, path: string) => T): { [P in K]?: T } {
  const v = o[key];
  return v === undefined || v === null ? {} : ({ [key]: read(v, `${path}.${key}`) } as { [P in K]?: T });
}

function decodeError(message: string): TerminalError {
  return new TerminalError('DECODE_ERROR', `invalid JSON input: ${message}`);
}
