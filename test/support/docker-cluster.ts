import { KafkaContainer } from '@testcontainers/kafka';
import { GenericContainer, Network, Wait, getContainerRuntimeClient } from 'testcontainers';
import type { ClusterAddresses } from './environment';

/**
 * Kafka and a Confluent Schema Registry in containers, for machines with a Docker engine. The
 * images are Confluent's, because `@testcontainers/kafka` drives their start script.
 */

export const dockerKafkaImage = 'confluentinc/cp-kafka:8.1.0';
export const dockerRegistryImage = 'confluentinc/cp-schema-registry:8.1.0';

export interface DockerCluster {
  readonly addresses: ClusterAddresses;
  /** Stops both containers and removes their network. */
  stop(): Promise<void>;
}

/** True when a container runtime answers (testcontainers' own discovery: DOCKER_HOST, the socket, ...). */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startDockerCluster(): Promise<DockerCluster> {
  const network = await new Network().start();
  const kafka = await new KafkaContainer(dockerKafkaImage)
    .withNetwork(network)
    .withNetworkAliases('kafka')
    .withEnvironment({
      KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_NUM_PARTITIONS: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: '1',
    })
    .start();
  try {
    const registry = await new GenericContainer(dockerRegistryImage)
      .withNetwork(network)
      .withExposedPorts(8081)
      .withEnvironment({
        SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
        SCHEMA_REGISTRY_LISTENERS: 'http://0.0.0.0:8081',
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'PLAINTEXT://kafka:9092',
        SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL: 'backward',
      })
      .withWaitStrategy(Wait.forHttp('/subjects', 8081).forStatusCode(200))
      .start();
    return {
      addresses: {
        brokers: [`${kafka.getHost()}:${kafka.getMappedPort(9093)}`],
        registryUrl: `http://${registry.getHost()}:${registry.getMappedPort(8081)}`,
      },
      async stop() {
        await registry.stop();
        await kafka.stop();
        await network.stop();
      },
    };
  } catch (error) {
    await kafka.stop();
    await network.stop();
    throw error;
  }
}
