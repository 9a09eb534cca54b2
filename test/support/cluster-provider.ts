import { leaseLocalCluster } from '../broker/local-cluster';
import { dockerAnswers, startDockerCluster } from './docker-cluster';
import { clusterFromEnvironment } from './environment';
import type { ClusterAddresses } from './environment';

/** Where the integration tests' cluster came from. */
export type ClusterOrigin = 'environment' | 'docker' | 'local';

export interface ProvidedCluster {
  readonly addresses: ClusterAddresses;
  readonly origin: ClusterOrigin;
  /** Gives the cluster back: stops what this run started, leaves alone what it was given. */
  release(): Promise<void>;
}

/** The name of the local cluster the test harness leases (separate from the CLI's and the demo's). */
export const testClusterName = 'test-cluster';

/**
 * The cluster for one test run, first match wins:
 * 1. `KAFKA_BROKERS` and `SCHEMA_REGISTRY_URL` set: that cluster, used as is.
 * 2. A Docker engine answers: Kafka and a Confluent Schema Registry in containers.
 * 3. Otherwise the local broker and Apicurio Registry from Maven Central (test/broker), leased so
 *    that concurrent runs share it and the last one out stops it.
 */
export async function provideCluster(progress: (line: string) => void): Promise<ProvidedCluster> {
  const given = clusterFromEnvironment();
  if (given !== undefined) {
    progress(`testing against KAFKA_BROKERS=${given.brokers.join(',')} SCHEMA_REGISTRY_URL=${given.registryUrl}`);
    return { addresses: given, origin: 'environment', release: async () => undefined };
  }
  if (await dockerAnswers()) {
    progress('starting Kafka and Schema Registry containers');
    const docker = await startDockerCluster();
    return { addresses: docker.addresses, origin: 'docker', release: () => docker.stop() };
  }
  const lease = await leaseLocalCluster({ name: testClusterName, onProgress: progress });
  progress(`${lease.cluster.reused ? 'reusing' : 'started'} the local cluster: ${lease.cluster.brokers.join(',')} ${lease.cluster.registryUrl}`);
  return {
    addresses: { brokers: lease.cluster.brokers, registryUrl: lease.cluster.registryUrl },
    origin: 'local',
    release: async () => {
      await lease.release();
    },
  };
}

const providedClusterKey = Symbol.for('graphfold.integration.providedCluster');
type ClusterHolder = { [providedClusterKey]?: ProvidedCluster };

/** Keeps the provided cluster for the global teardown (setup and teardown share jest's main process). */
export function holdProvidedCluster(provided: ProvidedCluster): void {
  (globalThis as ClusterHolder)[providedClusterKey] = provided;
}

/** The cluster the global setup kept, handed out once. */
export function takeProvidedCluster(): ProvidedCluster | undefined {
  const holder = globalThis as ClusterHolder;
  const provided = holder[providedClusterKey];
  delete holder[providedClusterKey];
  return provided;
}
