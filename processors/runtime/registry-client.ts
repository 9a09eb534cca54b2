import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import type { RegistrySpec } from './topology';

/** Retries of registry requests (the client retries network failures and 5xx answers only). */
export interface RegistryRetry {
  readonly retries: number;
  readonly initialRetryTimeInSecs: number;
  readonly maxRetryTimeInSecs: number;
}

/** An `https://` agent that trusts the topology's CA (and presents its client certificate); undefined without `tls`. */
function tlsAgent(spec: RegistrySpec): Agent | undefined {
  const { tls } = spec;
  return tls === undefined
    ? undefined
    : new Agent({
        keepAlive: true,
        rejectUnauthorized: tls.rejectUnauthorized,
        ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        ...(tls.cert === undefined ? {} : { cert: tls.cert }),
        ...(tls.key === undefined ? {} : { key: tls.key }),
      });
}

/**
 * A Confluent Schema Registry API client for a topology's registry: basic auth when the topology
 * names a user (the password revealed to the client alone), and for an `https://` URL with `tls`
 * options an agent that trusts their CA (and presents their client certificate).
 */
export function registryClient(spec: RegistrySpec, retry?: RegistryRetry): SchemaRegistry {
  const { auth } = spec;
  const agent = tlsAgent(spec);
  return new SchemaRegistry({
    host: spec.url,
    clientId: 'graphfold',
    ...(retry === undefined ? {} : { retry: { ...retry } }),
    ...(agent === undefined ? {} : { agent }),
    ...(auth === undefined ? {} : { auth: { username: auth.username, password: auth.password.reveal() } }),
  });
}

/** An answer of the registry's REST API: any status, for the caller to judge. */
export interface RegistryResponse {
  readonly ok: boolean;
  readonly status: number;
  text(): Promise<string>;
  json(): Promise<unknown>;
}

/**
 * One request to a Confluent Schema Registry REST API, with the topology's credentials and TLS
 * settings, for the calls `@kafkajs/confluent-schema-registry` does not offer as graphfold needs
 * them (subject compatibility; registering without its client-side compatibility check). Network
 * failures reject; any HTTP status resolves.
 */
export function registryRequest(spec: Pick<RegistrySpec, 'url'> & Partial<RegistrySpec>, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<RegistryResponse> {
  const url = new URL(`${spec.url}${path}`);
  const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  if (payload !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
  if (spec.auth !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${spec.auth.username}:${spec.auth.password.reveal()}`).toString('base64')}`;
  const agent = spec.tls === undefined ? undefined : tlsAgent(spec as RegistrySpec);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(url, { method, headers, timeout: 30_000, ...(agent === undefined ? {} : { agent }) }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        const status = res.statusCode ?? 0;
        resolve({ ok: status >= 200 && status < 300, status, text: () => Promise.resolve(text), json: () => Promise.resolve().then(() => JSON.parse(text) as unknown) });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
