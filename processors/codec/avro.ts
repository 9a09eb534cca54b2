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
  'graph-diff.v1.avsc',
  'rejection.v1.avsc',
] as const;

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

let parsed: AvroTypes | undefined;

/** The parsed schemas; parsed on first use. */
export function avroTypes(): AvroTypes {
  if (parsed !== undefined) return parsed;
  const registry: Record<string, Type> = { long: bigintLong as unknown as Type };
  const byFile = new Map<string, Type>();
  for (const file of schemaFiles) {
    const schema: unknown = JSON.parse(readFileSync(join(schemasDir, file), 'utf8'));
    byFile.set(file, Type.forSchema(schema as Parameters<typeof Type.forSchema>[0], { registry }));
  }
  const named: Record<string, Type> = {};
  for (const [name, type] of Object.entries(registry)) if (name.includes('.')) named[name] = type;
  const get = (file: (typeof schemaFiles)[number]): Type => byFile.get(file) as Type;
  parsed = {
    transaction: get('graph-transaction.v1.avsc'),
    diff: get('graph-diff.v1.avsc'),
    rejection: get('rejection.v1.avsc'),
    value: get('value.v1.avsc'),
    sourcePosition: get('source-position.v1.avsc'),
    named,
  };
  return parsed;
}

/** The self-contained schema text to register for a type (named types inlined at first use). */
export function registrableSchema(type: Type): string {
  return JSON.stringify(type.schema({ exportAttrs: true }));
}
