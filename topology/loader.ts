import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { FatalError } from '../processors/errors';
import type { Topology } from '../processors/runtime/topology';
import { compileTopology } from './compile';
import { addDefaults } from './defaults';
import { readTopologyInput } from './input-reader';
import type { Environment } from './interpolation';
import { ProblemList, TopologyError } from './problems';
import { YamlSource } from './yaml-source';

export interface LoadOptions {
  /**
   * The variables `${VAR}` reads. This module is the only one of graphfold that reads the
   * process environment, and only here.
   * @default process.env
   */
  readonly env?: Environment;
  /**
   * Values for the variables `env` does not set (the test driver gives the cluster's, which it
   * never connects to). @default {}
   */
  readonly fallback?: Environment;
  /** Where the default state directory goes (`<tmpDir>/graphfold/<application>`). @default os.tmpdir() */
  readonly tmpDir?: string;
}

export interface ParseOptions extends LoadOptions {
  /** The directory relative paths resolve against. @default the directory of `origin` */
  readonly baseDir?: string;
}

/**
 * Reads a topology file (YAML) and compiles it into a frozen {@link Topology}: the documented
 * input of `input.ts`, defaults applied, checked, paths resolved against the file's directory,
 * TLS and graph-schema files read. Throws a {@link TopologyError} listing every mistake with its
 * file, line and column, or a FatalError when the file cannot be read at all.
 */
export function loadTopology(file: string, options: LoadOptions = {}): Topology {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : (code ?? (error as Error).message);
    throw new FatalError(`cannot read the topology file ${file}: ${reason}; name a topology YAML file, e.g. topology/demo.yaml`, {}, { cause: error });
  }
  return parseTopology(text, file, options);
}

/** {@link loadTopology} for text in hand; `origin` names it in messages and in `Topology.origin`. */
export function parseTopology(text: string, origin: string, options: ParseOptions = {}): Topology {
  const env = { ...options.fallback, ...definedOf(options.env ?? process.env) };
  const problems = new ProblemList();
  const source = YamlSource.parse(text, origin, problems);
  const context = { source, problems, env };
  const input = problems.size === 0 ? readTopologyInput(context) : undefined;
  const topology =
    input === undefined
      ? undefined
      : compileTopology(addDefaults(input, { tmpDir: options.tmpDir ?? tmpdir() }), { ...context, origin, baseDir: resolve(options.baseDir ?? dirname(origin)) });
  if (topology === undefined || problems.size > 0) throw new TopologyError(origin, problems.all);
  return topology;
}

/** The variables of `env` that have a value. */
function definedOf(env: Environment): Environment {
  return Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined));
}
