import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { byteSizeForms, parseByteSize } from './byte-size';
import { durationForms, parseDuration } from './duration';
import { interpolate, type Environment } from './interpolation';
import type { ProblemList } from './problems';
import { closest } from './suggestion';
import { formatPath, type Path, type YamlSource } from './yaml-source';

/**
 * Typed readers over YAML nodes: each reads one value of a documented shape, and on a mistake
 * adds a problem (with the node's line and column and what to write instead) and returns
 * undefined, so that reading goes on and every mistake of a file is reported at once. String
 * values go through `${VAR}` interpolation here, the one place values are read.
 */
export interface ReadContext {
  readonly source: YamlSource;
  readonly problems: ProblemList;
  readonly env: Environment;
}

/** Reads `node` (the value at `path`) as a T, or records why not and returns undefined. */
export type Read<T> = (node: Node, path: Path, context: ReadContext) => T | undefined;

/** Why a read value is not acceptable (`'x' is not a valid topic name: ...`), or undefined. */
export type Check<T> = (value: T) => string | undefined;

export function problem(context: ReadContext, node: Node | undefined, path: Path, message: string): undefined {
  context.problems.add(context.source.positionOf(node), formatPath(path), message);
  return undefined;
}

/** `expected <what>, found <what the node is>`. */
function mismatch(context: ReadContext, node: Node, path: Path, expected: string): undefined {
  return problem(context, node, path, `expected ${expected}, found ${describeNode(node)}`);
}

function describeNode(node: Node): string {
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (!isScalar(node) || node.value === null || node.value === undefined) return 'nothing';
  const value = node.value;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
  if (typeof value === 'number' || typeof value === 'bigint') return `the number ${String(value)}`;
  if (typeof value === 'boolean') return String(value);
  return 'a value of another type';
}

/** The text of a string scalar with `${VAR}` substituted, plus whether anything was substituted. */
function scalarText(node: Node, path: Path, context: ReadContext, expected: string): { text: string; substituted: boolean } | undefined {
  if (!isScalar(node) || typeof node.value !== 'string') return mismatch(context, node, path, expected);
  const result = interpolate(node.value, context.env);
  if (!result.ok) return problem(context, node, path, result.message);
  return { text: result.value, substituted: result.substituted };
}

export function string(expected = 'a string', check?: Check<string>): Read<string> {
  return (node, path, context) => {
    const scalar = scalarText(node, path, context, expected);
    if (scalar === undefined) return undefined;
    const why = check?.(scalar.text);
    return why === undefined ? scalar.text : problem(context, node, path, why);
  };
}

/**
 * A password: `${VAR}` as the whole value, read from the environment. Anything else (a literal,
 * `${VAR:-default}`, text around the variable) is refused, and the message never repeats what was
 * written there. `fileOption` names the option that reads it from a file instead.
 */
export function secret(fileOption: string): Read<string> {
  return (node, path, context) => {
    const raw: unknown = isScalar(node) ? node.value : undefined;
    const name = String(path[path.length - 1] ?? 'password');
    if (typeof raw !== 'string' || !/^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(raw)) {
      return problem(
        context,
        node,
        path,
        `a password is read from an environment variable or a file, never written in the topology: write ${name}: \${VAR} (the whole value, no default), or ${fileOption}: <path of a file holding it>`,
      );
    }
    const scalar = scalarText(node, path, context, 'a password');
    if (scalar === undefined) return undefined;
    if (scalar.text === '') return problem(context, node, path, `environment variable ${raw.slice(2, -1)} is empty: set it to the password`);
    return scalar.text;
  };
}

export function oneOf<T extends string>(values: readonly T[]): Read<T> {
  const expected = `one of ${values.join(', ')}`;
  return (node, path, context) => {
    const scalar = scalarText(node, path, context, expected);
    if (scalar === undefined) return undefined;
    if ((values as readonly string[]).includes(scalar.text)) return scalar.text as T;
    const near = closest(scalar.text, values);
    return problem(context, node, path, `'${scalar.text}' is not ${expected}${near === undefined ? '' : `; did you mean ${near}?`}`);
  };
}

