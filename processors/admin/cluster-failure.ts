import { GraphfoldError, RetriableError } from '../errors';
import { accessRefusal, registryRefusal, type Attempt } from '../runtime/access-refusal';
import type { KafkaSpec, RegistrySpec } from '../runtime/topology';

/**
 * A failure talking to the Kafka cluster (a kafkajs error) as a graphfold error that names the
 * cluster and what to check: a refusal (credentials, ACLs, certificates) as the fatal
 * AccessRefusedError, naming what `attempt` needs; anything else (unreachable brokers, timeouts)
 * as a RetriableError. A graphfold error passes through unchanged.
 */
export function clusterFailure(error: unknown, spec: KafkaSpec, doing: string, attempt?: Attempt): GraphfoldError {
  if (error instanceof GraphfoldError) return error;
  const refusal = accessRefusal(error, spec, attempt);
  if (refusal !== undefined) return refusal;
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
  const refusal = registryRefusal(error, spec, doing);
  if (refusal !== undefined) return refusal;
  const message = error instanceof Error ? error.message : String(error);
  return new RetriableError(`schema registry at ${spec.url}: cannot ${doing}: ${message}; check that it is up, and registry.url (and its credentials) in the topology`, {}, { cause: error });
}
