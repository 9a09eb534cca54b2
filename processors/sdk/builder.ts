import { randomUUID } from 'node:crypto';
import type { GraphTransaction, Instruction, Ref, Uid, Value } from '../engine/model';
import { deriveUid } from '../engine/uid';

/**
 * A graph schema as types, for {@link TransactionBuilder}: what `graphfold schema codegen`
 * generates from a topology's graph schema, so that a wrong type is a compile error.
 */
export interface SchemaTypes {
  /** The entity type names, as a union. */
  readonly entities: string;
  /** Relation types between atoms, each with the type names allowed at its ends. */
  readonly relations: { readonly [type: string]: { readonly source: string; readonly target: string } };
  /** Relation types that reach a value (SetField): the types allowed as subject, and what the value is written as. */
  readonly fields: { readonly [type: string]: { readonly source: string; readonly value: unknown } };
}

/** A schema with no rules: any type names, values as {@link Value}s. */
export interface AnySchema extends SchemaTypes {
  readonly entities: string;
  readonly relations: { readonly [type: string]: { readonly source: string; readonly target: string } };
  readonly fields: { readonly [type: string]: { readonly source: string; readonly value: Value } };
}

/** How the value of each field is made from what `set` is given: its value type (`Int`, `Enum:Stage`, ...), or several. */
export type FieldValueTypes = Readonly<Record<string, string | readonly string[]>>;

/** An atom a transaction refers to: created by it, or an existing one by uid. */
export interface Atom<T extends string = string> {
  readonly type: T;
  /** Its uid: given, or the one graphfold derives for it (the same in every replay). */
  readonly uid: Uid;
  readonly ref: Ref;
}

/** The field names whose subject may be an atom of type T. */
export type FieldOf<S extends SchemaTypes, T extends string> = {
  [F in keyof S['fields'] & string]: T extends S['fields'][F]['source'] ? F : never;
}[keyof S['fields'] & string];

/** What the value of a field is written as: a string for String, a bigint or number for Int, a Date or bigint (microseconds) for Time, ... */
export type FieldValue<S extends SchemaTypes, F extends keyof S['fields']> = S['fields'][F]['value'];

export interface TransactionOptions {
  /** Chosen once per transaction, kept on every retry: graphfold applies a txId once per graph. @default a random UUID */
  readonly txId?: string;
  /** The slice time, microseconds since the epoch. @default the record's timestamp */
  readonly time?: number;
  /** Refuse (STALE_SLICE) unless the graph is at this slice. */
  readonly expectSlice?: number;
}

/**
 * Builds one GraphTransaction, typed by a graph schema (see {@link SchemaTypes}): entity types,
 * relation types with their allowed ends, and fields with their value types are checked by the
 * compiler. Every atom it creates gets a local name (the one given, or `_1`, `_2`, ...), so its uid
 * is known at once ({@link Atom.uid}) and later transactions can refer to it.
 */
export class TransactionBuilder<S extends SchemaTypes = AnySchema> {
  readonly graph: string;
  readonly txId: string;
  private readonly instructions: Instruction[] = [];
  private readonly names = new Set<string>();
  private unnamed = 0;

  constructor(
    graph: string,
    private readonly options: TransactionOptions = {},
    private readonly fieldTypes: FieldValueTypes = {},
  ) {
    if (graph === '') throw new RangeError('TransactionBuilder: the graph id must be non-empty');
    this.graph = graph;
    this.txId = options.txId ?? randomUUID();
  }

  /** A new entity. */
  create<T extends S['entities']>(type: T, name?: string): Atom<T> {
    const ref = this.bind(name);
    this.instructions.push({ op: 'CreateEntity', ref, type });
    return this.named(type, ref);
  }

  /** A new relation from `source` to `target`, which the schema allows at its ends. */
  relate<R extends keyof S['relations'] & string>(type: R, source: Atom<S['relations'][R]['source']>, target: Atom<S['relations'][R]['target']>, name?: string): Atom<R> {
    const ref = this.bind(name);
    this.instructions.push({ op: 'CreateRelation', ref, type, source: source.ref, target: target.ref });
    return this.named(type, ref);
  }

  /** Sets a field of `subject`: the attribute its single `field` relation reaches, created when absent. */
  set<T extends string, F extends FieldOf<S, T>>(subject: Atom<T>, field: F, value: FieldValue<S, F>): this {
    this.instructions.push({ op: 'SetField', subject: subject.ref, relation: field, value: toValue(this.fieldTypes[field], value, field) });
    return this;
  }

