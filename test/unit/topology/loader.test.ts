import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { FatalError } from '../../../processors/errors';
import type { Topology } from '../../../processors/runtime/topology';
import { loadTopology, parseTopology, type ParseOptions } from '../../../topology/loader';
import { formatProblem, TopologyError } from '../../../topology/problems';

const repo = resolve(__dirname, '../../..');
const fixtures = join(repo, 'test/fixtures/topology');
const env = { KAFKA_BROKERS: 'k1:9092,k2:9092', SCHEMA_REGISTRY_URL: 'http://registry:8081' };
const defaults: ParseOptions = { env, tmpDir: '/tmp/machine', baseDir: '/srv/graphfold' };

/** Lines joined, so that a test reads its line numbers off the array. */
const yaml = (...lines: string[]): string => `${lines.join('\n')}\n`;

/** A directory with a password file (a final newline, which is not part of the password) and a CA file. */
const secretsDir = mkdtempSync(join(tmpdir(), 'graphfold-loader-secrets-'));
writeFileSync(join(secretsDir, 'registry-password'), 'pw\n');
writeFileSync(join(secretsDir, 'ca.pem'), readFileSync(join(fixtures, 'self-signed-cert.pem'), 'utf8'));

const head = ['application: app', 'kafka:', '  brokers: k1:9092', 'registry:', '  url: http://registry:8081'];

function load(text: string, options: ParseOptions = {}): Topology {
  return parseTopology(text, 'topo.yaml', { ...defaults, ...options });
}

/** The mistakes a topology is refused for, formatted as the CLI prints them. */
function mistakes(text: string, options: ParseOptions = {}): string[] {
  try {
    load(text, options);
  } catch (error) {
    if (error instanceof TopologyError) return error.problems.map(formatProblem);
    throw error;
  }
  throw new Error('the topology loaded');
}

