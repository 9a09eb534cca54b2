import { apicurioVersion } from './apicurio-registry';
import { LocalClusterError } from './errors';
import { kafkaVersion } from './kafka-broker';
import type { LocalCluster, SecuredClusterAccess } from './local-cluster';

/** Lines that tell a user where the cluster is and how to point graphfold and the tests at it. */
export function clusterAddressLines(cluster: LocalCluster & { readonly security?: SecuredClusterAccess }): string[] {
  const { security } = cluster;
  if (security !== undefined) {
    return [
      `Kafka ${kafkaVersion} broker (SASL_SSL, SCRAM-SHA-512, ACLs):  ${cluster.brokers.join(',')}`,
      `Apicurio Registry ${apicurioVersion} (HTTPS, basic auth):        ${cluster.registryUrl}`,
      `CA certificate (PEM):   ${security.caFile}`,
      `Passwords (JSON, 0600): ${security.credentialsFile}  (users: admin is a super user; deployer and processor have no ACL until granted)`,
      `Refused on purpose:     ${security.badListeners.wrongHostname} (certificate for another host name), ${security.badListeners.expiredCertificate} (expired certificate)`,
    ];
  }
  return [
    `Kafka ${kafkaVersion} broker:        ${cluster.brokers.join(',')}`,
    `Apicurio Registry ${apicurioVersion}:  ${cluster.registryUrl}`,
    '',
    'To use them from another shell (the tests then use them instead of starting their own):',
    `  export KAFKA_BROKERS=${cluster.brokers.join(',')}`,
    `  export SCHEMA_REGISTRY_URL=${cluster.registryUrl}`,
  ];
}

/** A failure as one message: the operator-facing message of our own errors, the stack of anything else. */
export function describeFailure(error: unknown): string {
  if (error instanceof LocalClusterError) return error.message;
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
