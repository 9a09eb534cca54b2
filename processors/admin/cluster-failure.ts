import { GraphfoldError, RetriableError } from '../errors';
import type { KafkaSpec, RegistrySpec } from '../runtime/topology';

/**
 * A failure talking to the Kafka cluster (a kafkajs error: unreachable brokers, refused
 * credentials, timeouts) as a RetriableError that names the cluster and what to check. A
 * graphfold error passes through unchanged.
 */
export function clusterFailure(error: unknown, spec: KafkaSpec, doing: string): GraphfoldError {
  if (error instanceof GraphfoldError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RetriableError(
    `Kafka cluster at ${spec.brokers.join(',')}: cannot ${doing}: ${message}; check that the brokers are up and reachable, and kafka.brokers, kafka.tls and kafka.sasl in the topology`,
    {},
    { cause: error },
  );
}

/** The same for the schema registry. */
export function registryFailure(error: unknown, spec: RegistrySpec, doing: string): GraphfoldError {
  if (error instanceof GraphfoldError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RetriableError(`schema registry at ${spec.url}: cannot ${doing}: ${message}; check that it is up, and registry.url (and its credentials) in the topology`, {}, { cause: error });
}
