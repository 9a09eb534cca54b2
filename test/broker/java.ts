import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MissingToolError } from './errors';

/** An installed Java runtime. */
export interface JavaRuntime {
  /** The JDK's home directory (the one holding `bin/java`). */
  readonly home: string;
  readonly executable: string;
  /** The feature release: 17 for `17.0.15`, 8 for `1.8.0_402`. */
  readonly major: number;
  readonly version: string;
}

/** Where to look for Java runtimes. */
export interface JavaSearch {
  readonly javaHome: string | undefined;
  readonly pathDirs: readonly string[];
  /** Directories whose subdirectories are JDK homes. */
  readonly jvmDirs: readonly string[];
}

/** Where Debian, Temurin's packages and the official images install JDKs. */
export const standardJvmDirs: readonly string[] = ['/usr/lib/jvm', '/usr/local/lib/jvm', '/opt/java'];

/**
 * The Java runtimes found, in order of preference: `JAVA_HOME`, the `java` on `PATH`, then the
 * JDKs under the JVM directories, newest first. Each runtime appears once.
 */
export function installedJavaRuntimes(search: JavaSearch): JavaRuntime[] {
  const preferred: string[] = [];
  if (search.javaHome !== undefined) preferred.push(search.javaHome);
  const onPath = search.pathDirs.map((dir) => join(dir, 'java')).find((file) => existsSync(file));
  if (onPath !== undefined) preferred.push(dirname(dirname(realpathSync(onPath))));

  const installed: JavaRuntime[] = [];
  for (const dir of search.jvmDirs) {
    for (const name of safeReaddir(dir)) {
      const runtime = inspectJavaHome(join(dir, name));
      if (runtime !== undefined) installed.push(runtime);
    }
  }
  installed.sort((a, b) => b.major - a.major || a.home.localeCompare(b.home));

  const seen = new Set<string>();
  const runtimes: JavaRuntime[] = [];
  for (const runtime of [...preferred.map(inspectJavaHome), ...installed]) {
    if (runtime === undefined) continue;
    const key = realpathSync(runtime.executable);
    if (seen.has(key)) continue;
    seen.add(key);
    runtimes.push(runtime);
  }
  return runtimes;
}

/**
 * The most preferred runtime of at least `minimumMajor`.
 * @throws MissingToolError naming the version needed, what was found, and how to get one.
 */
export function findJava(minimumMajor: number, purpose: string, search: JavaSearch): JavaRuntime {
  const runtimes = installedJavaRuntimes(search);
  const suitable = runtimes.find((runtime) => runtime.major >= minimumMajor);
  if (suitable !== undefined) return suitable;
  const places = `JAVA_HOME, PATH and ${search.jvmDirs.join(', ')}`;
  const found =
    runtimes.length === 0
      ? `no JDK in ${places}`
      : `found only ${runtimes.map((r) => `Java ${r.major} (${r.home})`).join(', ')}`;
  const remedy =
    minimumMajor <= 17
      ? 'install one (Debian: apt-get install -y openjdk-17-jdk-headless) or set JAVA_HOME to one'
      : `install a JDK ${minimumMajor}+ under /usr/lib/jvm (for example Temurin ${minimumMajor} or newer) or set JAVA_HOME to one`;
  throw new MissingToolError(`Java ${minimumMajor} or newer`, purpose, `${found}; ${remedy}`);
}

function inspectJavaHome(home: string): JavaRuntime | undefined {
  const executable = join(home, 'bin', 'java');
  if (!existsSync(executable)) return undefined;
  const version = releaseVersion(home) ?? reportedVersion(executable);
  if (version === undefined) return undefined;
  return { home, executable, major: majorOf(version), version };
}

function releaseVersion(home: string): string | undefined {
  const release = join(home, 'release');
  if (!existsSync(release)) return undefined;
  const match = /^JAVA_VERSION="([^"]+)"/m.exec(readFileSync(release, 'utf8'));
  return match?.[1];
}

function reportedVersion(executable: string): string | undefined {
  const result = spawnSync(executable, ['-version'], { encoding: 'utf8', timeout: 20_000 });
  const match = /version "([^"]+)"/.exec(`${result.stderr ?? ''}${result.stdout ?? ''}`);
  return match?.[1];
}

function majorOf(version: string): number {
  const [first, second] = version.split(/[.+_-]/).map((part) => Number.parseInt(part, 10));
  return first === 1 && second !== undefined ? second : (first ?? 0);
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}
