import { Agent } from 'node:https';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { RegistrySpec } from './topology';

/** Retries of registry requests (the client retries network failures and 5xx answers only). */
export interface RegistryRetry {
  readonly retries: number;
  readonly initialRetryTimeInSecs: number;
  readonly maxRetryTimeInSecs: number;
}

/**
 * A Confluent Schema Registry API client for a topology's registry: basic auth when the topology
 * names a user (the password revealed to the client alone), and for an `https://` URL with `tls`
 * options an agent that trusts their CA (and presents their client certificate).
 */
export function registryClient(spec: RegistrySpec, retry?: RegistryRetry): SchemaRegistry {
  const { tls, auth } = spec;
  const agent =
    tls === undefined
      ? undefined
      : new Agent({
          keepAlive: true,
          rejectUnauthorized: tls.rejectUnauthorized,
          ...(tls.ca === undefined ? {} : { ca: tls.ca }),
          ...(tls.cert === undefined ? {} : { cert: tls.cert }),
          ...(tls.key === undefined ? {} : { key: tls.key }),
        });
  return new SchemaRegistry({
    host: spec.url,
    clientId: 'graphfold',
    ...(retry === undefined ? {} : { retry: { ...retry } }),
    ...(agent === undefined ? {} : { agent }),
    ...(auth === undefined ? {} : { auth: { username: auth.username, password: auth.password.reveal() } }),
  });
}
