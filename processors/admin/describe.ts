import type { GraphSchema } from '../engine/schema';
import { groupId, storeDirectory, transactionalId, type KafkaSpec, type ProcessorSpec, type RegistrySpec, type TlsSpec, type Topology } from '../runtime/topology';
import { describeAcls } from './acls';
import { subjectPlans } from './subjects';
import { topicPlans } from './topics';

/**
 * `graphfold topology describe`: what a topology runs, as text, from the compiled topology alone
 * (no broker): the cluster, the registry, the store, each processor with its topics, consumer
 * group, transactional ids, store directories, limits and graph schema, the topics and schemas
 * `topology apply` provides, and the ACLs both need (`acls.ts`). Secrets are never printed.
 */
export function describeTopology(topology: Topology): string {
  const lines: string[] = [`Topology ${topology.origin}`];
  const field = (name: string, ...values: string[]): void => {
    values.forEach((value, i) => lines.push(`  ${(i === 0 ? name : '').padEnd(16)}${value}`));
  };
  const { store } = topology;
  field('application', topology.application);
  field('kafka', topology.kafka.brokers.join(','), ...describeConnection(topology.kafka));
  field('registry', `${topology.registry.url}${describeRegistryAccess(topology.registry)}`);
  if (topology.ops !== undefined) field('ops', `http://${topology.ops.host.includes(':') ? `[${topology.ops.host}]` : topology.ops.host}:${topology.ops.port} (/metrics, /healthz, /readyz)`);
  field('store', store.dir, `per partition: ${store.cachedAtoms} cached atoms, ${formatBytes(store.cacheBytes)} block cache, ${formatBytes(store.writeBufferBytes)} write buffer`);
  const { query } = topology;
  if (query === undefined) field('query API', 'none (add query: { listen: 127.0.0.1:7070 } to serve one)');
  else {
    const host = query.host.includes(':') ? `[${query.host}]` : query.host;
    field(
      'query API',
      `http://${host}:${query.port === 0 ? '<any free port>' : query.port}${query.advertise === undefined ? '' : `, advertised as ${query.advertise}`}`,
      `${query.token === undefined ? 'no token (anyone who reaches it may read)' : 'bearer token required'}; at most ${query.maxHops} hops, ${query.maxLimit} items, ${query.maxStreams} change streams`,
    );
  }

  for (const processor of topology.processors) {
    lines.push('', `Processor ${processor.name}`);
    field('inputs', processor.inputs.join(', '));
    field('diffs', `${processor.diffs} (the changelog)`);
    field('rejections', processor.rejections);
    field('partitions', `${processor.partitions} (replication factor ${processor.replicationFactor})`);
    field('consumer group', groupId(topology, processor));
    field('transactional', perPartition(processor, (p) => transactionalId(topology, processor, p)));
    field('stores', perPartition(processor, (p) => storeDirectory(topology, processor, p)));
    field(
      'limits',
      `${processor.maxInstructions} instructions per transaction, ${formatBytes(processor.maxRecordBytes)} per record`,
      `${processor.concurrency} partition${processor.concurrency === 1 ? '' : 's'} processed at a time per instance`,
      `${processor.sessionTimeoutMs} ms before a silent instance's partitions move`,
      `${processor.taskTimeoutMs} ms of failing at one offset before the processor stops`,
    );
    field(
      'partitioner',
      `${processor.partitioner}: a record off its key's partition is rejected WRONG_PARTITION (librdkafka producers: partitioner=${processor.partitioner === 'murmur2' ? 'murmur2_random' : 'consistent_random'})`,
    );
    field('headers', processor.carryHeaders.length === 0 ? 'none carried onto diffs and rejections' : `${processor.carryHeaders.join(', ')} carried onto diffs and rejections`);
    field('graph schema', ...describeSchema(processor.schema));
  }

  const subjects = new Map(subjectPlans(topology).map((plan) => [plan.topic, plan.schemaName]));
  const rows = topicPlans(topology).map((plan) => [plan.topic, plan.uses.join(', '), subjects.get(plan.topic) ?? '', Object.entries(plan.config).map(([k, v]) => `${k}=${v}`).join(' ')]);
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  lines.push('', 'Topics (topology apply creates the missing ones and registers each schema under <topic>-value)');
  for (const row of rows) lines.push(`  ${row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ')}`);
  lines.push('', ...describeAcls(topology));
  return `${lines.join('\n')}\n`;
}

function describeRegistryAccess(registry: RegistrySpec): string {
  const parts = [
    ...(registry.tls === undefined ? [] : [`TLS: ${describeTls(registry.tls)}`]),
    ...(registry.auth === undefined ? [] : [`basic auth as ${registry.auth.username}`]),
  ];
  return parts.length === 0 ? '' : ` (${parts.join('; ')})`;
}

function describeTls(tls: TlsSpec): string {
  const parts = [tls.ca === undefined ? 'system CAs' : 'CA from the topology', ...(tls.cert === undefined ? [] : ['client certificate'])];
  return `${parts.join(', ')}${tls.rejectUnauthorized ? '' : ', NOT verifying certificates'}`;
}

function describeConnection(kafka: KafkaSpec): string[] {
  let security: string;
  if (kafka.ssl === false) security = 'plaintext';
  else security = `TLS (${describeTls(kafka.ssl).replace('NOT verifying certificates', 'NOT verifying broker certificates')})`;
  const auth = kafka.sasl === undefined ? 'no SASL' : `SASL ${kafka.sasl.mechanism} as ${kafka.sasl.username}`;
  return [`client id ${kafka.clientId}, ${security}, ${auth}`, `timeouts: connection ${kafka.connectionTimeoutMs} ms, request ${kafka.requestTimeoutMs} ms`];
}

function perPartition(processor: ProcessorSpec, name: (partition: number) => string): string {
  const last = processor.partitions - 1;
  return last === 0 ? name(0) : `${name(0)} ... ${name(last)} (one per partition)`;
}

function describeSchema(schema: GraphSchema | undefined): string[] {
  if (schema === undefined) return ['none: any entity, relation and value types'];
  const lines: string[] = [];
  lines.push(`entities: ${schema.entities === undefined ? 'any' : schema.entities.join(', ') || 'none'}`);
  if (schema.enums !== undefined) {
    lines.push(`enums: ${Object.entries(schema.enums).map(([name, symbols]) => `${name} (${symbols.join(', ')})`).join('; ') || 'none'}`);
  }
  if (schema.relations === undefined) {
    lines.push('relations: any');
  } else {
    const rules = Object.entries(schema.relations);
    lines.push(`relations: ${rules.length === 0 ? 'none' : ''}`.trimEnd());
    const width = Math.max(...rules.map(([name]) => name.length));
    for (const [name, rule] of rules) {
      const ends = `${rule.source?.join('|') ?? 'any'} -> ${rule.target?.join('|') ?? 'any'}`;
      lines.push(`  ${name.padEnd(width)}  ${ends}${rule.cardinality === 'one' ? ' (at most one per source)' : ''}`);
    }
  }
  return lines;
}

/** `64 MiB`, `1 MiB`, `1536 KiB` when exact, else bytes. */
export function formatBytes(bytes: number): string {
  for (const [unit, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024], ['MB', 1000 ** 2], ['KB', 1000]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} bytes`;
}
