import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ClusterStartError } from './errors';
import type { JavaRuntime } from './java';

/**
 * The certificates of a secured local cluster, made for each run with the JDK's keytool (the
 * broker needs a JDK anyway, so nothing else has to be installed) into the run's own directory,
 * and deleted with it: nothing here is ever committed or reused.
 *
 * - a test CA, which signs the server certificates; its PEM is what clients trust;
 * - the server certificate (CN=localhost, SAN IP:127.0.0.1 and DNS:localhost), for the broker's
 *   SASL_SSL listener and the registry's HTTPS port;
 * - two bad server certificates from the same CA, for listeners that exist to be refused: one for
 *   another host name (`wrong-host.invalid`) and one that expired days ago;
 * - a second CA that signs nothing, for a client that trusts the wrong CA.
 */
export interface TlsMaterial {
  /** PEM of the CA that signed every server certificate. */
  readonly caPem: string;
  /** PEM of a CA that signed nothing of this cluster. */
  readonly untrustedCaPem: string;
  /** PKCS12 keystores (key, certificate, CA chain), all under {@link storePassword}. */
  readonly serverKeystore: string;
  readonly wrongHostKeystore: string;
  readonly expiredKeystore: string;
  /** PKCS12 store holding the CA certificate, for the broker's own client connections. */
  readonly truststore: string;
  readonly storePassword: string;
}

/** Makes the material under `dir/tls`. `storePassword` protects the keystores (PKCS12 needs one). */
export async function generateTlsMaterial(java: JavaRuntime, dir: string, storePassword: string): Promise<TlsMaterial> {
  const tls = join(dir, 'tls');
  await mkdir(tls, { recursive: true, mode: 0o700 });
  const keytool = join(java.home, 'bin', 'keytool');
  const file = (name: string): string => join(tls, name);
  const run = (...args: string[]): Promise<void> => runKeytool(keytool, [...args, '-storepass', storePassword]);
  const store = (name: string): string[] => ['-keystore', file(name), '-storetype', 'PKCS12'];
  const keyPair = (name: string, dname: string, extensions: string[] = []): Promise<void> =>
    run('-genkeypair', '-alias', 'key', '-dname', dname, '-keyalg', 'EC', '-groupname', 'secp256r1', '-validity', '30', ...extensions, ...store(name));

  // 1. Two CAs and the three server key pairs (independent keytool runs, started together).
  await Promise.all([
    keyPair('ca.p12', 'CN=graphfold test CA', ['-ext', 'bc:c']),
    keyPair('untrusted-ca.p12', 'CN=graphfold untrusted test CA', ['-ext', 'bc:c']),
    keyPair('server.p12', 'CN=localhost'),
    keyPair('wrong-host.p12', 'CN=wrong-host.invalid'),
    keyPair('expired.p12', 'CN=localhost'),
  ]);
  // 2. The CAs' certificates as PEM, and a signing request per server key.
  await Promise.all([
    run('-exportcert', '-rfc', '-alias', 'key', ...store('ca.p12'), '-file', file('ca.pem')),
    run('-exportcert', '-rfc', '-alias', 'key', ...store('untrusted-ca.p12'), '-file', file('untrusted-ca.pem')),
    ...['server', 'wrong-host', 'expired'].map((name) => run('-certreq', '-alias', 'key', ...store(`${name}.p12`), '-file', file(`${name}.csr`))),
  ]);
  // 3. The CA signs them: the right names; another name; the right names but expired two days ago.
  const serverNames = ['-ext', 'SAN=ip:127.0.0.1,dns:localhost'];
  const sign = (name: string, validity: string[], extensions: string[]): Promise<void> =>
    run('-gencert', '-rfc', '-alias', 'key', ...store('ca.p12'), '-infile', file(`${name}.csr`), '-outfile', file(`${name}.pem`), '-ext', 'EKU=serverAuth,clientAuth', ...extensions, ...validity);
  await Promise.all([
    sign('server', ['-validity', '30'], serverNames),
    sign('wrong-host', ['-validity', '30'], ['-ext', 'SAN=dns:wrong-host.invalid']),
    sign('expired', ['-startdate', '-10d', '-validity', '8'], serverNames),
  ]);
  // 4. Each keystore takes the CA certificate, then its signed certificate (the chain), and the
  //    truststore the CA certificate alone.
  const install = async (name: string): Promise<void> => {
    await run('-importcert', '-noprompt', '-alias', 'ca', '-file', file('ca.pem'), ...store(`${name}.p12`));
    await run('-importcert', '-noprompt', '-alias', 'key', '-file', file(`${name}.pem`), ...store(`${name}.p12`));
  };
  await Promise.all([
    install('server'),
    install('wrong-host'),
    install('expired'),
    run('-importcert', '-noprompt', '-alias', 'ca', '-file', file('ca.pem'), ...store('truststore.p12')),
  ]);
  return {
    caPem: file('ca.pem'),
    untrustedCaPem: file('untrusted-ca.pem'),
    serverKeystore: file('server.p12'),
    wrongHostKeystore: file('wrong-host.p12'),
    expiredKeystore: file('expired.p12'),
    truststore: file('truststore.p12'),
    storePassword,
  };
}

async function runKeytool(keytool: string, args: readonly string[]): Promise<void> {
  const output: string[] = [];
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(keytool, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  if (code !== 0) {
    const operation = args.find((arg) => arg.startsWith('-')) ?? '';
    throw new ClusterStartError(`keytool ${operation} failed (exit ${code}) making the secured cluster's certificates:\n${output.join('').trimEnd()}`);
  }
}
