import { partitionerNames } from '../processors/codec/partitioner';
import { readGraphSchema } from './graph-schema';
import { saslMechanisms, type FollowerInput, type KafkaInput, type OpsInput, type ProcessorInput, type QueryInput, type RegistryInput, type SaslInput, type SnapshotsInput, type StoreInput, type TlsInput, type TopologyInput } from './input';
import { brokerAddressProblem, idNameProblem, registryUrlProblem, topicNameProblem } from './kafka-names';
import { boolean, byKind, byteSize, duration, integer, list, object, oneOf, problem, secret, string, type ReadContext } from './reader';

/** Reads a topology file's root into its documented input shape, or reports why not. */
export function readTopologyInput(context: ReadContext): TopologyInput | undefined {
  const root = context.source.root;
  if (root === undefined) {
    return problem(context, undefined, [], 'the file is empty; a topology needs application, kafka, registry and processors (see topology/demo.yaml)');
  }
  return topology(root, [], context);
}

const nonEmpty = (what: string) => (text: string) => (text.trim() === '' ? `${what} cannot be empty` : undefined);

const topicName = string('a topic name (string)', topicNameProblem);

const brokers = byKind<string, string[], never>('broker addresses: a list such as [kafka-1:9092, kafka-2:9092], or one comma-separated string', {
  scalar: string('broker addresses (host:port, comma-separated)', (text) => {
    const addresses = text.split(',').map((a) => a.trim()).filter((a) => a !== '');
    if (addresses.length === 0) return 'no broker address: write host:port, or several separated by commas';
    return addresses.map(brokerAddressProblem).find((why) => why !== undefined);
  }),
  list: list('a list of broker addresses', string('a broker address (host:port)', brokerAddressProblem), { minItems: 1, unique: true }),
});

const pem = string('a PEM file path or PEM text', nonEmpty('a PEM file path'));

const tlsOptions = object<TlsInput>(
  'TLS options: a mapping with ca, cert, key and rejectUnauthorized',
  {
    ca: { read: pem },
    cert: { read: pem },
    key: { read: pem },
    rejectUnauthorized: { read: boolean() },
  },
  (tls, node, path, context) => {
    if ((tls.cert === undefined) !== (tls.key === undefined)) {
      problem(context, node, [...path, tls.cert === undefined ? 'cert' : 'key'], 'mutual TLS needs both cert and key: add the missing one, or remove the other');
    }
  },
);

const sasl = object<SaslInput>(
  'SASL options: a mapping with mechanism, username and password (or passwordFile)',
  {
    mechanism: { read: oneOf(saslMechanisms), required: `write one of ${saslMechanisms.join(', ')}` },
    username: { read: string('a user name', nonEmpty('the user name')), required: 'write the SASL user name' },
    password: { read: secret('passwordFile') },
    passwordFile: { read: string('a file path', nonEmpty('the password file path')) },
  },
  (sasl, node, path, context) => {
    if (sasl.password === undefined && sasl.passwordFile === undefined) {
      problem(context, node, [...path, 'password'], 'missing; write the password as ${VAR} (an environment variable), e.g. password: ${KAFKA_PASSWORD}, or passwordFile: <path of a file holding it>');
    } else if (sasl.password !== undefined && sasl.passwordFile !== undefined) {
      problem(context, node, [...path, 'passwordFile'], 'give the password once: password or passwordFile, not both');
    }
  },
);

const kafka = object<KafkaInput>('Kafka options: a mapping with brokers (and clientId, tls, sasl, timeouts)', {
  brokers: { read: brokers, required: 'write the brokers, e.g. brokers: ${KAFKA_BROKERS} or brokers: [kafka-1:9092]' },
  clientId: { read: string('a client id', nonEmpty('the client id')) },
  tls: { read: byKind<boolean, never, TlsInput>('true, false, or TLS options (ca, cert, key, rejectUnauthorized)', { scalar: boolean(), map: tlsOptions }) },
  sasl: { read: sasl },
  connectionTimeoutMs: { read: integer(1, 600_000) },
  requestTimeoutMs: { read: integer(1, 600_000) },
});

const registry = object<RegistryInput>(
  'registry options: a mapping with url (and username, password or passwordFile, tls)',
  {
    url: { read: string('a URL', registryUrlProblem), required: 'write the schema registry URL, e.g. url: ${SCHEMA_REGISTRY_URL}' },
    username: { read: string('a user name', nonEmpty('the user name')) },
    password: { read: secret('passwordFile') },
    passwordFile: { read: string('a file path', nonEmpty('the password file path')) },
    tls: { read: tlsOptions },
  },
  (registry, node, path, context) => {
    const hasPassword = registry.password !== undefined || registry.passwordFile !== undefined;
    if ((registry.username === undefined) === hasPassword) {
      problem(context, node, [...path, registry.username === undefined ? 'username' : 'password'], 'basic auth needs both username and password (or passwordFile): add the missing one, or remove the other');
    } else if (registry.password !== undefined && registry.passwordFile !== undefined) {
      problem(context, node, [...path, 'passwordFile'], 'give the password once: password or passwordFile, not both');
    }
    if (registry.tls !== undefined && !registry.url.startsWith('https://')) {
      problem(context, node, [...path, 'tls'], `TLS options apply to an https:// registry URL; the URL is ${registry.url}: make it https://, or remove tls`);
    }
  },
);

