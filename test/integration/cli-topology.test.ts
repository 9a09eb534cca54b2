import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import { testRegistry } from '../support/avro';
import { runCli } from '../support/cli';
import { testCluster, testKafka, uniqueName } from '../support/kafka';

/**
 * `graphfold topology apply` against the real broker and registry, through the compiled CLI:
 * topics created with the settings of their role, schemas registered, a second apply a no-op,
 * and an existing topic that differs reported with what to fix.
 */
describe('graphfold topology apply', () => {
  const kafka = testKafka();
  const registry = testRegistry();
  const dir = mkdtempSync(join(tmpdir(), 'graphfold-apply-'));
  let admin: Admin;

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin.disconnect();
  });

  /** A topology file of two processors, the second reading the first's diffs; returns its path and topics. */
  function topologyFile(prefix: string, options: { replicationFactor?: number } = {}): { file: string; topics: { inputs: string[]; diffs: string; rejections: string; mirrorDiffs: string; mirrorRejections: string } } {
    const topics = { inputs: [`${prefix}-in`, `${prefix}-import`], diffs: `${prefix}-diffs`, rejections: `${prefix}-rejections`, mirrorDiffs: `${prefix}-mirror-diffs`, mirrorRejections: `${prefix}-mirror-rejections` };
    const file = join(dir, `${prefix}.yaml`);
    writeFileSync(
      file,
      [
        `application: ${prefix}`,
        'kafka: { brokers: "${KAFKA_BROKERS}" }',
        'registry: { url: "${SCHEMA_REGISTRY_URL}" }',
        'processors:',
        `  - name: crm`,
        `    inputs: [${topics.inputs.join(', ')}]`,
        `    diffs: ${topics.diffs}`,
        `    rejections: ${topics.rejections}`,
        '    partitions: 3',
        `    replicationFactor: ${options.replicationFactor ?? 1}`,
        '  - name: mirror',
        `    inputs: [${topics.diffs}]`,
        `    diffs: ${topics.mirrorDiffs}`,
        `    rejections: ${topics.mirrorRejections}`,
        '    partitions: 3',
        `    replicationFactor: ${options.replicationFactor ?? 1}`,
      ].join('\n'),
    );
    return { file, topics };
  }

  async function configOf(topic: string): Promise<Record<string, string>> {
    const { resources } = await admin.describeConfigs({ resources: [{ type: ConfigResourceTypes.TOPIC, name: topic }], includeSynonyms: false });
    return Object.fromEntries((resources[0]?.configEntries ?? []).map((entry) => [entry.configName, entry.configValue]));
  }

  async function partitionsOf(topic: string): Promise<number> {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.length ?? 0;
  }

  async function versionsOf(subject: string): Promise<number[]> {
    const response = await fetch(`${testCluster().registryUrl}/subjects/${encodeURIComponent(subject)}/versions`);
    return (await response.json()) as number[];
  }

  test('creates the topics with their settings and registers the schemas; a second apply changes nothing', async () => {
    const { file, topics } = topologyFile(uniqueName('apply'));
    const first = await runCli(['topology', 'apply', '--topology', file]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('Created 6 topics, registered 6 schemas and set the compatibility of 6 subjects.');

    for (const topic of [...topics.inputs, topics.diffs, topics.rejections, topics.mirrorDiffs, topics.mirrorRejections]) {
      expect(await partitionsOf(topic)).toBe(3);
    }
    for (const changelog of [topics.diffs, topics.mirrorDiffs]) {
      expect(await configOf(changelog)).toMatchObject({ 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' });
    }
    for (const topic of [...topics.inputs, topics.rejections, topics.mirrorRejections]) {
      const config = await configOf(topic);
      expect(config['cleanup.policy']).toBe('delete');
      expect(config['retention.ms']).not.toBe('-1');
    }

    const expectedSchemas: [string, string][] = [
      [topics.inputs[0] as string, 'graphfold.GraphTransaction'],
      [topics.inputs[1] as string, 'graphfold.GraphTransaction'],
      [topics.diffs, 'graphfold.GraphDiff'],
      [topics.rejections, 'graphfold.Rejection'],
      [topics.mirrorDiffs, 'graphfold.GraphDiff'],
      [topics.mirrorRejections, 'graphfold.Rejection'],
    ];
    const ids = new Map<string, number>();
    for (const [topic, name] of expectedSchemas) {
      const id = await registry.getLatestSchemaId(`${topic}-value`);
      ids.set(topic, id);
      expect((await registry.getSchema(id) as { name?: string }).name).toBe(name);
      expect(first.stdout).toMatch(new RegExp(`registered ${topic}-value +${name.replace('.', '\\.')} \\(id ${id}\\), compatibility ${topic.endsWith('-in') || topic.endsWith('-import') ? 'FORWARD' : 'FULL'}_TRANSITIVE \\(set; was `));
    }

    const second = await runCli(['topology', 'apply', '--topology', file]);
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('Nothing to change: every topic and schema is in place.');
    expect(second.stdout).not.toMatch(/created|registered/);
    for (const [topic] of expectedSchemas) {
      expect(await registry.getLatestSchemaId(`${topic}-value`)).toBe(ids.get(topic));
      expect(await versionsOf(`${topic}-value`)).toEqual([1]);
    }
  });

  test('an existing topic that differs is reported with what to fix, left as it is, and the apply fails', async () => {
    const { file, topics } = topologyFile(uniqueName('mismatch'));
    await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: topics.diffs, numPartitions: 2, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
        { topic: topics.rejections, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      ],
    });
    const run = await runCli(['topology', 'apply', '--topology', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe('graphfold: 3 problems with topics or subjects (above); fix them as said and run apply again\n');
    const brokers = testCluster().brokers[0] ?? '';
    expect(run.stdout).toContain(`  MISMATCH   ${topics.diffs}`);
    expect(run.stdout).toContain(`error: ${topics.diffs} has 2 partitions; the topology says 3 (diffs of crm, input of mirror).`);
    expect(run.stdout).toContain(
      `error: ${topics.diffs} cleanup.policy is compact; the changelog needs delete (compaction would destroy the history a restore folds): kafka-configs.sh --bootstrap-server ${brokers} --alter --entity-type topics --entity-name ${topics.diffs} --add-config cleanup.policy=delete`,
    );
    expect(run.stdout).toContain(`error: ${topics.diffs} retention.ms is `);
    expect(run.stdout).toContain(`note: ${topics.rejections} cleanup.policy is compact; graphfold creates rejections topics with delete`);
    expect(run.stdout).toContain('1 topic is not as the topology says: see the errors above.');
    // The rest was done, and what differed was left alone.
    expect(await partitionsOf(topics.inputs[0] as string)).toBe(3);
    expect(await partitionsOf(topics.diffs)).toBe(2);
    expect((await configOf(topics.diffs))['cleanup.policy']).toBe('compact');
  });

  test('a replication factor above the cluster\'s broker count is refused before asking the broker', async () => {
    const { brokers } = await admin.describeCluster();
    const { file, topics } = topologyFile(uniqueName('replicas'), { replicationFactor: brokers.length + 1 });
    const run = await runCli(['topology', 'apply', '--topology', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`  FAILED     ${topics.diffs}`);
    expect(run.stdout).toContain(
      `error: ${topics.diffs} cannot be created with replication factor ${brokers.length + 1}: the cluster has ${brokers.length} broker${brokers.length === 1 ? '' : 's'}; set replicationFactor: ${brokers.length} for processor crm, mirror in the topology, or add brokers`,
    );
    expect(await admin.listTopics()).not.toContain(topics.diffs);
  });
});
