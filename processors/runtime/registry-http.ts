import type { RegistrySpec } from './topology';

/**
 * One request to a Confluent Schema Registry REST API, with the topology's credentials, for the
 * calls `@kafkajs/confluent-schema-registry` does not offer as graphfold needs them (subject
 * compatibility; registering without its client-side compatibility check). Network failures
 * reject; any HTTP status resolves, for the caller to judge.
 */
export async function registryRequest(spec: RegistrySpec, method: 'GET' | 'PUT' | 'POST', path: string, body?: unknown): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/vnd.schemaregistry.v1+json';
  if (spec.auth !== undefined) headers['Authorization'] = `Basic ${Buffer.from(`${spec.auth.username}:${spec.auth.password}`).toString('base64')}`;
  return fetch(`${spec.url}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }), signal: AbortSignal.timeout(30_000) });
}
