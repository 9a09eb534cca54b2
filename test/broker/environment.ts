import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * What the local cluster tooling takes from the process environment. This is the only module of
 * `test/broker/` that reads `process.env`; everything else receives these values.
 */
export interface BrokerToolingEnvironment {
  /**
   * Cache for resolved classpaths, unpacked archives and the cluster state, outside the clone.
   * From `GRAPHFOLD_CACHE_DIR`, else `$XDG_CACHE_HOME/graphfold`, else `~/.cache/graphfold`.
   */
  readonly cacheDir: string;
  /** `JAVA_HOME`, when set. Searched first for a JDK. */
  readonly javaHome: string | undefined;
  /** The directories of `PATH`, searched for `java`. */
  readonly pathDirs: readonly string[];
}

export function readBrokerToolingEnvironment(): BrokerToolingEnvironment {
  const env = process.env;
  const xdgCache = nonEmpty(env['XDG_CACHE_HOME']);
  const cacheDir =
    nonEmpty(env['GRAPHFOLD_CACHE_DIR']) ?? join(xdgCache ?? join(homedir(), '.cache'), 'graphfold');
  return Object.freeze({
    cacheDir,
    javaHome: nonEmpty(env['JAVA_HOME']),
    pathDirs: Object.freeze((env['PATH'] ?? '').split(':').filter((dir) => dir !== '')),
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
