import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Type, types } from 'avsc';

/**
 * The Avro schemas of `schemas/`, parsed once with one shared registry: each named type is
 * defined in exactly one file, and the files that use it refer to it by name.
 *
 * Every Avro `long` decodes to a bigint (Int and Time values are 64-bit: never a lossy number).
 */
export const bigintLong = types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: (json: unknown) => BigInt(json as string | number),
  toJSON: (n: bigint) => (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n.toString()),
  isValid: (n: unknown) => typeof n === 'bigint' && n >= -(1n << 63n) && n < 1n << 63n,
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** The schema files, in dependency order (a file may use the named types of those before it). */
export const schemaFiles = [
  'atom-kind.v1.avsc',
  'value.v1.avsc',
  'source-position.v1.avsc',
  'graph-transaction.v1.avsc',
  'graph-diff.v2.avsc',
  'rejection.v2.avsc',
] as const;

/** The top-level schemas: what the topics carry, each published alone in `schemas/bundled/`. */
export const topLevelSchemas = {
  'graphfold.GraphTransaction': 'graph-transaction.v1.avsc',
  'graphfold.GraphDiff': 'graph-diff.v2.avsc',
  'graphfold.Rejection': 'rejection.v2.avsc',
} as const;

export type TopLevelSchemaName = keyof typeof topLevelSchemas;

export interface AvroTypes {
  readonly transaction: Type;
  readonly diff: Type;
  readonly rejection: Type;
  readonly value: Type;
  readonly sourcePosition: Type;
  /** Every named type, by full name (`graphfold.Value`). */
  readonly named: Readonly<Record<string, Type>>;
}

/** The folder holding the `.avsc` files, found from this module in the source tree or in dist/. */
export const schemasDir: string = [resolve(__dirname, '../../schemas'), resolve(__dirname, '../../../schemas')].find((dir) => {
  try {
    readFileSync(join(dir, schemaFiles[0]));
    return true;
  } catch {
    return false;
  }
}) ?? resolve(__dirname, '../../schemas');

/**
 * Parses an Avro schema (JSON) with every `long` as a bigint. Logical types on longs
 * (`timestamp-micros`) are left to the JSON for other readers: here a time stays its exact number
 * of microseconds.
 */
export function parseSchema(schema: unknown, registry: Record<string, Type> = {}): Type {
  registry['long'] ??= bigintLong as unknown as Type;
  return Type.forSchema(withoutLogicalTypes(schema) as Parameters<typeof Type.forSchema>[0], { registry });
}

function withoutLogicalTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutLogicalTypes);
  if (schema === null || typeof schema !== 'object') return schema;
  const { logicalType, ...rest } = schema as Record<string, unknown>;
  if (logicalType !== undefined && rest['type'] === 'long') return 'long';
  return Object.fromEntries(Object.entries(schema as Record<string, unknown>).map(([k, v]) => [k, k === 'default' ? v : withoutLogicalTypes(v)]));
}

let parsed: AvroTypes | undefined;

/** The parsed schemas; parsed on first use. */
export function avroTypes(): AvroTypes {
  if (parsed !== undefined) return parsed;
  const registry: Record<string, Type> = { long: bigintLong as unknown as Type };
  const byFile = new Map<string, Type>();
  for (const file of schemaFiles) byFile.set(file, parseSchema(readSchemaFile(file), registry));
  const named: Record<string, Type> = {};
  for (const [name, type] of Object.entries(registry)) if (name.includes('.')) named[name] = type;
  const get = (file: (typeof schemaFiles)[number]): Type => byFile.get(file) as Type;
  parsed = {
    transaction: get('graph-transaction.v1.avsc'),
    diff: get('graph-diff.v2.avsc'),
    rejection: get('rejection.v2.avsc'),
    value: get('value.v1.avsc'),
    sourcePosition: get('source-position.v1.avsc'),
    named,
  };
  return parsed;
}

function readSchemaFile(file: string): unknown {
  return JSON.parse(readFileSync(join(schemasDir, file), 'utf8'));
}

