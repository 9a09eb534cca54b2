import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { avroTypes } from '../../processors/codec/avro';
import { SchemaCatalog } from '../../processors/runtime/schema-catalog';
import { Secret } from '../../processors/runtime/secret';
import { runKafkaTool, type KafkaToolRun } from '../broker/kafka-tools';
import { uniqueName } from './kafka';
import type { OutputArchive } from './output-archive';
import type { ProcessorTopics } from './processor-harness';
import type { SecuredTestCluster } from './secured-cluster';

/** Fresh topic names (not created: `topology apply` creates them, or a test as the super user). */
export function securedTopicNames(partitions: number): ProcessorTopics {
  return { input: uniqueName('instructions'), diffs: uniqueName('diffs'), rejections: uniqueName('rejections'), partitions };
}

/** The id of the GraphTransaction schema under `<topic>-value` in the secured registry, registering it if needed. */
export function securedTransactionSchemaId(cluster: SecuredTestCluster, topic: string): Promise<number> {
  const catalog = new SchemaCatalog({
    url: cluster.registryUrl,
    auth: { username: 'graphfold', password: new Secret(cluster.credentials.registry.graphfold) },
    tls: { rejectUnauthorized: true, ca: cluster.ca },
  });
  return catalog.register(topic, avroTypes().transaction);
}

/**
 * The `kafka-acls.sh` commands of one block of `topology describe`'s ACL section: the lines after
 * the heading `heading` (e.g. `topology apply:`) up to the next heading.
 */
export function aclCommands(described: string, heading: string): string[][] {
  const lines = described.split('\n');
  const start = lines.findIndex((line) => line.trim() === heading);
  if (start < 0) throw new Error(`topology describe printed no "${heading}" block:\n${described}`);
  const commands: string[][] = [];
  for (const line of lines.slice(start + 1)) {
    const text = line.trim();
    if (!line.startsWith('    ')) break;
    if (text.startsWith('kafka-acls.sh ')) commands.push(text.split(/\s+/));
  }
  return commands;
}

/**
 * Runs `kafka-acls` commands as printed, with Kafka's own tool, connected as the super user
 * (`<admin.properties>` becomes a client config file for it); each run's output is archived.
 */
export async function runAclCommands(cluster: SecuredTestCluster, archive: OutputArchive, commands: readonly (readonly string[])[]): Promise<KafkaToolRun[]> {
  const dir = await mkdtemp(join(tmpdir(), 'graphfold-acls-'));
  const properties = join(dir, 'admin.properties');
  const config = [
    'security.protocol=SASL_SSL',
    'sasl.mechanism=SCRAM-SHA-512',
    `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${cluster.credentials.kafka.admin}";`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${cluster.security.caFile}`,
  ];
  await writeFile(properties, `${config.join('\n')}\n`, { mode: 0o600 });
  const runs: KafkaToolRun[] = [];
  for (const [script, ...args] of commands) {
    if (script === undefined) continue;
    const run = await runKafkaTool(script, args.map((arg) => (arg === '<admin.properties>' ? properties : arg)));
    await archive.record(`${script}.stdout`, run.stdout);
    await archive.record(`${script}.stderr`, run.stderr);
    if (run.code !== 0) throw new Error(`${script} ${args.join(' ')} failed (exit ${run.code}): ${run.stderr}${run.stdout}`);
    runs.push(run);
  }
  return runs;
}