/**
 * A whole number in `[min, max]`. A string is accepted only when it came from `${VAR}` (so
 * `partitions: ${PARTITIONS:-6}` works); `"6"` written in the file is a mistake.
 */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): Read<number> {
  const expected = max === Number.MAX_SAFE_INTEGER ? `a whole number of at least ${min}` : `a whole number from ${min} to ${max}`;
  return (node, path, context) => {
    let value: unknown = isScalar(node) ? node.value : undefined;
    if (typeof value === 'string' && value.includes('${')) {
      const scalar = scalarText(node, path, context, expected);
      if (scalar === undefined) return undefined;
      value = /^\s*-?[0-9]+\s*$/.test(scalar.text) ? Number(scalar.text) : scalar.text;
      if (typeof value === 'string') return problem(context, node, path, `expected ${expected}, found ${JSON.stringify(value)} after substituting variables`);
    }
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      const hint = typeof value !== 'string' ? '' : /^[0-9]+$/.test(value) ? ` (write ${value} without quotes)` : /^[0-9_,]+$/.test(value) ? ` (write digits only: ${value.replace(/[_,]/g, '')})` : '';
      return problem(context, node, path, `expected ${expected}, found ${describeNode(node)}${hint}`);
    }
    if (value < min || value > max) return problem(context, node, path, `${value} is out of range: expected ${expected}`);
    return value;
  };
}

/** true or false (or a `${VAR}` that becomes one of them). */
export function boolean(): Read<boolean> {
  return (node, path, context) => {
    const value: unknown = isScalar(node) ? node.value : undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value === 'string' && value.includes('${')) {
      const scalar = scalarText(node, path, context, 'true or false');
      if (scalar === undefined) return undefined;
      if (scalar.text === 'true' || scalar.text === 'false') return scalar.text === 'true';
      return problem(context, node, path, `expected true or false, found ${JSON.stringify(scalar.text)} after substituting variables`);
    }
    return mismatch(context, node, path, 'true or false');
  };
}

/** A size in bytes: a whole number, or a string with a unit (`64 MiB`); the file's form is kept. */
export function byteSize(min: number): Read<number | string> {
  return (node, path, context) => {
    const value: unknown = isScalar(node) ? node.value : undefined;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) return mismatch(context, node, path, byteSizeForms);
      return value < min ? problem(context, node, path, `${value} bytes is too small: at least ${min}`) : value;
    }
    const scalar = scalarText(node, path, context, byteSizeForms);
    if (scalar === undefined) return undefined;
    const bytes = parseByteSize(scalar.text);
    if (bytes === undefined) return problem(context, node, path, `'${scalar.text}' is not a size: expected ${byteSizeForms}`);
    return bytes < min ? problem(context, node, path, `'${scalar.text}' is too small: at least ${min} bytes`) : scalar.text;
  };
}

/** A duration: milliseconds, or a string with a unit (`10m`); the file's form is kept. */
export function duration(minMs: number, maxMs: number): Read<number | string> {
  const range = (ms: number): string | undefined => (ms < minMs || ms > maxMs ? `out of range: expected ${minMs} ms to ${maxMs} ms` : undefined);
  return (node, path, context) => {
    const value: unknown = isScalar(node) ? node.value : undefined;
    if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) return mismatch(context, node, path, durationForms);
      const why = range(value);
      return why === undefined ? value : problem(context, node, path, `${value} ms is ${why}`);
    }
    const scalar = scalarText(node, path, context, durationForms);
    if (scalar === undefined) return undefined;
    const ms = parseDuration(scalar.text);
    if (ms === undefined) return problem(context, node, path, `'${scalar.text}' is not a duration: expected ${durationForms}`);
    const why = range(ms);
    return why === undefined ? scalar.text : problem(context, node, path, `'${scalar.text}' is ${why}`);
  };
}

export interface ListOptions {
  /** @default 0 */
  readonly minItems?: number;
  /** Refuse an item that repeats an earlier one. @default false */
  readonly unique?: boolean;
}

export function list<T>(expected: string, item: Read<T>, options: ListOptions = {}): Read<T[]> {
  return (node, path, context) => {
    if (!isSeq(node)) return mismatch(context, node, path, expected);
    const before = context.problems.size;
    const items: T[] = [];
    const firstAt = new Map<string, number>();
    node.items.forEach((raw, index) => {
      const itemNode = context.source.deref(raw as Node);
      const value = item(itemNode, [...path, index], context);
      if (value === undefined) return;
      if (options.unique === true) {
        const key = JSON.stringify(value);
        const first = firstAt.get(key);
        if (first !== undefined) {
          problem(context, itemNode, [...path, index], `${JSON.stringify(value)} is listed twice (also at ${formatPath([...path, first])}); remove one`);
          return;
        }
        firstAt.set(key, index);
      }
      items.push(value);
    });
    if (node.items.length < (options.minItems ?? 0)) {
      return problem(context, node, path, `expected ${expected} with at least ${options.minItems ?? 0} item${options.minItems === 1 ? '' : 's'}, found an empty list`);
    }
    return context.problems.size === before ? items : undefined;
  };
}

