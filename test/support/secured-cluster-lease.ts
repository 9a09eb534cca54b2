import { leaseLocalCluster, type LocalClusterLease } from '../broker/local-cluster';
import { publishSecuredCluster } from './environment';

/** The name of the secured local cluster the security project leases (beside test-cluster). */
export const securedClusterName = 'secured-cluster';

const leaseKey = Symbol.for('graphfold.security.clusterLease');
type LeaseHolder = { [leaseKey]?: LocalClusterLease };

/**
 * Leases the secured local cluster (SASL_SSL with SCRAM-SHA-512, ACLs, the registry over HTTPS
 * with basic auth), publishes it to the test workers and keeps the lease for the teardown. It is
 * always the local one, whatever KAFKA_BROKERS says: the tests make its certificates and users,
 * which no external cluster would hand over.
 */
export async function leaseSecuredCluster(progress: (line: string) => void): Promise<void> {
  const lease = await leaseLocalCluster({ name: securedClusterName, secured: true, onProgress: progress });
  const { reused, ...cluster } = lease.cluster;
  const { security } = cluster;
  if (security === undefined) throw new Error(`the local cluster ${securedClusterName} came back without security`);
  progress(`${reused ? 'reusing' : 'started'} the secured cluster: ${cluster.brokers.join(',')} ${cluster.registryUrl}`);
  publishSecuredCluster({ ...cluster, security });
  (globalThis as LeaseHolder)[leaseKey] = lease;
}

/** Gives the lease back (the last holder stops the cluster). Setup and teardown share jest's main process. */
export async function releaseSecuredCluster(): Promise<void> {
  const holder = globalThis as LeaseHolder;
  const lease = holder[leaseKey];
  delete holder[leaseKey];
  await lease?.release();
}