  /** Ends an atom, and every relation in or out of it. */
  terminate(atom: Atom): this {
    this.instructions.push({ op: 'Terminate', target: atom.ref });
    return this;
  }

  /** An atom that exists already (created by an earlier transaction), by its type and uid. */
  existing<T extends S['entities'] | (keyof S['relations'] & string)>(type: T, uid: Uid): Atom<T> {
    return { type, uid, ref: { uid } };
  }

  /** The transaction, as graphfold reads it. */
  build(): GraphTransaction {
    return {
      graph: this.graph,
      txId: this.txId,
      ...(this.options.time === undefined ? {} : { time: this.options.time }),
      ...(this.options.expectSlice === undefined ? {} : { expectSlice: this.options.expectSlice }),
      instructions: [...this.instructions],
    };
  }

  private bind(name: string | undefined): string {
    let ref = name;
    if (ref === undefined) {
      do ref = `_${(this.unnamed += 1)}`;
      while (this.names.has(ref));
    }
    if (ref === '') throw new RangeError('TransactionBuilder: a local name must be non-empty');
    if (this.names.has(ref)) throw new RangeError(`TransactionBuilder: local name '${ref}' is bound twice in transaction ${this.txId}`);
    this.names.add(ref);
    return ref;
  }

  private named<T extends string>(type: T, ref: string): Atom<T> {
    return { type, uid: deriveUid(this.graph, this.txId, { ref }), ref: { ref } };
  }
}

/** The Value of a field from what `set` was given, by the field's value type(s). */
function toValue(valueTypes: string | readonly string[] | undefined, input: unknown, field: string): Value {
  if (valueTypes === undefined || typeof valueTypes !== 'string') {
    if (isValue(input) && (valueTypes === undefined || valueTypes.some((t) => matchesType(input, t)))) return input;
    throw new TypeError(`field ${field}: expected a Value${valueTypes === undefined ? '' : ` of type ${valueTypes.join(' or ')}`}, got ${describe(input)}`);
  }
  const colon = valueTypes.indexOf(':');
  const family = colon < 0 ? valueTypes : valueTypes.slice(0, colon);
  const parameter = valueTypes.slice(colon + 1);
  const wrong = (): never => {
    throw new TypeError(`field ${field} holds ${valueTypes} values; got ${describe(input)}`);
  };
  switch (family) {
    case 'String':
      return typeof input === 'string' ? { type: 'String', value: input } : wrong();
    case 'Int':
      if (typeof input === 'bigint') return { type: 'Int', value: input };
      return typeof input === 'number' && Number.isSafeInteger(input) ? { type: 'Int', value: BigInt(input) } : wrong();
    case 'Float':
      return typeof input === 'number' ? { type: 'Float', value: input } : wrong();
    case 'Bool':
      return typeof input === 'boolean' ? { type: 'Bool', value: input } : wrong();
    case 'Time':
      if (typeof input === 'bigint') return { type: 'Time', value: input };
      return input instanceof Date && !Number.isNaN(input.getTime()) ? { type: 'Time', value: BigInt(input.getTime()) * 1000n } : wrong();
    case 'Bytes':
      return input instanceof Uint8Array ? { type: 'Bytes', value: input } : wrong();
    case 'Enum':
      return typeof input === 'string' ? { type: 'Enum', enum: parameter, value: input } : wrong();
    case 'Quantity':
      return typeof input === 'number' ? { type: 'Quantity', unit: parameter, value: input } : wrong();
    default:
      return wrong();
  }
}

function isValue(input: unknown): input is Value {
  return typeof input === 'object' && input !== null && typeof (input as { type?: unknown }).type === 'string' && 'value' in input;
}

function matchesType(value: Value, valueType: string): boolean {
  if (value.type === 'Enum') return valueType === `Enum:${value.enum}`;
  if (value.type === 'Quantity') return valueType === `Quantity:${value.unit}`;
  return valueType === value.type;
}

function describe(input: unknown): string {
  if (input instanceof Date) return 'a Date';
  if (input instanceof Uint8Array) return 'bytes';
  return typeof input === 'object' ? JSON.stringify(input, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) : `${typeof input} ${String(input)}`;
}
