import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { describeTopology, formatBytes } from '../../../processors/admin/describe';
import { loadTopology, parseTopology } from '../../../topology/loader';

const repo = resolve(__dirname, '../../..');

describe('topology describe', () => {
  test('prints what runs, exactly', () => {
    const topology = parseTopology(
      [
        'application: shop',
        'kafka:',
        '  brokers: k1:9092,k2:9092',
        '  tls: { ca: self-signed-cert.pem }',
        '  sasl: { mechanism: scram-sha-512, username: shop-svc, password: "${SHOP_PASSWORD}" }',
        'registry: { url: "https://registry:8081", username: reg, passwordFile: registry-password.txt, tls: { ca: self-signed-cert.pem } }',
        'store: { dir: /var/lib/graphfold, cacheBytes: 128 MiB }',
        'processors:',
        '  - name: orders',
        '    inputs: [orders-in]',
        '    partitions: 2',
        '    maxRecordBytes: 1536 KiB',
        '    concurrency: 1',
        '    schema:',
        '      entities: [Order, Customer]',
        '      enums: { Status: [placed, paid] }',
        '      relations:',
        '        PlacedBy: { source: [Order], target: [Customer], cardinality: one }',
        '        State: { target: ["Enum:Status"] }',
        '  - { name: mirror, inputs: [orders-diffs], partitions: 2, replicationFactor: 3 }',
      ].join('\n'),
      'shop.yaml',
      { env: { SHOP_PASSWORD: 'hunter2' }, baseDir: join(repo, 'test/fixtures/topology') },
    );
    expect(describeTopology(topology)).toBe(
      [
        'Topology shop.yaml',
        '  application     shop',
        '  kafka           k1:9092,k2:9092',
        '                  client id shop, TLS (CA from the topology), SASL scram-sha-512 as shop-svc',
        '                  timeouts: connection 10000 ms, request 30000 ms',
        '  registry        https://registry:8081 (TLS: CA from the topology; basic auth as reg)',
        '  store           /var/lib/graphfold',
        '                  per partition: 100000 cached atoms, 128 MiB block cache, 32 MiB write buffer',
        '  query API       none (add query: { listen: 127.0.0.1:7070 } to serve one)',
        '',
        'Processor orders',
        '  inputs          orders-in',
        '  diffs           orders-diffs (the changelog)',
        '  rejections      orders-rejections',
        '  partitions      2 (replication factor 3)',
        '  consumer group  shop-orders',
        '  transactional   shop-orders-0 ... shop-orders-1 (one per partition)',
        '  stores          /var/lib/graphfold/orders/0 ... /var/lib/graphfold/orders/1 (one per partition)',
        '  limits          10000 instructions per transaction, 1536 KiB per record',
        '                  1 partition processed at a time per instance',
        "                  30000 ms before a silent instance's partitions move",
        '                  300000 ms of failing at one offset before the processor stops',
        "  partitioner     murmur2: a record off its key's partition is rejected WRONG_PARTITION (librdkafka producers: partitioner=murmur2_random)",
        '  headers         traceparent, tracestate carried onto diffs and rejections',
        '  graph schema    entities: Order, Customer',
        '                  enums: Status (placed, paid)',
        '                  relations:',
        '                    PlacedBy  Order -> Customer (at most one per source)',
        '                    State     any -> Enum:Status',
        '',
        'Processor mirror',
        '  inputs          orders-diffs',
        '  diffs           mirror-diffs (the changelog)',
        '  rejections      mirror-rejections',
        '  partitions      2 (replication factor 3)',
        '  consumer group  shop-mirror',
        '  transactional   shop-mirror-0 ... shop-mirror-1 (one per partition)',
        '  stores          /var/lib/graphfold/mirror/0 ... /var/lib/graphfold/mirror/1 (one per partition)',
        '  limits          10000 instructions per transaction, 1 MB per record',
        '                  4 partitions processed at a time per instance',
        "                  30000 ms before a silent instance's partitions move",
        '                  300000 ms of failing at one offset before the processor stops',
        "  partitioner     murmur2: a record off its key's partition is rejected WRONG_PARTITION (librdkafka producers: partitioner=murmur2_random)",
        '  headers         traceparent, tracestate carried onto diffs and rejections',
        '  graph schema    none: any entity, relation and value types',
        '',
        'Topics (topology apply creates the missing ones and registers each schema under <topic>-value)',
        '  orders-in          input of orders                   graphfold.GraphTransaction  cleanup.policy=delete',
        '  orders-diffs       diffs of orders, input of mirror  graphfold.GraphDiff         cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1573888',
        '  orders-rejections  rejections of orders              graphfold.Rejection         cleanup.policy=delete max.message.bytes=1639424',
        '  mirror-diffs       diffs of mirror                   graphfold.GraphDiff         cleanup.policy=delete retention.ms=-1 retention.bytes=-1 max.message.bytes=1001024',
        '  mirror-rejections  rejections of mirror              graphfold.Rejection         cleanup.policy=delete max.message.bytes=1066560',
        '',
        'ACLs for User:shop-svc (kafka-acls commands; exactly what graphfold uses, on a cluster that refuses what no ACL allows)',
        '  topology apply:',
        '    # create the missing topics, compare the settings of the others',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Create --operation Describe --operation DescribeConfigs --topic orders-in --topic orders-diffs --topic orders-rejections --topic mirror-diffs --topic mirror-rejections',
        '  graphfold run, processor orders:',
        '    # consume the inputs (offsets committed in transactions); restore from the changelog and the rejections',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --operation Describe --topic orders-in --topic orders-diffs --topic orders-rejections',
        '    # produce diffs and rejections',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Write --operation Describe --topic orders-diffs --topic orders-rejections',
        '    # the consumer group',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --group shop-orders',
        '    # the groups a restore reads the changelog and the rejections in',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --group shop-orders-restore- --resource-pattern-type prefixed',
        '    # one transactional producer per input partition',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Write --operation Describe --transactional-id shop-orders- --resource-pattern-type prefixed',
        '  graphfold run, processor mirror:',
        '    # consume the inputs (offsets committed in transactions); restore from the changelog and the rejections',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --operation Describe --topic orders-diffs --topic mirror-diffs --topic mirror-rejections',
        '    # produce diffs and rejections',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Write --operation Describe --topic mirror-diffs --topic mirror-rejections',
        '    # the consumer group',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --group shop-mirror',
        '    # the groups a restore reads the changelog and the rejections in',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Read --group shop-mirror-restore- --resource-pattern-type prefixed',
        '    # one transactional producer per input partition',
        '    kafka-acls.sh --bootstrap-server k1:9092,k2:9092 --command-config <admin.properties> --add --allow-principal User:shop-svc --operation Write --operation Describe --transactional-id shop-mirror- --resource-pattern-type prefixed',
        '',
      ].join('\n'),
    );
  });

  test('never prints a secret', () => {
    const topology = loadTopology(join(repo, 'topology/examples/production.yaml'), {
      env: {
        KAFKA_BROKERS: 'k1:9093',
        SCHEMA_REGISTRY_URL: 'https://registry:8081',
        KAFKA_CA_FILE: join(repo, 'test/fixtures/topology/self-signed-cert.pem'),
        KAFKA_USERNAME: 'orders-svc',
        KAFKA_PASSWORD: 'kafka-password-value',
        SCHEMA_REGISTRY_USERNAME: 'registry-user',
        SCHEMA_REGISTRY_PASSWORD: 'registry-password-value',
        HOSTNAME: 'graphfold-1',
        GRAPHFOLD_TOKEN: 'token-value-0123456789abcdef',
      },
    });
    const text = describeTopology(topology);
    expect(text).not.toContain('password-value');
    expect(text).not.toContain('token-value');
    // Nor does the compiled topology, however it is printed (a log line, JSON, util.inspect).
    expect(JSON.stringify(topology)).not.toMatch(/password-value|token-value/);
    expect(inspect(topology, { depth: 10 })).not.toMatch(/password-value|token-value/);
    expect(`${String(topology.query?.token)}`).toBe('[hidden]');
    expect(topology.query?.token?.reveal()).toBe('token-value-0123456789abcdef');
    expect(text).toContain('query API       http://0.0.0.0:7070, advertised as http://graphfold-1:7070\n                  bearer token required');
    expect(text).not.toContain(readFileSync(join(repo, 'test/fixtures/topology/self-signed-cert.pem'), 'utf8').split('\n')[1]);
    expect(text).toContain('SASL scram-sha-512 as orders-svc');
    expect(text).toContain('--allow-principal User:orders-svc');
    expect(text).toContain('Processor orders-mirror');
  });

  test('the demo: one processor, three partitions, its stores under the state directory', () => {
    const text = describeTopology(loadTopology(join(repo, 'topology/demo.yaml'), { env: { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' } }));
    expect(text).toContain('  consumer group  graphfold-demo-crm\n');
    expect(text).toContain('  transactional   graphfold-demo-crm-0 ... graphfold-demo-crm-2 (one per partition)\n');
    expect(text).toContain(`  stores          ${join(repo, '.cache/demo-state/crm/0')} ... ${join(repo, '.cache/demo-state/crm/2')} (one per partition)\n`);
    expect(text).toContain('    Level     WorksAt -> Enum:Seniority (at most one per source)\n');
  });

  test('without SASL, the ACL commands name a placeholder principal and say what it stands for', () => {
    const text = describeTopology(loadTopology(join(repo, 'topology/demo.yaml'), { env: { KAFKA_BROKERS: '127.0.0.1:9092', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:8081' } }));
    expect(text).toContain("ACLs for User:<principal> (kafka-acls commands; exactly what graphfold uses, on a cluster that refuses what no ACL allows)\n  <principal> is the name the cluster gives graphfold's connections (with SASL, its user name)\n");
    expect(text).toContain('--allow-principal User:<principal> --operation Write --operation Describe --transactional-id graphfold-demo-crm- --resource-pattern-type prefixed\n');
  });

  test('sizes read as the units they were given in', () => {
    expect([64 * 1024 ** 2, 1024 ** 3, 1536 * 1024, 1_000_000, 1000, 1234].map(formatBytes)).toEqual(['64 MiB', '1 GiB', '1536 KiB', '1 MB', '1 KB', '1234 bytes']);
  });
});