/** One option of an {@link object}. */
export interface Field<T> {
  readonly read: Read<T>;
  /** Set when the option is required: how to write it, for the message when it is missing. */
  readonly required?: string;
  /** A required option that may be left out when this other option is given. */
  readonly unlessGiven?: string;
}

export type Fields<T> = { readonly [K in keyof T & string]-?: Field<Exclude<T[K], undefined>> };

/**
 * A mapping with known option names. An unknown name is a mistake (with a "did you mean" when a
 * known one is close); a missing required option is reported at the mapping. `check` runs on a
 * value whose options all read well, for rules across options.
 */
export function object<T extends object>(expected: string, fields: Fields<T>, check?: (value: T, node: Node, path: Path, context: ReadContext) => void): Read<T> {
  const names = Object.keys(fields);
  return (node, path, context) => {
    if (!isMap(node)) return mismatch(context, node, path, expected);
    const before = context.problems.size;
    const value: Record<string, unknown> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        problem(context, keyNode ?? node, path, `option names are strings (${names.join(', ')})`);
        continue;
      }
      const name = keyNode.value;
      if (!Object.hasOwn(fields, name)) {
        const near = closest(name, names);
        problem(context, keyNode, [...path, name], near === undefined ? `unknown option (the options here are ${names.join(', ')})` : `unknown option; did you mean ${near}?`);
        continue;
      }
      const field = (fields as Readonly<Record<string, Field<unknown>>>)[name] as Field<unknown>;
      const valueNode = pair.value === null || pair.value === undefined ? undefined : context.source.deref(pair.value as Node);
      if (valueNode === undefined) {
        problem(context, keyNode, [...path, name], 'has no value');
        continue;
      }
      const read = field.read(valueNode, [...path, name], context);
      if (read !== undefined) value[name] = read;
    }
    const given = (name: string): boolean => Object.hasOwn(value, name) || node.items.some((pair) => isScalar(pair.key) && pair.key.value === name);
    for (const name of names) {
      const field = (fields as Readonly<Record<string, Field<unknown>>>)[name];
      const required = field?.required;
      if (required !== undefined && !given(name) && (field?.unlessGiven === undefined || !given(field.unlessGiven))) {
        problem(context, node, [...path, name], `missing; ${required}`);
      }
    }
    if (context.problems.size !== before) return undefined;
    check?.(value as T, node, path, context);
    return context.problems.size === before ? (value as T) : undefined;
  };
}

/** A mapping whose keys the user names (relation types, enum names), each read alike. */
export function record<T>(expected: string, key: Check<string>, item: Read<T>): Read<Record<string, T>> {
  return (node, path, context) => {
    if (!isMap(node)) return mismatch(context, node, path, expected);
    const before = context.problems.size;
    const value: Record<string, T> = {};
    for (const pair of node.items) {
      const keyNode = pair.key as Node | null;
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        problem(context, keyNode ?? node, path, 'keys here are names (strings)');
        continue;
      }
      const name = keyNode.value;
      const why = key(name);
      if (why !== undefined) {
        problem(context, keyNode, [...path, name], why);
        continue;
      }
      const valueNode = pair.value === null || pair.value === undefined ? undefined : context.source.deref(pair.value as Node);
      if (valueNode === undefined) {
        problem(context, keyNode, [...path, name], 'has no value');
        continue;
      }
      const read = item(valueNode, [...path, name], context);
      if (read !== undefined) value[name] = read;
    }
    return context.problems.size === before ? value : undefined;
  };
}

/** Reads a node by its kind: a scalar, a list or a mapping, each with its own reader. */
export function byKind<S, L, M>(expected: string, readers: { readonly scalar?: Read<S>; readonly list?: Read<L>; readonly map?: Read<M> }): Read<S | L | M> {
  return (node, path, context) => {
    const read: Read<S | L | M> | undefined = isMap(node) ? readers.map : isSeq(node) ? readers.list : isScalar(node) && node.value !== null ? readers.scalar : undefined;
    return read === undefined ? mismatch(context, node, path, expected) : read(node, path, context);
  };
}

/** A problem about the value at `path`, placed by the path (for rules checked after reading). */
export function problemAt(context: ReadContext, path: Path, message: string): void {
  context.problems.add(context.source.locate(path), formatPath(path), message);
}