/**
 * A top-level schema as one self-contained schema: the named types it uses from other files
 * (`graphfold.Value`, ...) defined inline where Avro first meets them, depth first, and referred to
 * by name after that. Docs, logical types and enum defaults are kept as written. This is what
 * `schemas/bundled/` publishes and what graphfold registers.
 */
export function bundledSchema(name: TopLevelSchemaName): unknown {
  const definitions = new Map<string, unknown>();
  for (const file of schemaFiles) collectDefinitions(readSchemaFile(file), undefined, definitions);
  const defined = new Set<string>();
  const inline = (schema: unknown, namespace: string | undefined): unknown => {
    if (typeof schema === 'string') {
      const full = schema.includes('.') ? schema : namespace === undefined ? schema : `${namespace}.${schema}`;
      const definition = definitions.get(full);
      if (definition === undefined || defined.has(full)) return schema;
      return inline(definition, undefined);
    }
    if (Array.isArray(schema)) return schema.map((branch) => inline(branch, namespace));
    if (schema === null || typeof schema !== 'object') return schema;
    const node = schema as Record<string, unknown>;
    const full = definedName(node, namespace);
    if (full !== undefined) defined.add(full);
    const inner = full === undefined ? namespace : full.slice(0, full.lastIndexOf('.')) || undefined;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) {
      if (key === 'fields') out[key] = (value as Record<string, unknown>[]).map((field) => ({ ...field, type: inline(field['type'], inner) }));
      else if (key === 'type' || key === 'items' || key === 'values') out[key] = inline(value, inner);
      else out[key] = value;
    }
    return out;
  };
  return inline(readSchemaFile(topLevelSchemas[name]), undefined);
}

/** The full name a schema node defines (a record, enum or fixed), or undefined. */
function definedName(node: Record<string, unknown>, namespace: string | undefined): string | undefined {
  if (!['record', 'enum', 'fixed', 'error'].includes(node['type'] as string) || typeof node['name'] !== 'string') return undefined;
  const name = node['name'];
  if (name.includes('.')) return name;
  const ns = typeof node['namespace'] === 'string' ? node['namespace'] : namespace;
  return ns === undefined || ns === '' ? name : `${ns}.${name}`;
}

function collectDefinitions(schema: unknown, namespace: string | undefined, into: Map<string, unknown>): void {
  if (Array.isArray(schema)) {
    for (const branch of schema) collectDefinitions(branch, namespace, into);
    return;
  }
  if (schema === null || typeof schema !== 'object') return;
  const node = schema as Record<string, unknown>;
  const full = definedName(node, namespace);
  if (full !== undefined) into.set(full, full.includes('.') && node['namespace'] === undefined && !(node['name'] as string).includes('.') ? { ...node, name: full } : node);
  const inner = full === undefined ? namespace : full.slice(0, full.lastIndexOf('.')) || undefined;
  for (const field of (node['fields'] as Record<string, unknown>[] | undefined) ?? []) collectDefinitions(field['type'], inner, into);
  for (const key of ['type', 'items', 'values']) if (typeof node[key] === 'object') collectDefinitions(node[key], inner, into);
}

/** The file of `schemas/bundled/` holding a top-level schema. */
export function bundledFile(name: TopLevelSchemaName): string {
  return join(schemasDir, 'bundled', `${name}.avsc`);
}

/** The text of a bundled schema file. */
export function bundledText(name: TopLevelSchemaName): string {
  return `${JSON.stringify(bundledSchema(name), null, 2)}\n`;
}

/**
 * The self-contained schema text to register for a top-level type: its bundled schema
 * (`schemas/bundled/`), so the registry holds the docs, logical types and enum defaults a reader
 * in another language needs.
 */
export function registrableSchema(type: Type): string {
  const name = type.name as TopLevelSchemaName | undefined;
  if (name === undefined || !Object.hasOwn(topLevelSchemas, name)) throw new RangeError(`registrableSchema: ${type.name ?? 'an unnamed type'} is not a top-level schema (${Object.keys(topLevelSchemas).join(', ')})`);
  return JSON.stringify(bundledSchema(name));
}
