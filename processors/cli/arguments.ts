import { closest } from '../../topology/suggestion';
import { UsageError } from './command';

/** One `--name` option of a command. */
export interface OptionSpec {
  readonly kind: 'string' | 'integer' | 'boolean';
  readonly description: string;
  /** The value's placeholder in help, e.g. `<file>`. */
  readonly value?: string;
  readonly required?: boolean;
  /** The smallest integer accepted. @default 0 */
  readonly min?: number;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type Parsed<S extends OptionSpec> = S extends { readonly kind: 'boolean' }
  ? boolean
  : (S extends { readonly kind: 'integer' } ? number : string) | (S extends { readonly required: true } ? never : undefined);

export type ParsedOptions<S extends OptionSpecs> = { readonly [K in keyof S]: Parsed<S[K]> };

/** A positional argument, for messages and help. */
export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
}

export interface CommandSyntax<S extends OptionSpecs> {
  /** `graphfold tail`, for messages. */
  readonly command: string;
  readonly options: S;
  /** Required positional arguments, in order. @default none */
  readonly positionals?: readonly PositionalSpec[];
}

export interface CommandLine<S extends OptionSpecs> {
  readonly options: ParsedOptions<S>;
  readonly positionals: readonly string[];
  /** `--help` or `-h` was given: print the help, ignore the rest. */
  readonly help: boolean;
}

/**
 * Parses `--name value`, `--name=value`, boolean `--flag`, and positionals (`--` ends options).
 * Every mistake is a {@link UsageError} naming the option and, for a misspelt one, the option meant.
 */
export function parseArguments<S extends OptionSpecs>(args: readonly string[], syntax: CommandSyntax<S>): CommandLine<S> {
  const fail = (message: string): never => {
    throw new UsageError(syntax.command, message);
  };
  if (args.some((arg, i) => (arg === '--help' || arg === '-h') && !args.slice(0, i).includes('--'))) {
    return { options: {} as ParsedOptions<S>, positionals: [], help: true };
  }
  const values: Record<string, string | number | boolean> = {};
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      positionals.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const name = arg.slice(2, equals < 0 ? undefined : equals);
    const spec = arg.startsWith('--') && Object.hasOwn(syntax.options, name) ? syntax.options[name] : undefined;
    if (spec === undefined) {
      const near = closest(arg.replace(/^-+/, '').split('=')[0] as string, Object.keys(syntax.options));
      fail(`unknown option ${arg.split('=')[0] as string}${near === undefined ? '' : `; did you mean --${near}?`}`);
      continue;
    }
    if (Object.hasOwn(values, name)) fail(`--${name} is given twice`);
    if (spec.kind === 'boolean') {
      if (equals >= 0) fail(`--${name} takes no value`);
      values[name] = true;
      continue;
    }
    let value: string | undefined;
    if (equals >= 0) value = arg.slice(equals + 1);
    else {
      value = args[i + 1];
      if (value === undefined || (value.startsWith('--') && value.length > 2)) fail(`--${name} needs a value: --${name} ${spec.value ?? '<value>'}`);
      i++;
    }
    values[name] = spec.kind === 'integer' ? integer(name, value as string, spec.min ?? 0, fail) : (value as string);
  }
  for (const [name, spec] of Object.entries(syntax.options)) {
    if (spec.required === true && !Object.hasOwn(values, name)) fail(`--${name} ${spec.value ?? '<value>'} is required`);
    if (spec.kind === 'boolean' && !Object.hasOwn(values, name)) values[name] = false;
  }
  const expected = syntax.positionals ?? [];
  if (positionals.length < expected.length) fail(`missing ${(expected[positionals.length] as PositionalSpec).name}`);
  if (positionals.length > expected.length) fail(`unexpected argument '${positionals[expected.length] as string}'`);
  return { options: values as ParsedOptions<S>, positionals, help: false };
}

function integer(name: string, text: string, min: number, fail: (message: string) => never): number {
  const value = /^[0-9]+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) fail(`--${name} expects a whole number of at least ${min}, got '${text}'`);
  return value;
}

/** The options part of a command's help: one line per option, aligned. */
export function optionsHelp(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => [`--${name}${spec.value === undefined ? '' : ` ${spec.value}`}`, `${spec.description}${spec.required === true ? ' (required)' : ''}`] as const);
  const rowsWithHelp = [...rows, ['--help', 'show this help'] as const];
  const width = Math.max(...rowsWithHelp.map(([left]) => left.length));
  return rowsWithHelp.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`).join('\n');
}
