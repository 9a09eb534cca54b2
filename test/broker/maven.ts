import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { ArtifactFetchError, MissingToolError } from './errors';

/**
 * Maven as a fetcher of runnable artifacts from Maven Central. Artifacts land in the local Maven
 * repository (`~/.m2`, or wherever `MAVEN_OPTS=-Dmaven.repo.local=...` points); what is derived
 * from them (a classpath, an unpacked archive) is kept in the graphfold cache, outside the clone.
 */

/** The directory of one of the poms under `test/broker/maven/`, from source or from `dist/`. */
export function mavenProject(name: 'kafka' | 'kafka-tools' | 'apicurio'): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const pom = join(dir, 'test', 'broker', 'maven', name, 'pom.xml');
    if (existsSync(pom)) return pom;
    if (dirname(dir) === dir) {
      throw new ArtifactFetchError(`test/broker/maven/${name}/pom.xml not found above ${__dirname}: run from a graphfold clone`);
    }
  }
}

/**
 * The runtime classpath of the Kafka broker (`kafka_2.13` plus a log4j2 binding), resolved once
 * and cached under `cacheDir` keyed by the pom and version. Later calls do not start Maven.
 */
export function kafkaClasspath(cacheDir: string, kafkaVersion: string): Promise<string[]> {
  return cachedClasspath(cacheDir, 'kafka', kafkaVersion, `to fetch Apache Kafka ${kafkaVersion} from Maven Central`);
}

/**
 * The classpath of Kafka's command-line tools (`kafka-tools`: `kafka-acls` and the others), which
 * the broker does not need: the security tests run the `kafka-acls` commands `topology describe`
 * prints with it. Cached like {@link kafkaClasspath}.
 */
export function kafkaToolsClasspath(cacheDir: string, kafkaVersion: string): Promise<string[]> {
  return cachedClasspath(cacheDir, 'kafka-tools', kafkaVersion, `to fetch the Apache Kafka ${kafkaVersion} tools from Maven Central`);
}

async function cachedClasspath(cacheDir: string, project: 'kafka' | 'kafka-tools', kafkaVersion: string, purpose: string): Promise<string[]> {
  const pom = mavenProject(project);
  const key = createHash('sha256')
    .update(await readFile(pom))
    .update(kafkaVersion)
    .digest('hex')
    .slice(0, 12);
  const cacheFile = join(cacheDir, `${project}-${kafkaVersion}-${key}.classpath`);
  const cached = await readClasspath(cacheFile);
  if (cached !== undefined) return cached;

  await mkdir(cacheDir, { recursive: true });
  const partial = `${cacheFile}.${process.pid}.partial`;
  await runMaven(pom, [
    'dependency:build-classpath',
    `-Dkafka.version=${kafkaVersion}`,
    `-Dmdep.outputFile=${partial}`,
    `-Dmdep.pathSeparator=${delimiter}`,
  ], purpose);
  await rename(partial, cacheFile);
  const resolved = await readClasspath(cacheFile);
  if (resolved === undefined) {
    throw new ArtifactFetchError(`Maven wrote a classpath with missing jars to ${cacheFile}; delete it and retry`);
  }
  return resolved;
}

/**
 * The home of Apicurio Registry's runnable archive (`io.apicurio:apicurio-registry-app:<v>:tar.gz:all`),
 * unpacked once under `cacheDir`. The unpack goes to a scratch directory that is renamed into
 * place when complete, so a killed unpack never leaves a half archive that looks whole.
 */
export async function apicurioHome(cacheDir: string, version: string): Promise<string> {
  const home = join(cacheDir, `apicurio-registry-${version}`);
  if (existsSync(join(home, 'quarkus-run.jar'))) return home;

  await mkdir(cacheDir, { recursive: true });
  const scratch = await mkdtemp(join(cacheDir, `apicurio-registry-${version}.partial-`));
  try {
    const unpacked = join(scratch, 'archive');
    await runMaven(mavenProject('apicurio'), [
      'dependency:unpack@apicurio',
      `-Dapicurio.version=${version}`,
      `-Dapicurio.home=${unpacked}`,
      `-Dapicurio.markers=${join(scratch, 'markers')}`,
    ], `to fetch Apicurio Registry ${version} from Maven Central`);
    if (!existsSync(join(unpacked, 'quarkus-run.jar'))) {
      throw new ArtifactFetchError(
        `the Apicurio Registry ${version} archive has no quarkus-run.jar at its root; pick a 3.3+ version in test/broker/apicurio-registry.ts`,
      );
    }
    await rm(home, { recursive: true, force: true });
    await rename(unpacked, home);
    return home;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function readClasspath(file: string): Promise<string[] | undefined> {
  if (!existsSync(file)) return undefined;
  const entries = (await readFile(file, 'utf8')).trim().split(delimiter).filter((entry) => entry !== '');
  return entries.length > 0 && entries.every((entry) => existsSync(entry)) ? entries : undefined;
}

async function runMaven(pom: string, args: readonly string[], purpose: string): Promise<void> {
  const output: string[] = [];
  const exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn('mvn', ['-B', '-q', '-f', pom, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') {
        reject(new MissingToolError('Maven (mvn)', purpose, 'install it (Debian: apt-get install -y maven) or put mvn on PATH'));
      } else {
        reject(new ArtifactFetchError(`could not start mvn ${purpose}: ${error.message}`, { cause: error }));
      }
    });
    child.on('close', (code) => resolve(code ?? 1));
  });
  if (exitCode !== 0) {
    const tail = output.join('').split('\n').filter((line) => line.trim() !== '').slice(-15).join('\n');
    throw new ArtifactFetchError(
      `mvn failed (exit ${exitCode}) ${purpose}; check that Maven Central is reachable and ~/.m2/settings.xml is sane. Maven said:\n${tail}`,
    );
  }
}