const store = object<StoreInput>('store options: a mapping with dir, cachedAtoms, cacheBytes and writeBufferBytes', {
  dir: { read: string('a directory path', nonEmpty('the state directory')) },
  cachedAtoms: { read: integer(1) },
  cacheBytes: { read: byteSize(1024 * 1024) },
  writeBufferBytes: { read: byteSize(64 * 1024) },
});

const processor = object<ProcessorInput>('a processor: a mapping with name, inputs, diffs, rejections, ...', {
  name: { read: string('a processor name', idNameProblem), required: 'write a name, e.g. name: crm' },
  inputs: { read: list('a list of topic names, e.g. [crm-instructions]', topicName, { minItems: 1, unique: true }), required: 'write the topics this processor reads, e.g. inputs: [crm-instructions]' },
  diffs: { read: topicName },
  rejections: { read: topicName },
  partitions: { read: integer(1, 100_000) },
  replicationFactor: { read: integer(1, 32_767) },
  schema: { read: byKind('a graph schema (a mapping) or the path of a file holding one', { scalar: string('a file path', nonEmpty('the schema path')), map: readGraphSchema }) },
  maxInstructions: { read: integer(1) },
  maxRecordBytes: { read: byteSize(1) },
  concurrency: { read: integer(1, 1024) },
  sessionTimeoutMs: { read: integer(6_000, 3_600_000) },
  standbys: { read: integer(0, 16) },
  taskTimeoutMs: { read: integer(1_000, 86_400_000) },
  partitioner: { read: oneOf(partitionerNames) },
  carryHeaders: { read: list('a list of header names, e.g. [traceparent, tracestate]', string('a header name', headerNameProblem), { unique: true }) },
});

const opsListen = string('host:port, e.g. 127.0.0.1:9464', (text) => {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  if (match === null) return `'${text}' is not host:port (e.g. 127.0.0.1:9464, or 0.0.0.0:9464 to be scraped from other hosts)`;
  return Number(match[2]) > 65_535 ? `port ${match[2]} is out of range: 0 (any free port) to 65535` : undefined;
});

const ops = object<OpsInput>('ops options: a mapping with listen', {
  listen: { read: opsListen, required: 'write the address to serve /metrics, /healthz and /readyz on, e.g. listen: 127.0.0.1:9464' },
});

function headerNameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'a header name cannot be empty';
  return name.toLowerCase().startsWith('graphfold-') ? `'${name}' is a header graphfold writes itself; carry another one` : undefined;
}

const listenAddress = string('host:port, e.g. 127.0.0.1:7070', (text) => {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  if (match === null) return `'${text}' is not host:port (e.g. 127.0.0.1:7070, or 0.0.0.0:7070 to serve other hosts)`;
  return Number(match[2]) > 65_535 ? `port ${match[2]} is out of range: 0 (any free port) to 65535` : undefined;
});

const httpUrl = string('an http:// or https:// URL', (text) => (/^https?:\/\/[^\s/]+(\/[^\s]*)?$/.test(text) ? undefined : `'${text}' is not an http:// or https:// URL, e.g. http://graphfold-1:7070`));

const query = object<QueryInput>('query options: a mapping with listen (and advertise, token, maxHops, maxLimit, maxStreams, requestTimeoutMs)', {
  listen: { read: listenAddress, required: 'write the address to serve on, e.g. listen: 127.0.0.1:7070' },
  advertise: { read: httpUrl },
  token: { read: string('a bearer token', (text) => (text.length < 16 ? 'the token is shorter than 16 characters: use a long random one, e.g. from openssl rand -hex 32' : undefined)) },
  maxHops: { read: integer(1, 16) },
  maxLimit: { read: integer(1, 1_000_000) },
  maxStreams: { read: integer(1, 100_000) },
  maxWaitMs: { read: integer(100, 600_000) },
  requestTimeoutMs: { read: integer(1_000, 600_000) },
});

const snapshots = object<SnapshotsInput>('snapshot options: a mapping with dir (and every, retain)', {
  dir: { read: string('a directory path', nonEmpty('the snapshot directory')), required: 'write the directory snapshots go to (local, or shared by every instance), e.g. dir: /mnt/graphfold-snapshots' },
  every: { read: duration(1_000, 7 * 24 * 3_600_000) },
  retain: { read: integer(1, 1_000) },
  minSavedRecords: { read: integer(1) },
});

const follower = object<FollowerInput>('a follower: a mapping with name and diffs (and partitioner)', {
  name: { read: string('a follower name', idNameProblem), required: 'write a name, e.g. name: crm-copy' },
  diffs: { read: topicName, required: 'write the diffs topic to follow, e.g. diffs: crm-diffs' },
  partitioner: { read: oneOf(partitionerNames) },
});

const topology = object<TopologyInput>('a topology: a mapping with application, kafka, registry, store and processors', {
  application: { read: string('an application name', idNameProblem), required: 'write the application name, e.g. application: crm-graph' },
  kafka: { read: kafka, required: 'write the cluster, e.g. kafka: { brokers: ${KAFKA_BROKERS} }' },
  registry: { read: registry, required: 'write the schema registry, e.g. registry: { url: ${SCHEMA_REGISTRY_URL} }' },
  store: { read: store },
  query: { read: query },
  ops: { read: ops },
  processors: { read: list('a list of processors', processor, { minItems: 1 }), required: 'write at least one processor (name, inputs, diffs, rejections)', unlessGiven: 'followers' },
  snapshots: { read: snapshots },
  followers: { read: list('a list of followers', follower, { minItems: 1 }) },
});
