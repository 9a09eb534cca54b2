import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClusterStartError } from './errors';
import type { JavaRuntime } from './java';
import { isMarkedProcessAlive, launchJvm, logTail } from './jvm-process';

/**
 * Apicurio Registry from its runnable archive on Maven Central, with in-memory storage, on loopback.
 * Clients use its Confluent-compatible API under `/apis/ccompat/v7`.
 */

/** The newest release served by Maven Central here (3.1.x and 3.0.x archives are not). */
export const apicurioVersion = '3.3.3';
/** Apicurio Registry 3.2 and later run on Java 21 or newer. */
export const apicurioMinimumJava = 21;

export interface ApicurioLaunch {
  readonly java: JavaRuntime;
  /** Where the archive was unpacked (holds `quarkus-run.jar`). */
  readonly home: string;
  /** The registry's own directory: log and scratch space. */
  readonly dir: string;
  readonly port: number;
  /** Quarkus' management interface; it listens even when unused, so it gets a free port too. */
  readonly managementPort: number;
  readonly marker: string;
}

export interface LaunchedApicurio {
  readonly pid: number;
  /** The Confluent-compatible base URL: `http://127.0.0.1:<port>/apis/ccompat/v7`. */
  readonly url: string;
  readonly logFile: string;
}

export async function launchApicurio(launch: ApicurioLaunch): Promise<LaunchedApicurio> {
  const scratch = join(launch.dir, 'tmp');
  await mkdir(scratch, { recursive: true });
  const logFile = join(launch.dir, 'registry.log');
  const pid = launchJvm({
    executable: launch.java.executable,
    args: [
      '-Xms128m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      `-Djava.io.tmpdir=${scratch}`,
      '-Dquarkus.http.host=127.0.0.1',
      `-Dquarkus.http.port=${launch.port}`,
      '-Dquarkus.management.host=127.0.0.1',
      `-Dquarkus.management.port=${launch.managementPort}`,
      '-Dquarkus.log.console.json=false',
      // Subjects without a rule of their own are checked BACKWARD, the Confluent registry's default;
      // `graphfold topology apply` gives each of its subjects one (schemas/README.md, "Evolution").
      '-Dapicurio.rules.global.compatibility=BACKWARD',
      '-jar',
      join(launch.home, 'quarkus-run.jar'),
    ],
    marker: launch.marker,
    cwd: launch.dir,
    logFile,
  });
  return { pid, url: `http://127.0.0.1:${launch.port}/apis/ccompat/v7`, logFile };
}

/** Resolves once `GET <url>/subjects` answers 200; fails at once if the JVM exits. */
export async function awaitApicurioReady(registry: LaunchedApicurio, marker: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isMarkedProcessAlive(registry.pid, marker)) {
      throw new ClusterStartError(
        `Apicurio Registry exited while starting; its log (${registry.logFile}) ends:\n${await logTail(registry.logFile)}`,
      );
    }
    if (await registryAnswers(registry.url, 2_000)) return;
    await sleep(250);
  }
  throw new ClusterStartError(
    `Apicurio Registry did not answer ${registry.url}/subjects within ${timeoutMs} ms; its log (${registry.logFile}) ends:\n${await logTail(registry.logFile)}`,
  );
}

/** True when a Confluent-compatible registry at `url` lists its subjects within `timeoutMs`. */
export async function registryAnswers(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}
