import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
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
  /** Set for a secured registry: HTTPS only, on `port`, and HTTP basic auth on every API. @default plain HTTP, no auth */
  readonly security?: RegistrySecurity;
}

/**
 * Apicurio 3.3 checks basic auth itself: Quarkus' HTTP basic mechanism over its embedded user
 * list (`quarkus.security.users.embedded.*`, built into the archive), which Apicurio's auth chain
 * then requires on its APIs, the Confluent-compatible one included (an unauthenticated request
 * gets 401). No OIDC server is involved.
 */
export interface RegistrySecurity {
  /** PKCS12 keystore with the server key and certificate. */
  readonly keystore: string;
  readonly storePassword: string;
  /** Basic-auth users: name to password. */
  readonly users: Readonly<Record<string, string>>;
}

/** How a client reaches a secured registry: TLS trusting `ca` (PEM text), basic auth as a user. */
export interface RegistryCredentials {
  readonly ca: string;
  readonly username: string;
  readonly password: string;
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
  const { security } = launch;
  if (security !== undefined) await writeSecuredConfig(launch.dir, launch.port, security);
  const pid = launchJvm({
    executable: launch.java.executable,
    args: [
      '-Xms128m',
      '-Xmx512m',
      '-XX:+UseSerialGC',
      '-XX:+ExitOnOutOfMemoryError',
      `-Djava.io.tmpdir=${scratch}`,
      '-Dquarkus.http.host=127.0.0.1',
      // A secured registry takes its ports and users from config/application.properties, so that
      // no password is on a command line.
      ...(security === undefined ? [`-Dquarkus.http.port=${launch.port}`] : []),
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
  return { pid, url: `${security === undefined ? 'http' : 'https'}://127.0.0.1:${launch.port}/apis/ccompat/v7`, logFile };
}

/**
 * Quarkus reads `config/application.properties` under its working directory (the registry's
 * directory) at start. Its properties, as far as they are Quarkus' own, are documented at
 * quarkus.io (HTTP TLS, basic auth, embedded users).
 */
async function writeSecuredConfig(dir: string, port: number, security: RegistrySecurity): Promise<void> {
  const settings: Record<string, string> = {
    'quarkus.http.ssl-port': String(port),
    'quarkus.http.insecure-requests': 'disabled',
    'quarkus.http.ssl.certificate.key-store-file': security.keystore,
    'quarkus.http.ssl.certificate.key-store-file-type': 'PKCS12',
    'quarkus.http.ssl.certificate.key-store-password': security.storePassword,
    'quarkus.http.auth.basic': 'true',
    'quarkus.security.users.embedded.plain-text': 'true',
  };
  for (const [user, password] of Object.entries(security.users)) {
    settings[`quarkus.security.users.embedded.users.${user}`] = password;
    settings[`quarkus.security.users.embedded.roles.${user}`] = 'sr-admin';
  }
  await mkdir(join(dir, 'config'), { recursive: true, mode: 0o700 });
  const text = Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n');
  await writeFile(join(dir, 'config', 'application.properties'), `${text}\n`, { mode: 0o600 });
}

/** Resolves once `GET <url>/subjects` answers 200; fails at once if the JVM exits. */
export async function awaitApicurioReady(registry: LaunchedApicurio, marker: string, timeoutMs: number, credentials?: RegistryCredentials): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isMarkedProcessAlive(registry.pid, marker)) {
      throw new ClusterStartError(
        `Apicurio Registry exited while starting; its log (${registry.logFile}) ends:\n${await logTail(registry.logFile)}`,
      );
    }
    if (await registryAnswers(registry.url, 2_000, credentials)) return;
    await sleep(250);
  }
  throw new ClusterStartError(
    `Apicurio Registry did not answer ${registry.url}/subjects within ${timeoutMs} ms; its log (${registry.logFile}) ends:\n${await logTail(registry.logFile)}`,
  );
}

/** True when a Confluent-compatible registry at `url` lists its subjects within `timeoutMs` (as `credentials`' user, for a secured one). */
export async function registryAnswers(url: string, timeoutMs: number, credentials?: RegistryCredentials): Promise<boolean> {
  if (credentials !== undefined) return (await securedGet(`${url}/subjects`, credentials, timeoutMs)) === 200;
  try {
    const response = await fetch(`${url}/subjects`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** The status of an HTTPS GET with basic auth, trusting only `credentials.ca`; 0 when it fails to connect. */
function securedGet(url: string, credentials: RegistryCredentials, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
    const req = request(url, { ca: credentials.ca, headers: { authorization: `Basic ${auth}` }, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}
