import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaSpec } from './topology';

/**
 * A kafkajs client for a topology's cluster. kafkajs' own logger stays silent: it logs every
 * retried protocol error (a coordinator still loading, a concurrent transaction) at ERROR, while
 * failures that matter reach graphfold as rejected promises and are logged there, with context.
 */
export function kafkaClient(spec: KafkaSpec, clientIdSuffix?: string): Kafka {
  const config: KafkaConfig = {
    clientId: clientIdSuffix === undefined ? spec.clientId : `${spec.clientId}-${clientIdSuffix}`,
    brokers: [...spec.brokers],
    connectionTimeout: spec.connectionTimeoutMs,
    requestTimeout: spec.requestTimeoutMs,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  if (spec.ssl !== false) config.ssl = { ...spec.ssl };
  if (spec.sasl !== undefined) config.sasl = { mechanism: spec.sasl.mechanism, username: spec.sasl.username, password: spec.sasl.password.reveal() } as SASLOptions;
  return new Kafka(config);
}
