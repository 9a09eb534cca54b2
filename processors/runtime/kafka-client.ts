import { connect as netConnect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Kafka, logLevel, type ISocketFactory, type KafkaConfig, type RetryOptions, type SASLOptions } from 'kafkajs';
import { accessRefusal, certificateProblem, type AccessRefusedError } from './access-refusal';
import type { KafkaSpec } from './topology';

/**
 * A kafkajs client for a topology's cluster. kafkajs' own logger stays silent: it logs every
 * retried protocol error (a coordinator still loading, a concurrent transaction) at ERROR, while
 * failures that matter reach graphfold as rejected promises and are logged there, with context.
 *
 * `options.onRefused` hears at once of a broker certificate that does not verify. kafkajs takes
 * any connection error for a network hiccup and retries it for seconds before giving up; a
 * certificate will not verify on the next try either, so the caller stops instead.
 * `options.retry` replaces the retries of every request (the default gives up after about 30 s).
 */
export function kafkaClient(
  spec: KafkaSpec,
  clientIdSuffix?: string,
  options: { readonly onRefused?: (refusal: AccessRefusedError) => void; readonly retry?: RetryOptions; readonly requestTimeoutMs?: number } = {},
): Kafka {
  dropKafkajsTimerWarning();
  const config: KafkaConfig = {
    clientId: clientIdSuffix === undefined ? spec.clientId : `${spec.clientId}-${clientIdSuffix}`,
    brokers: [...spec.brokers],
    connectionTimeout: spec.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs ?? spec.requestTimeoutMs,
    logLevel: logLevel.NOTHING,
    retry: options.retry ?? { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
  if (spec.ssl !== false) config.ssl = { ...spec.ssl };
  if (spec.sasl !== undefined) config.sasl = { mechanism: spec.sasl.mechanism, username: spec.sasl.username, password: spec.sasl.password.reveal() } as SASLOptions;
  if (options.onRefused !== undefined) config.socketFactory = reportingSocketFactory(spec, options.onRefused);
  return new Kafka(config);
}

/**
 * kafkajs' default socket factory (`src/network/socketFactory.js`: TLS with the host as server
 * name unless it is an IP address, keep-alive every 60 s), kept here because kafkajs offers no
 * other hook on a socket's errors: this one also reports certificate failures.
 */
function reportingSocketFactory(spec: KafkaSpec, onRefused: (refusal: AccessRefusedError) => void): ISocketFactory {
  return ({ host, port, ssl, onConnect }) => {
    const socket = ssl ? tlsConnect({ host, port, ...(isIP(host) === 0 ? { servername: host } : {}), ...ssl }, onConnect) : netConnect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (certificateProblem(error) === undefined) return;
      const refusal = accessRefusal(Object.assign(new Error(error.message, { cause: error }), { broker: `${host}:${port}` }), spec);
      if (refusal !== undefined) onRefused(refusal);
    });
    return socket;
  };
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
