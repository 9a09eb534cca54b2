import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
import type { KafkaSpec } from './topology';

/**
 * A kafkajs client for a topology's cluster. kafkajs' own logger stays silent: it logs every
 * retried protocol error (a coordinator still loading, a concurrent transaction) at ERROR, while
 * failures that matter reach graphfold as rejected promises and are logged there, with context.
 */
export function kafkaClient(spec: KafkaSpec, clientIdSuffix?: string): Kafka {
  dropKafkajsTimerWarning();
  const config: KafkaConfig = {
    clientId: clientIdSuffix === undefined ? spec.clientId : `${spec.clientId}-${clientIdSuffix}`,
    brokers: [...spec.brokers],
    connectionTimeout: spec.connectionTimeoutMs,
    requestTimeout: spec.requestTimeoutMs,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  if (spec.ssl !== false) config.ssl = { ...spec.ssl };
  if (spec.sasl !== undefined) config.sasl = { ...spec.sasl } as SASLOptions;
  return new Kafka(config);
}

let dropping = false;

/**
 * kafkajs 2.2.4 (its last release) schedules its request queue's check with a negative delay when
 * nothing is throttled (kafkajs issue 1751); Node 24 prints a TimeoutNegativeWarning for it on
 * every connection, into every command's stderr. Node then waits 1 ms, which is what kafkajs
 * meant. That warning, raised from inside kafkajs, is dropped; every other warning is printed by
 * the listeners that were there before, as before.
 */
function dropKafkajsTimerWarning(): void {
  if (dropping) return;
  dropping = true;
  const listeners = process.listeners('warning');
  process.removeAllListeners('warning');
  process.on('warning', (warning) => {
    if (warning.name === 'TimeoutNegativeWarning' && warning.stack?.includes('kafkajs') === true) return;
    for (const listener of listeners) listener(warning);
  });
}
