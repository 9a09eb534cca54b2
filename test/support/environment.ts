import type { StartedLocalCluster } from '../broker/local-cluster';

/**
 * What the integration tests take from the process environment. This is the only module of
 * `test/support/` that reads or writes `process.env`.
 *
 * - `KAFKA_BROKERS` (comma-separated `host:port`) and `SCHEMA_REGISTRY_URL` (a Confluent Schema
 *   Registry base URL): an existing cluster to test against. Set both or neither.
 * - The global setup publishes the cluster it provides through the same two variables, which the
 *   test workers (child processes of jest) inherit.
 * - `GRAPHFOLD_SECURED_CLUSTER`: the secured cluster the security project's global setup leased
 *   (its addresses and the paths of its CA and credentials files, as JSON; no password).
 */
export interface ClusterAddresses {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
}

/** The cluster named by the environment, or undefined when neither variable is set. */
export function clusterFromEnvironment(): ClusterAddresses | undefined {
  const brokers = (process.env['KAFKA_BROKERS'] ?? '')
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker !== '');
  const registryUrl = (process.env['SCHEMA_REGISTRY_URL'] ?? '').trim();
  if (brokers.length === 0 && registryUrl === '') return undefined;
  if (brokers.length === 0 || registryUrl === '') {
    throw new Error(
      `KAFKA_BROKERS is ${brokers.length === 0 ? 'unset' : 'set'} but SCHEMA_REGISTRY_URL is ${registryUrl === '' ? 'unset' : 'set'}: set both to test against an existing cluster, or neither to let the tests start one`,
    );
  }
  return Object.freeze({ brokers: Object.freeze(brokers), registryUrl: registryUrl.replace(/\/+$/, '') });
}

/** Hands the cluster to the test workers the global setup is about to start. */
export function publishCluster(cluster: ClusterAddresses): void {
  process.env['KAFKA_BROKERS'] = cluster.brokers.join(',');
  process.env['SCHEMA_REGISTRY_URL'] = cluster.registryUrl;
}

/** The environment for a child process of a test: this process's, with `changes` applied (undefined removes). */
export function childEnvironment(changes: Readonly<Record<string, string | undefined>>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** The secured cluster of this run: addresses, logs, and where its CA and passwords are. */
export type SecuredClusterAddresses = Omit<StartedLocalCluster, 'reused'> & { readonly security: NonNullable<StartedLocalCluster['security']> };

const securedClusterVariable = 'GRAPHFOLD_SECURED_CLUSTER';

/** Hands the secured cluster to the security project's test workers. */
export function publishSecuredCluster(cluster: SecuredClusterAddresses): void {
  process.env[securedClusterVariable] = JSON.stringify(cluster);
}

/** The secured cluster the security project's global setup published, or undefined outside it. */
export function securedClusterFromEnvironment(): SecuredClusterAddresses | undefined {
  const text = process.env[securedClusterVariable];
  return text === undefined || text === '' ? undefined : (JSON.parse(text) as SecuredClusterAddresses);
}
