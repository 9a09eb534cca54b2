import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readClusterState } from '../broker/cluster-state';
import type { ClusterState } from '../broker/cluster-state';
import { MissingToolError } from '../broker/errors';
import { findJava, standardJvmDirs } from '../broker/java';
import { isMarkedProcessAlive, markedProcesses, processExists } from '../broker/jvm-process';
import { localClusterStateDir, localClusterStatus, startLocalCluster, stopLocalCluster } from '../broker/local-cluster';
import { compiledModule } from '../support/compiled';
import { childEnvironment } from '../support/environment';
import { uniqueName } from '../support/kafka';
import { waitFor } from '../support/wait-for';

/**
 * The local broker tooling itself, on a cluster of its own (not the one the other tests use), driven
 * from child processes that are killed the way a test run can be.
 */
const toolingPrefix = 'tooling-test-';

describe('local cluster tooling', () => {
  // The pid in the name lets a later run find and stop the cluster of a run that was killed.
  const name = `${toolingPrefix}${process.pid}-${uniqueName('run')}`;
  const stateDir = localClusterStateDir({ name });

  beforeAll(async () => {
    await stopAbandonedToolingClusters(dirname(stateDir));
  });

  const children: ChildProcess[] = [];
  const startInChild = (): ChildProcess => {
    const child = startClusterInChild(name);
    children.push(child);
    return child;
  };

  afterAll(async () => {
    await Promise.all(children.map(kill));
    await stopLocalCluster({ name });
    await rm(stateDir, { recursive: true, force: true });
  });

  test('a run killed after starting leaves a cluster that the next start reuses and the next stop ends', async () => {
    const child = startInChild();
    const first = await readyLine(child);
    await kill(child);
    const state = await recordedState(stateDir);
    expect(processesOf(state).every((p) => isMarkedProcessAlive(p.pid, p.marker))).toBe(true);

    const again = await startLocalCluster({ name });
    expect(again.reused).toBe(true);
    expect({ brokers: again.brokers, registryUrl: again.registryUrl }).toEqual(first);

    expect(await stopLocalCluster({ name })).toEqual({ stopped: true });
    expect(processesOf(state).some((p) => isMarkedProcessAlive(p.pid, p.marker))).toBe(false);
    expect(existsSync(state.dir)).toBe(false);
    expect(await stopLocalCluster({ name })).toEqual({ stopped: false });
    expect(await localClusterStatus({ name })).toEqual({ state: 'stopped' });
  });

  test('a run killed while starting leaves nothing running after the next stop', async () => {
    const child = startInChild();
    const state = await waitFor('the child to launch both JVMs', async () => {
      const recorded = await readClusterState(stateDir);
      return recorded?.phase === 'starting' && recorded.kafka !== undefined && recorded.registry !== undefined ? recorded : undefined;
    }, { timeoutMs: 90_000, intervalMs: 20 });
    await kill(child);
    expect((await localClusterStatus({ name })).state).toBe('stale');

    expect(await stopLocalCluster({ name })).toEqual({ stopped: true });
    const runPrefix = processesOf(state)[0]?.marker.split('/').slice(0, 2).join('/') ?? 'no-marker';
    expect(markedProcesses(`${runPrefix}/`)).toEqual([]);
    expect(existsSync(state.dir)).toBe(false);
    expect(await localClusterStatus({ name })).toEqual({ state: 'stopped' });
  });

  test('a start without Maven on PATH fails with one error line that names Maven', async () => {
    const scratch = await mkdtemp(join(tmpdir(), 'graphfold-no-maven-'));
    try {
      const bin = join(scratch, 'bin');
      await symlinkNode(bin);
      const result = await run(process.execPath, [compiledModule('test/broker/cli.ts'), 'start'], {
        PATH: bin,
        JAVA_HOME: undefined,
        GRAPHFOLD_CACHE_DIR: join(scratch, 'cache'),
      });
      expect(result.code).toBe(1);
      const errors = result.stderr.split('\n').filter((line) => line.startsWith('error:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^error: Maven \(mvn\) is needed to fetch Apache Kafka .* from Maven Central and was not found: install it/);
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  });

  test('a missing JDK is named with the version needed and the runtimes found', () => {
    const search = { javaHome: undefined, pathDirs: [], jvmDirs: standardJvmDirs };
    const call = (): unknown => findJava(99, 'to run the test', search);
    expect(call).toThrow(MissingToolError);
    expect(call).toThrow(/^Java 99 or newer is needed to run the test and was not found: found only Java \d+ \(/);
    expect(() => findJava(17, 'to run the test', { javaHome: undefined, pathDirs: [], jvmDirs: [] })).toThrow(
      /no JDK in JAVA_HOME, PATH and ; install one \(Debian: apt-get install -y openjdk-17-jdk-headless\)/,
    );
  });
});

/** Stops and removes the tooling clusters of test runs whose process is gone (killed runs). */
async function stopAbandonedToolingClusters(cacheDir: string): Promise<void> {
  for (const entry of await readdir(cacheDir)) {
    const owner = new RegExp(`^${toolingPrefix}(\\d+)-`).exec(entry)?.[1];
    if (owner === undefined || processExists(Number(owner))) continue;
    await stopLocalCluster({ name: entry });
    await rm(join(cacheDir, entry), { recursive: true, force: true });
  }
}

/**
 * A child process that starts the named cluster, prints its addresses as JSON and then idles until
 * killed, or until this process goes away (it exits when its IPC channel closes).
 */
function startClusterInChild(name: string): ChildProcess {
  const script = `
    process.on('disconnect', () => process.exit(0));
    const { startLocalCluster } = require(${JSON.stringify(compiledModule('test/broker/local-cluster.ts'))});
    startLocalCluster({ name: ${JSON.stringify(name)} }).then(
      (c) => { process.stdout.write(JSON.stringify({ brokers: c.brokers, registryUrl: c.registryUrl }) + '\\n'); setInterval(() => {}, 60000); },
      (e) => { process.stderr.write(String(e && e.stack || e) + '\\n'); process.exit(1); });`;
  return spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
}

async function readyLine(child: ChildProcess): Promise<{ brokers: string[]; registryUrl: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const line = await waitFor(
    'the child to report a started cluster',
    () => {
      if (child.exitCode !== null) throw new Error(`the child exited (${child.exitCode}): ${stderr}`);
      return stdout.includes('\n') ? stdout.split('\n')[0] : undefined;
    },
    { timeoutMs: 100_000 },
  );
  return JSON.parse(line) as { brokers: string[]; registryUrl: string };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function recordedState(stateDir: string): Promise<ClusterState> {
  const state = await readClusterState(stateDir);
  if (state === undefined) throw new Error(`no cluster state in ${stateDir}`);
  return state;
}

function processesOf(state: ClusterState): { pid: number; marker: string }[] {
  return [state.kafka, state.registry].filter((p) => p !== undefined);
}

/** A directory holding only `node`, to stand in for a PATH without Maven. */
async function symlinkNode(bin: string): Promise<void> {
  await mkdir(bin, { recursive: true });
  await symlink(process.execPath, join(bin, 'node'));
}

function run(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: childEnvironment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