describe('topology loader: defaults and compiled form', () => {
  test('a minimal topology gets every default', () => {
    const topology = load(yaml(...head, 'processors:', '  - name: crm', '    inputs: [crm-in]'));
    expect(topology).toEqual({
      application: 'app',
      kafka: { brokers: ['k1:9092'], clientId: 'app', ssl: false, connectionTimeoutMs: 10_000, requestTimeoutMs: 30_000 },
      registry: { url: 'http://registry:8081' },
      store: { dir: '/tmp/machine/graphfold/app', cachedAtoms: 100_000, cacheBytes: 64 * 1024 * 1024, writeBufferBytes: 32 * 1024 * 1024 },
      processors: [
        {
          name: 'crm',
          inputs: ['crm-in'],
          diffs: 'crm-diffs',
          rejections: 'crm-rejections',
          partitions: 6,
          replicationFactor: 3,
          maxInstructions: 10_000,
          maxRecordBytes: 1_000_000,
          concurrency: 4,
          sessionTimeoutMs: 30_000,
          standbys: 0,
          taskTimeoutMs: 300_000,
          partitioner: 'murmur2',
          carryHeaders: ['traceparent', 'tracestate'],
        },
      ],
      followers: [],
      origin: 'topo.yaml',
    });
  });

  test('snapshots, standbys and followers: defaults, durations, and a topology of followers only', () => {
    const base = [...head, 'processors:', '  - name: crm', '    inputs: [crm-in]', '    standbys: 1'];
    const topology = load(yaml(...base, 'snapshots:', '  dir: snaps'), { baseDir: '/srv/graphfold' });
    expect(topology.snapshots).toEqual({ dir: '/srv/graphfold/snaps', everyMs: 600_000, retain: 3, minSavedRecords: 10_000 });
    expect(topology.processors[0]?.standbys).toBe(1);
    expect(load(yaml(...base, 'snapshots: { dir: /s, every: 90s, retain: 5, minSavedRecords: 1 }')).snapshots).toEqual({ dir: '/s', everyMs: 90_000, retain: 5, minSavedRecords: 1 });
    expect(load(yaml(...base, 'snapshots: { dir: /s, every: 120000 }')).snapshots?.everyMs).toBe(120_000);
    const followers = load(yaml(...head, 'followers:', '  - name: crm-copy', '    diffs: crm-diffs', '  - { name: billing, diffs: billing-diffs, partitioner: crc32 }'));
    expect(followers.processors).toEqual([]);
    expect(followers.followers).toEqual([
      { name: 'crm-copy', diffs: 'crm-diffs', partitioner: 'murmur2' },
      { name: 'billing', diffs: 'billing-diffs', partitioner: 'crc32' },
    ]);
  });

  test('snapshot, standby and follower mistakes, each at its place', () => {
    expect(mistakes(yaml(...head, 'processors:', '  - name: crm', '    inputs: [crm-in]', '    standbys: 17', 'snapshots:', '  every: 10 minutes', '  retain: 0'))).toEqual([
      'topo.yaml:9:15: processors[0].standbys: 17 is out of range: expected a whole number from 0 to 16',
      'topo.yaml:11:3: snapshots.dir: missing; write the directory snapshots go to (local, or shared by every instance), e.g. dir: /mnt/graphfold-snapshots',
      'topo.yaml:11:10: snapshots.every: \'10 minutes\' is not a duration: expected a number of milliseconds, or a number with a unit: ms, s, m, h (e.g. "10m")',
      'topo.yaml:12:11: snapshots.retain: 0 is out of range: expected a whole number from 1 to 1000',
    ]);
    expect(mistakes(yaml(...head, 'processors: [{ name: crm, inputs: [a] }]', 'snapshots: { dir: /s, every: 10ms }'))).toEqual(["topo.yaml:7:30: snapshots.every: '10ms' is out of range: expected 1000 ms to 604800000 ms"]);
    expect(mistakes(yaml(...head, 'processors: [{ name: crm, inputs: [a] }]', 'snapshots: { every: 1m }'))).toEqual(['topo.yaml:7:12: snapshots.dir: missing; write the directory snapshots go to (local, or shared by every instance), e.g. dir: /mnt/graphfold-snapshots']);
    expect(mistakes(yaml(...head, 'processors: [{ name: crm, inputs: [a] }]', 'followers: [{ name: crm, diffs: crm-diffs }, { name: x }]'))).toEqual(['topo.yaml:7:46: followers[1].diffs: missing; write the diffs topic to follow, e.g. diffs: crm-diffs']);
    expect(mistakes(yaml(...head, 'processors: [{ name: crm, inputs: [a] }]', 'followers: [{ name: crm, diffs: crm-diffs }]'))).toEqual([
      "topo.yaml:7:21: followers[0].name: name 'crm' is taken by processors[0]; a follower's name must differ from every processor's and follower's (it names stores and the query API's processor=)",
    ]);
  });

  test('a query section: loopback or any address, port 0 for a free one, defaults filled in; bad values are mistakes at their place', () => {
    const base = [...head, 'processors:', '  - name: crm', '    inputs: [crm-in]'];
    expect(load(yaml(...base, 'query:', '  listen: 127.0.0.1:0')).query).toEqual({ host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 10_000, maxStreams: 100, maxWaitMs: 30_000, requestTimeoutMs: 40_000 });
    expect(load(yaml(...base, 'query: { listen: "[::1]:7070", advertise: http://g1:7070/, maxHops: 2 }')).query).toMatchObject({ host: '::1', port: 7070, advertise: 'http://g1:7070', maxHops: 2 });
    expect(mistakes(yaml(...base, 'query:', '  listen: localhost', '  advertise: g1:7070', '  token: short', '  maxHops: 99', '  port: 1'))).toEqual([
      "topo.yaml:10:11: query.listen: 'localhost' is not host:port (e.g. 127.0.0.1:7070, or 0.0.0.0:7070 to serve other hosts)",
      "topo.yaml:11:14: query.advertise: 'g1:7070' is not an http:// or https:// URL, e.g. http://graphfold-1:7070",
      'topo.yaml:12:10: query.token: the token is shorter than 16 characters: use a long random one, e.g. from openssl rand -hex 32',
      'topo.yaml:13:12: query.maxHops: 99 is out of range: expected a whole number from 1 to 16',
      'topo.yaml:14:3: query.port: unknown option (the options here are listen, advertise, token, maxHops, maxLimit, maxStreams, maxWaitMs, requestTimeoutMs)',
    ]);
  });

  test('the compiled topology is frozen all the way down', () => {
    const topology = load(yaml(...head, 'processors:', '  - name: crm', '    inputs: [crm-in]', '    schema: { entities: [Person] }'));
    expect(Object.isFrozen(topology)).toBe(true);
    expect(Object.isFrozen(topology.kafka.brokers)).toBe(true);
    expect(Object.isFrozen(topology.processors[0]?.inputs)).toBe(true);
    expect(Object.isFrozen(topology.processors[0]?.schema?.entities)).toBe(true);
    expect(() => {
      (topology.processors as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });

  test('every option as written, sizes with units converted to bytes', () => {
    const topology = load(
      yaml(
        'application: app',
        'kafka:',
        '  brokers: [k1:9092, "[::1]:9093"]',
        '  clientId: app-client',
        '  tls: true',
        '  sasl: { mechanism: scram-sha-256, username: svc, password: "${SASL_PASSWORD}" }',
        '  connectionTimeoutMs: 2500',
        '  requestTimeoutMs: 9000',
        'registry:',
        '  url: https://registry:8081/',
        '  username: reg',
        '  passwordFile: registry-password',
        '  tls: { ca: ca.pem, rejectUnauthorized: false }',
        'store:',
        '  dir: state',
        '  cachedAtoms: 5',
        '  cacheBytes: 1.5 GiB',
        '  writeBufferBytes: 65536',
        'processors:',
        '  - name: crm',
        '    inputs: [a, b]',
        '    diffs: d',
        '    rejections: r',
        '    partitions: 12',
        '    replicationFactor: 2',
        '    maxInstructions: 7',
        '    maxRecordBytes: 512 KiB',
        '    concurrency: 1',
        '    sessionTimeoutMs: 6000',
        '    partitioner: crc32',
        '    carryHeaders: [traceparent, x-request-id]',
      ),
      { env: { SASL_PASSWORD: 'secret' }, baseDir: secretsDir },
    );
    const { sasl, ...kafka } = topology.kafka;
    expect(kafka).toEqual({
      brokers: ['k1:9092', '[::1]:9093'],
      clientId: 'app-client',
      ssl: { rejectUnauthorized: true },
      connectionTimeoutMs: 2500,
      requestTimeoutMs: 9000,
    });
    expect({ ...sasl, password: sasl?.password.reveal() }).toEqual({ mechanism: 'scram-sha-256', username: 'svc', password: 'secret' });
    expect(topology.registry.url).toBe('https://registry:8081');
    expect(topology.registry.auth?.username).toBe('reg');
    expect(topology.registry.auth?.password.reveal()).toBe('pw');
    expect(topology.registry.tls).toEqual({ rejectUnauthorized: false, ca: readFileSync(join(secretsDir, 'ca.pem'), 'utf8') });
    expect(topology.store).toEqual({ dir: join(secretsDir, 'state'), cachedAtoms: 5, cacheBytes: 1.5 * 1024 ** 3, writeBufferBytes: 65536 });
    expect(topology.processors[0]).toEqual({ name: 'crm', inputs: ['a', 'b'], diffs: 'd', rejections: 'r', partitions: 12, replicationFactor: 2, maxInstructions: 7, maxRecordBytes: 512 * 1024, concurrency: 1, sessionTimeoutMs: 6000, standbys: 0, taskTimeoutMs: 300_000, partitioner: 'crc32', carryHeaders: ['traceparent', 'x-request-id'] });
  });

  test('the demo topology loads, its cluster from the environment and its state beside the clone', () => {
    const topology = loadTopology(join(repo, 'topology/demo.yaml'), { env });
    expect(topology.application).toBe('graphfold-demo');
    expect(topology.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(topology.registry.url).toBe('http://registry:8081');
    expect(topology.store.dir).toBe(join(repo, '.cache/demo-state'));
    expect(topology.processors).toHaveLength(1);
    const crm = topology.processors[0];
    expect(crm).toMatchObject({ name: 'crm', inputs: ['crm-instructions'], diffs: 'crm-diffs', rejections: 'crm-rejections', partitions: 3, replicationFactor: 1 });
    expect(crm?.schema?.entities).toEqual(['Person', 'Company', 'Deal']);
    expect(crm?.schema?.enums?.['DealStage']).toContain('won');
    expect(crm?.schema?.relations?.['WorksAt']).toEqual({ source: ['Person'], target: ['Company'] });
    expect(crm?.schema?.relations?.['Level']).toEqual({ source: ['WorksAt'], target: ['Enum:Seniority'], cardinality: 'one' });
    expect(loadTopology(join(repo, 'topology/demo.yaml'), { env: { ...env, GRAPHFOLD_STATE_DIR: '/var/lib/graphfold' } }).store.dir).toBe('/var/lib/graphfold');
  });

  test('the production example loads: TLS file read, SASL and registry auth from the environment, schema file', () => {
    const topology = loadTopology(join(repo, 'topology/examples/production.yaml'), {
      env: {
        ...env,
        KAFKA_CA_FILE: join(fixtures, 'self-signed-cert.pem'),
        KAFKA_USERNAME: 'orders-svc',
        KAFKA_PASSWORD: 'kafka-secret',
        SCHEMA_REGISTRY_USERNAME: 'registry-user',
        SCHEMA_REGISTRY_PASSWORD: 'registry-secret',
        HOSTNAME: 'graphfold-1',
        GRAPHFOLD_TOKEN: 'a-token-of-sixteen-or-more',
      },
    });
    expect({ ...topology.query, token: topology.query?.token?.reveal() }).toEqual({ host: '0.0.0.0', port: 7070, advertise: 'http://graphfold-1:7070', token: 'a-token-of-sixteen-or-more', maxHops: 4, maxLimit: 10_000, maxStreams: 100, maxWaitMs: 30_000, requestTimeoutMs: 40_000 });
    expect(topology.kafka.ssl).toEqual({ rejectUnauthorized: true, ca: readFileSync(join(fixtures, 'self-signed-cert.pem'), 'utf8') });
    expect(topology.kafka.sasl?.mechanism).toBe('scram-sha-512');
    expect(topology.kafka.sasl?.username).toBe('orders-svc');
    expect(topology.kafka.sasl?.password.reveal()).toBe('kafka-secret');
    expect(topology.registry.auth?.username).toBe('registry-user');
    expect(topology.registry.auth?.password.reveal()).toBe('registry-secret');
    expect(topology.store).toEqual({ dir: '/var/lib/graphfold', cachedAtoms: 500_000, cacheBytes: 256 * 1024 ** 2, writeBufferBytes: 64 * 1024 ** 2 });
    const [orders, mirror] = topology.processors;
    expect(orders?.inputs).toEqual(['orders-instructions', 'orders-imports']);
    expect(orders?.schema?.entities).toEqual(['Customer', 'Order', 'Product']);
    expect(orders?.schema?.relations?.['Quantity']).toEqual({ source: ['Contains'], target: ['Int'], cardinality: 'one' });
    expect(mirror).toMatchObject({ inputs: ['orders-diffs'], partitions: 12, replicationFactor: 3 });
  });

  test('relative paths resolve against the topology file, not the working directory', () => {
    const dir = mkdtempSync(join(tmpdir(), 'graphfold-topology-'));
    writeFileSync(join(dir, 'crm.schema.json'), JSON.stringify({ entities: ['Person'] }));
    writeFileSync(join(dir, 'ca.pem'), readFileSync(join(fixtures, 'self-signed-cert.pem')));
    writeFileSync(
      join(dir, 'topology.yaml'),
      yaml('application: app', 'kafka:', '  brokers: k1:9092', '  tls: { ca: ca.pem }', 'registry: { url: "http://r:8081" }', 'store: { dir: ./state }', 'processors:', '  - { name: crm, inputs: [in], schema: crm.schema.json }'),
    );
    const topology = loadTopology(join(dir, 'topology.yaml'), { env });
    expect(topology.store.dir).toBe(join(dir, 'state'));
    expect(topology.kafka.ssl !== false && topology.kafka.ssl.ca).toContain('BEGIN CERTIFICATE');
    expect(topology.processors[0]?.schema).toEqual({ entities: ['Person'] });
  });

  test('TLS options take PEM text inline, and mutual TLS reads cert and key', () => {
    const cert = readFileSync(join(fixtures, 'self-signed-cert.pem'), 'utf8');
    const topology = load(
      yaml('application: app', 'kafka:', '  brokers: k1:9092', '  tls:', '    ca: ${CA_PEM}', `    cert: ${join(fixtures, 'self-signed-cert.pem')}`, `    key: ${join(fixtures, 'self-signed-key.pem')}`, '    rejectUnauthorized: false', 'registry: { url: "http://r:8081" }', 'processors: [{ name: crm, inputs: [in] }]'),
      { env: { ...env, CA_PEM: cert } },
    );
    expect(topology.kafka.ssl).toEqual({ rejectUnauthorized: false, ca: cert, cert, key: readFileSync(join(fixtures, 'self-signed-key.pem'), 'utf8') });
  });
});

describe('topology loader: ${VAR} interpolation', () => {
  const text = (kafka: string): string =>
    yaml('application: app', 'kafka:', kafka, 'registry: { url: "${REGISTRY:-http://fallback:8081}" }', 'processors:', '  - name: crm', '    inputs: [crm-in]', '    partitions: ${PARTITIONS:-3}');
  const topology = (kafka: string, extra: Record<string, string> = {}): Topology => load(text(kafka), { env: { ...env, ...extra } });

  test('a comma-separated ${VAR} becomes the broker list; an unset ${VAR:-default} takes the default', () => {
    const t = topology('  brokers: ${KAFKA_BROKERS}');
    expect(t.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(t.registry.url).toBe('http://fallback:8081');
    expect(t.processors[0]?.partitions).toBe(3);
  });

  test('a set variable wins over the default, in strings and in numbers; an empty one takes the default', () => {
    const t = topology('  brokers: ${KAFKA_BROKERS}', { REGISTRY: 'http://set:8081', PARTITIONS: '12' });
    expect(t.registry.url).toBe('http://set:8081');
    expect(t.processors[0]?.partitions).toBe(12);
    expect(topology('  brokers: ${KAFKA_BROKERS}', { REGISTRY: '' }).registry.url).toBe('http://fallback:8081');
  });

  test('text around variables is kept, and $$ is a literal $', () => {
    const t = load(yaml('application: app', 'kafka:', '  brokers: ${HOST}:${PORT:-9092}', '  clientId: "p$$w${SUFFIX}$"', 'registry: { url: "http://r:8081" }', 'processors: [{ name: crm, inputs: [in] }]'), {
      env: { HOST: 'kafka.internal', SUFFIX: 'rd' },
    });
    expect(t.kafka.brokers).toEqual(['kafka.internal:9092']);
    expect(t.kafka.clientId).toBe('p$wrd$');
  });

  test('an unset variable, a bad reference and a non-number are mistakes at their place', () => {
    expect(mistakes(text('  brokers: ${NOT_SET}'), { env: { PARTITIONS: 'many' } })).toEqual([
      'topo.yaml:3:12: kafka.brokers: environment variable NOT_SET is not set: set it, or write ${NOT_SET:-<default>} in the topology',
      'topo.yaml:8:17: processors[0].partitions: expected a whole number from 1 to 100000, found "many" after substituting variables',
    ]);
    expect(mistakes(text('  brokers: ${KAFKA_BROKERS'))).toEqual([
      "topo.yaml:3:12: kafka.brokers: '${KAFKA_BROKERS' has a '${' without its closing '}'; write ${VAR} or ${VAR:-default}, or $$ for a literal $",
    ]);
    expect(mistakes(text('  brokers: ${1ST}'))).toEqual([
      "topo.yaml:3:12: kafka.brokers: '${1ST}' does not name an environment variable (letters, digits and _, not starting with a digit); write ${VAR} or ${VAR:-default}",
    ]);
  });
});

describe('topology loader: mistakes, each with file, line and column', () => {
  const processors = (...lines: string[]): string => yaml(...head, 'processors:', ...lines);

  test.each([
    ['a value of the wrong type', ['  - name: crm', '    inputs: [crm-in]', '    diffs: 42'], 'topo.yaml:9:12: processors[0].diffs: expected a topic name (string), found the number 42'],
    ['a misspelt option', ['  - name: crm', '    inputs: [crm-in]', '    diff: crm-out'], 'topo.yaml:9:5: processors[0].diff: unknown option; did you mean diffs?'],
    [
      'an unknown option',
      ['  - name: crm', '    inputs: [crm-in]', '    colour: blue'],
      'topo.yaml:9:5: processors[0].colour: unknown option (the options here are name, inputs, diffs, rejections, partitions, replicationFactor, schema, maxInstructions, maxRecordBytes, concurrency, sessionTimeoutMs, standbys, taskTimeoutMs, partitioner, carryHeaders)',
    ],
    ['a partitioner graphfold does not know', ['  - name: crm', '    inputs: [a]', '    partitioner: fnv1a'], "topo.yaml:9:18: processors[0].partitioner: 'fnv1a' is not one of murmur2, crc32"],
    ['a carried header graphfold writes itself', ['  - name: crm', '    inputs: [a]', '    carryHeaders: [graphfold-rejection-code]'], "topo.yaml:9:20: processors[0].carryHeaders[0]: 'graphfold-rejection-code' is a header graphfold writes itself; carry another one"],
    ['a missing required option', ['  - name: crm'], 'topo.yaml:7:5: processors[0].inputs: missing; write the topics this processor reads, e.g. inputs: [crm-instructions]'],
    [
      'a topic name Kafka refuses',
      ['  - name: crm', '    inputs: [crm instructions]'],
      "topo.yaml:8:14: processors[0].inputs[0]: 'crm instructions' is not a valid topic name: Kafka allows only letters, digits, '.', '_' and '-' (found \" \"); e.g. 'crm-instructions'",
    ],
    ['a reserved topic name', ['  - name: crm', '    inputs: [__consumer_offsets]'], "topo.yaml:8:14: processors[0].inputs[0]: '__consumer_offsets' starts with '__', which Kafka reserves for its internal topics"],
    ['a topic name too long', ['  - name: crm', `    inputs: [${'t'.repeat(250)}]`], `topo.yaml:8:14: processors[0].inputs[0]: '${'t'.repeat(40)}...' is 250 characters long; Kafka allows topic names of at most 249`],
    ['an empty inputs list', ['  - name: crm', '    inputs: []'], 'topo.yaml:8:13: processors[0].inputs: expected a list of topic names, e.g. [crm-instructions] with at least 1 item, found an empty list'],
    ['an input listed twice', ['  - name: crm', '    inputs: [a, b, a]'], 'topo.yaml:8:20: processors[0].inputs[2]: "a" is listed twice (also at processors[0].inputs[0]); remove one'],
    ['a quoted number', ['  - name: crm', '    inputs: [a]', '    partitions: "3"'], 'topo.yaml:9:17: processors[0].partitions: expected a whole number from 1 to 100000, found the string "3" (write 3 without quotes)'],
    ['a number out of range', ['  - name: crm', '    inputs: [a]', '    concurrency: 0'], 'topo.yaml:9:18: processors[0].concurrency: 0 is out of range: expected a whole number from 1 to 1024'],
    [
      'a size without a known unit',
      ['  - name: crm', '    inputs: [a]', '    maxRecordBytes: 1 MiBs'],
      'topo.yaml:9:21: processors[0].maxRecordBytes: \'1 MiBs\' is not a size: expected a number of bytes, or a number with a unit: B, KB, MB, GB, KiB, MiB, GiB (e.g. "64 MiB")',
    ],
    ['a processor name that cannot name a group', ['  - name: crm/eu', '    inputs: [a]'], "topo.yaml:7:11: processors[0].name: 'crm/eu' is not a valid name: use only letters, digits, '.', '_' and '-' (e.g. 'crm-eu')"],
    ['a list where a mapping belongs', ['  - [crm, a]'], 'topo.yaml:7:5: processors[0]: expected a processor: a mapping with name, inputs, diffs, rejections, ..., found a list'],
  ])('%s', (_what, lines, expected) => {
    expect(mistakes(processors(...lines))).toEqual([expected]);
  });

  test.each([
    ['a broker without a port', ['  brokers: kafka-1'], "topo.yaml:3:12: kafka.brokers: 'kafka-1' is not a broker address: write host:port, e.g. kafka-1.internal:9092"],
    ['a port out of range', ['  brokers: [k:99999]'], "topo.yaml:3:13: kafka.brokers[0]: 'k:99999' has port 99999; a port is from 1 to 65535"],
    ['a misspelt SASL mechanism', ['  brokers: k:9092', '  sasl: { mechanism: scram-sha-265, username: u, password: "${P}" }'], "topo.yaml:4:22: kafka.sasl.mechanism: 'scram-sha-265' is not one of plain, scram-sha-256, scram-sha-512; did you mean scram-sha-256?"],
    [
      'SASL without a password',
      ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u }'],
      'topo.yaml:4:9: kafka.sasl.password: missing; write the password as ${VAR} (an environment variable), e.g. password: ${KAFKA_PASSWORD}, or passwordFile: <path of a file holding it>',
    ],
    [
      'a password written in the file',
      ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u, password: hunter2 }'],
      'topo.yaml:4:52: kafka.sasl.password: a password is read from an environment variable or a file, never written in the topology: write password: ${VAR} (the whole value, no default), or passwordFile: <path of a file holding it>',
    ],
    [
      'a password as the default of a variable',
      ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u, password: "${P:-hunter2}" }'],
      'topo.yaml:4:52: kafka.sasl.password: a password is read from an environment variable or a file, never written in the topology: write password: ${VAR} (the whole value, no default), or passwordFile: <path of a file holding it>',
    ],
    ['a password twice', ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u, password: "${P}", passwordFile: p.txt }'], 'topo.yaml:4:9: kafka.sasl.passwordFile: give the password once: password or passwordFile, not both'],
    ['an empty password variable', ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u, password: "${EMPTY}" }'], 'topo.yaml:4:52: kafka.sasl.password: environment variable EMPTY is empty: set it to the password'],
    ['a password file that is not there', ['  brokers: k:9092', '  sasl: { mechanism: plain, username: u, passwordFile: missing.txt }'], 'topo.yaml:4:56: kafka.sasl.passwordFile: cannot read /srv/graphfold/missing.txt: ENOENT; write the path of a file holding the password (relative to the topology file)'],
    ['a client certificate without its key', ['  brokers: k:9092', '  tls: { cert: client.pem }'], 'topo.yaml:4:8: kafka.tls.key: mutual TLS needs both cert and key: add the missing one, or remove the other'],
    ['tls given as text', ['  brokers: k:9092', '  tls: yes'], 'topo.yaml:4:8: kafka.tls: expected true or false, found the string "yes"'],
  ])('kafka: %s', (_what, kafka, expected) => {
    expect(mistakes(yaml('application: app', 'kafka:', ...kafka, 'registry: { url: "http://r:8081" }', 'processors: [{ name: crm, inputs: [a] }]'), { env: { ...env, P: 'x', EMPTY: '' } })).toEqual([expected]);
  });

  test.each([
    ['not a URL', 'url: registry:8081', "topo.yaml:2:18: registry.url: 'registry:8081' is not an http or https URL"],
    ['credentials in the URL', 'url: "http://user:pw@registry:8081"', "topo.yaml:2:18: registry.url: 'registry:8081' URL carries credentials; put them in registry.username and registry.password instead"],
    ['a user without a password', 'url: "http://r:8081", username: u', 'topo.yaml:2:11: registry.password: basic auth needs both username and password (or passwordFile): add the missing one, or remove the other'],
    [
      'a password written in the file',
      'url: "http://r:8081", username: u, password: pw',
      'topo.yaml:2:58: registry.password: a password is read from an environment variable or a file, never written in the topology: write password: ${VAR} (the whole value, no default), or passwordFile: <path of a file holding it>',
    ],
    ['TLS options for a plain http URL', 'url: "http://r:8081", tls: { rejectUnauthorized: false }', 'topo.yaml:2:11: registry.tls: TLS options apply to an https:// registry URL; the URL is http://r:8081: make it https://, or remove tls'],
  ])('registry: %s', (_what, registry, expected) => {
    expect(mistakes(yaml('kafka: { brokers: "k:9092" }', `registry: { ${registry} }`, 'application: app', 'processors: [{ name: crm, inputs: [a] }]'))).toEqual([expected]);
  });

  test('the whole file: empty, not a mapping, broken YAML, duplicate keys', () => {
    expect(mistakes('')).toEqual(['topo.yaml:1:1: the file is empty; a topology needs application, kafka, registry and processors (see topology/demo.yaml)']);
    expect(mistakes('- a\n- b\n')).toEqual(['topo.yaml:1:1: expected a topology: a mapping with application, kafka, registry, store and processors, found a list']);
    expect(mistakes(yaml('application: app', 'kafka:', '  brokers: [k:9092', 'registry: {}'))[0]).toMatch(/^topo\.yaml:\d+:\d+: .*\(YAML syntax\)$/);
    expect(mistakes(yaml('application: app', 'application: other'))).toEqual(['topo.yaml:2:1: Map keys must be unique (YAML syntax)']);
  });

  test('missing top-level options are all reported, at the top of the file', () => {
    expect(mistakes(yaml('application: app'))).toEqual([
      'topo.yaml:1:1: kafka: missing; write the cluster, e.g. kafka: { brokers: ${KAFKA_BROKERS} }',
      'topo.yaml:1:1: registry: missing; write the schema registry, e.g. registry: { url: ${SCHEMA_REGISTRY_URL} }',
      'topo.yaml:1:1: processors: missing; write at least one processor (name, inputs, diffs, rejections)',
    ]);
  });

  test('several mistakes are reported together, in file order, with a count', () => {
    const text = yaml('application: app', 'kafka:', '  brokers: k:9092', '  tsl: true', 'registry: { url: "http://r:8081" }', 'processors:', '  - name: crm', '    inputs: [a]', '    diffs: 42', '    partitions: -1');
    expect(() => load(text)).toThrow(
      [
        '3 mistakes in topo.yaml:',
        'topo.yaml:4:3: kafka.tsl: unknown option; did you mean tls?',
        'topo.yaml:9:12: processors[0].diffs: expected a topic name (string), found the number 42',
        'topo.yaml:10:17: processors[0].partitions: -1 is out of range: expected a whole number from 1 to 100000',
      ].join('\n'),
    );
  });

  test('more than 10 mistakes: the first 10 are listed and the rest counted; the error carries them all', () => {
    const wrong = Array.from({ length: 13 }, (_, i) => `    colour${i}: red`);
    const text = yaml('application: app', 'kafka: { brokers: k:9092 }', 'registry: { url: "http://r:8081" }', 'processors:', '  - name: crm', '    inputs: [a]', ...wrong);
    let caught: unknown;
    try {
      load(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TopologyError);
    const lines = (caught as TopologyError).message.split('\n');
    expect(lines[0]).toBe('13 mistakes in topo.yaml (the first 10):');
    expect(lines.slice(1, 11).every((line) => /^topo\.yaml:\d+:5: processors\[0\]\.colour\d+: unknown option/.test(line))).toBe(true);
    expect(lines[11]).toBe('... and 3 more mistakes (fix these first: the rest may go with them)');
    expect(lines).toHaveLength(12);
    expect((caught as TopologyError).problems).toHaveLength(13);
  });

  test('a TopologyError is a FatalError that carries each problem', () => {
    let caught: unknown;
    try {
      load(yaml(...head, 'processors: []'));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(FatalError);
    expect((caught as TopologyError).problems).toEqual([
      { file: 'topo.yaml', line: 6, column: 13, path: 'processors', message: 'expected a list of processors with at least 1 item, found an empty list' },
    ]);
  });

  test('a file that cannot be read is a FatalError naming it', () => {
    expect(() => loadTopology('no/such/topology.yaml', { env })).toThrow(FatalError);
    expect(() => loadTopology('no/such/topology.yaml', { env })).toThrow('cannot read the topology file no/such/topology.yaml: no such file; name a topology YAML file, e.g. topology/demo.yaml');
  });
});

describe('topology loader: rules across processors', () => {
  const processors = (...lines: string[]): string[] => mistakes(yaml(...head, 'processors:', ...lines));

  test('processor names are unique', () => {
    expect(processors('  - { name: crm, inputs: [a] }', '  - { name: crm, inputs: [b], diffs: d2, rejections: r2 }')).toEqual([
      "topo.yaml:8:13: processors[1].name: processor name 'crm' is taken by processors[0]; names must be unique (they name consumer groups and stores)",
    ]);
  });

  test('a processor cannot read its own diffs or rejections', () => {
    expect(processors('  - name: crm', '    inputs: [crm-diffs, r]', '    rejections: r')).toEqual([
      "topo.yaml:7:5: processors[0].diffs: 'crm-diffs' (the default, <name>-diffs) is also an input of this processor (inputs[0]); a processor cannot read its own diffs: name another topic",
      "topo.yaml:9:17: processors[0].rejections: 'r' is also an input of this processor (inputs[1]); a processor cannot read its own rejections: name another topic",
    ]);
  });

  test('an output topic has one writer', () => {
    expect(processors('  - { name: a, inputs: [in-a], diffs: out }', '  - { name: b, inputs: [in-b], rejections: out }')).toEqual([
      "topo.yaml:8:44: processors[1].rejections: 'out' is already the diffs topic of processor a (processors[0].diffs); every output topic has one writer: name another topic",
    ]);
  });

  test('a processor may read another one\'s diffs (with the same partitions), never its rejections', () => {
    expect(load(yaml(...head, 'processors:', '  - { name: a, inputs: [in], partitions: 3 }', '  - { name: b, inputs: [a-diffs], partitions: 3 }')).processors[1]?.inputs).toEqual(['a-diffs']);
    expect(processors('  - { name: a, inputs: [in], partitions: 3 }', '  - { name: b, inputs: [a-rejections], partitions: 3 }')).toEqual([
      "topo.yaml:8:25: processors[1].inputs[0]: 'a-rejections' is the rejections topic of processor a (processors[0].rejections); rejections are not transactions, so a processor cannot read them",
    ]);
  });

  test('a topic shared by processors has one partition count and replication factor', () => {
    expect(processors('  - { name: a, inputs: [in], partitions: 3 }', '  - { name: b, inputs: [a-diffs], replicationFactor: 1 }')).toEqual([
      "topo.yaml:8:5: processors[1].partitions: topic 'a-diffs' is shared with processor a (processors[0].diffs), which gives it partitions 3; this processor gives 6: a topic has one partition count, so make them equal",
      "topo.yaml:8:54: processors[1].replicationFactor: topic 'a-diffs' is shared with processor a (processors[0].diffs), which gives it replicationFactor 3; this processor gives 1: a topic has one replication factor, so make them equal",
    ]);
  });

  test("topic names that differ only in '.' and '_' collide", () => {
    expect(processors('  - { name: a, inputs: [crm.events] }', '  - { name: b, inputs: [crm_events] }')).toEqual([
      "topo.yaml:8:25: processors[1].inputs[0]: 'crm_events' and 'crm.events' of processor a (processors[0].inputs[0]) differ only in '.' versus '_', which Kafka refuses (they collide in metric names): rename one",
    ]);
  });
});

describe('topology loader: graph schemas', () => {
  const schema = (...lines: string[]): string => yaml(...head, 'processors:', '  - name: crm', '    inputs: [a]', '    schema:', ...lines.map((line) => `      ${line}`));

  test('an inline schema becomes the engine\'s GraphSchema', () => {
    const topology = load(schema('entities: [Person]', 'enums: { Level: [junior, senior] }', 'relations:', '  Knows: { source: [Person], target: [Person], cardinality: many }', '  Lvl: { source: [Knows], target: ["Enum:Level", "Quantity:kg", Time] }'));
    expect(topology.processors[0]?.schema).toEqual({
      entities: ['Person'],
      enums: { Level: ['junior', 'senior'] },
      relations: { Knows: { source: ['Person'], target: ['Person'], cardinality: 'many' }, Lvl: { source: ['Knows'], target: ['Enum:Level', 'Quantity:kg', 'Time'] } },
    });
  });

  test('types a rule names must exist, with a suggestion for a near miss', () => {
    expect(mistakes(schema('entities: [Person, Company]', 'enums: { Level: [a] }', 'relations:', '  WorksAt: { source: [Persn], target: [Company] }', '  Lvl: { source: [WorksAt], target: ["Enum:Levl"] }', '  Odd: { source: [Robot], target: [Person] }'))).toEqual([
      "topo.yaml:13:29: processors[0].schema.relations.WorksAt.source[0]: 'Persn' is not an entity type, relation type or value type of this schema; did you mean Person?",
      "topo.yaml:14:44: processors[0].schema.relations.Lvl.target[0]: enum 'Levl' is not defined in enums; did you mean Enum:Level?",
      "topo.yaml:15:25: processors[0].schema.relations.Odd.source[0]: 'Robot' is not an entity type, relation type or value type of this schema; add it to entities",
    ]);
  });

  test('names: an entity type cannot be a value type or a relation type; the cardinality is one or many', () => {
    expect(mistakes(schema('entities: [String, Knows]', 'relations:', '  Knows: { cardinality: once }'))).toEqual([
      "topo.yaml:10:18: processors[0].schema.entities[0]: 'String' is a value type; name the entity type differently",
      "topo.yaml:12:31: processors[0].schema.relations.Knows.cardinality: 'once' is not one of one, many; did you mean one?",
    ]);
    expect(mistakes(schema('entities: [Person, Knows]', 'relations:', '  Knows: { cardinality: one }'))).toEqual([
      "topo.yaml:10:26: processors[0].schema.entities[1]: 'Knows' is both an entity type and a relation type; give them different names",
    ]);
  });

  test('a schema file is read beside the topology, and its mistakes point into it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'graphfold-schema-'));
    writeFileSync(join(dir, 'crm.schema.yaml'), yaml('entities: [Person]', 'relations:', '  Knows: { source: [Persn] }', 'colours: [red]'));
    expect(mistakes(yaml(...head, 'processors:', '  - { name: crm, inputs: [a], schema: crm.schema.yaml }'), { baseDir: dir })).toEqual([
      'crm.schema.yaml:4:1: colours: unknown option (the options here are entities, relations, enums)',
    ]);
    writeFileSync(join(dir, 'crm.schema.yaml'), yaml('entities: [Person]', 'relations:', '  Knows: { source: [Persn] }'));
    expect(mistakes(yaml(...head, 'processors:', '  - { name: crm, inputs: [a], schema: crm.schema.yaml }'), { baseDir: dir })).toEqual([
      "crm.schema.yaml:3:21: relations.Knows.source[0]: 'Persn' is not an entity type, relation type or value type of this schema; did you mean Person?",
    ]);
    expect(mistakes(yaml(...head, 'processors:', '  - { name: crm, inputs: [a], schema: missing.yaml }'), { baseDir: dir })).toEqual([
      `topo.yaml:7:39: processors[0].schema: cannot read the graph schema ${join(dir, 'missing.yaml')}: ENOENT; write the path of a YAML or JSON file (relative to the topology file) or the schema itself`,
    ]);
  });
});

describe('topology loader: TLS files', () => {
  const tls = (...lines: string[]): string[] => mistakes(yaml('application: app', 'kafka:', '  brokers: k:9092', '  tls:', ...lines.map((l) => `    ${l}`), 'registry: { url: "http://r:8081" }', 'processors: [{ name: crm, inputs: [a] }]'), { baseDir: fixtures });

  test('a missing file, a file that is no certificate, and a certificate given as the key', () => {
    expect(tls('ca: nope.pem')).toEqual([`topo.yaml:5:9: kafka.tls.ca: cannot read ${join(fixtures, 'nope.pem')}: ENOENT; write the path of a PEM file (relative to the topology file) or the PEM text`]);
    const [notPem] = tls('ca: README.md');
    expect(notPem).toMatch(new RegExp(`^topo\\.yaml:5:9: kafka\\.tls\\.ca: ${join(fixtures, 'README.md').replace(/[.]/g, '\\.')} is not a PEM certificate \\(.+\\)$`));
    const [wrongKey] = tls('cert: self-signed-cert.pem', 'key: self-signed-cert.pem');
    expect(wrongKey).toMatch(/^topo\.yaml:6:10: kafka\.tls\.key: .*self-signed-cert\.pem is not an unencrypted PEM private key \(.+\)$/);
  });
});
