/**
 * Kafka's rules for the names a topology gives: topics, and the application and processor names
 * that make up consumer groups, transactional ids and store directories.
 */

const legalCharacters = /^[A-Za-z0-9._-]+$/;

/** Why `name` cannot be a Kafka topic name (Kafka's own rules), or undefined. */
export function topicNameProblem(name: string): string | undefined {
  if (name === '') return 'a topic name cannot be empty';
  if (name.length > 249) return `'${name.slice(0, 40)}...' is ${name.length} characters long; Kafka allows topic names of at most 249`;
  if (name === '.' || name === '..') return `'${name}' is not a valid topic name`;
  const illegal = [...name].find((c) => !legalCharacters.test(c));
  if (illegal !== undefined) {
    return `'${name}' is not a valid topic name: Kafka allows only letters, digits, '.', '_' and '-' (found ${JSON.stringify(illegal)}); e.g. '${name.replace(/[^A-Za-z0-9._-]+/g, '-')}'`;
  }
  if (name.startsWith('__')) return `'${name}' starts with '__', which Kafka reserves for its internal topics`;
  return undefined;
}

/**
 * Kafka refuses a topic whose name differs from an existing one only by '.' versus '_' (they
 * collide in metric names); two topic names with the same key collide.
 */
export function collisionKey(topic: string): string {
  return topic.replace(/\./g, '_');
}

/** Why `name` cannot name an application or processor (used in group ids, transactional ids, directories), or undefined. */
export function idNameProblem(name: string): string | undefined {
  if (name === '' || name === '.' || name === '..') return `'${name}' is not a valid name: use letters, digits, '.', '_' and '-'`;
  if (name.length > 200) return `'${name.slice(0, 40)}...' is ${name.length} characters long; keep it under 200`;
  if (!legalCharacters.test(name)) return `'${name}' is not a valid name: use only letters, digits, '.', '_' and '-' (e.g. '${name.replace(/[^A-Za-z0-9._-]+/g, '-')}')`;
  return undefined;
}

/** Why `address` is not a broker address (`host:port`, `[ipv6]:port`), or undefined. */
export function brokerAddressProblem(address: string): string | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):([0-9]+)$/.exec(address);
  if (match === null) return `'${address}' is not a broker address: write host:port, e.g. kafka-1.internal:9092`;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return `'${address}' has port ${port}; a port is from 1 to 65535`;
  return undefined;
}

/** Why `url` is not a schema registry URL (http or https), or undefined. */
export function registryUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `'${url}' is not a URL: write the registry's base URL, e.g. http://schema-registry:8081`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `'${url}' is not an http or https URL`;
  if (parsed.username !== '' || parsed.password !== '') return `'${parsed.host}' URL carries credentials; put them in registry.username and registry.password instead`;
  return undefined;
}
