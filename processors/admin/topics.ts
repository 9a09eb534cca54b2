import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigResourceTypes, type Admin } from 'kafkajs';
import type { KafkaSpec, Topology } from '../runtime/topology';
import { recordOverheadBytes, rejectionHeadroomBytes } from '../task/outputs';
import { clusterFailure } from './cluster-failure';

/** What a topic is to the topology. A topic that is one processor's diffs and another's input is `diffs`. */
export type TopicRole = 'input' | 'diffs' | 'rejections';

/** A topic as the topology wants it. */
export interface TopicPlan {
  readonly topic: string;
  readonly role: TopicRole;
  /** Who uses it: `input of crm`, `diffs of crm`. */
  readonly uses: readonly string[];
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The settings `topology apply` creates the topic with. */
  readonly config: Readonly<Record<string, string>>;
}

/**
 * The topic settings by role (README.md, "The processor"). The diffs topic is the changelog:
 * deleting or compacting its records would lose history that restores and readers fold, so it
 * keeps all.
 * Inputs and rejections keep the cluster's default retention.
 */
export const topicConfigs: Readonly<Record<TopicRole, Readonly<Record<string, string>>>> = {
  input: { 'cleanup.policy': 'delete' },
  diffs: { 'cleanup.policy': 'delete', 'retention.ms': '-1', 'retention.bytes': '-1' },
  rejections: { 'cleanup.policy': 'delete' },
};

const rolePrecedence: readonly TopicRole[] = ['diffs', 'rejections', 'input'];

/**
 * The record size (max.message.bytes) a diffs or rejections topic must accept for a processor
 * with `maxRecordBytes`: a diff up to maxRecordBytes; a rejection embeds a refused record up to
 * maxRecordBytes whole, with room for its message, key and headers (`outputs.ts`). Inputs keep
 * the cluster's default.
 */
export function recordBytesFor(role: TopicRole, maxRecordBytes: number): number | undefined {
  if (role === 'diffs') return maxRecordBytes + recordOverheadBytes;
  if (role === 'rejections') return maxRecordBytes + rejectionHeadroomBytes + recordOverheadBytes;
  return undefined;
}

/** Every topic of the topology, once, in the order the processors name them. */
export function topicPlans(topology: Topology): TopicPlan[] {
  const plans = new Map<string, { role: TopicRole; uses: string[]; partitions: number; replicationFactor: number; recordBytes: Map<TopicRole, number> }>();
  const add = (topic: string, role: TopicRole, processor: Topology['processors'][number]): void => {
    let plan = plans.get(topic);
    if (plan === undefined) {
      plans.set(topic, (plan = { role, uses: [`${role} of ${processor.name}`], partitions: processor.partitions, replicationFactor: processor.replicationFactor, recordBytes: new Map() }));
    } else {
      plan.uses.push(`${role} of ${processor.name}`);
      if (rolePrecedence.indexOf(role) < rolePrecedence.indexOf(plan.role)) plan.role = role;
    }
    const bytes = recordBytesFor(role, processor.maxRecordBytes);
    if (bytes !== undefined) plan.recordBytes.set(role, Math.max(bytes, plan.recordBytes.get(role) ?? 0));
  };
  for (const processor of topology.processors) {
    for (const input of processor.inputs) add(input, 'input', processor);
    add(processor.diffs, 'diffs', processor);
    add(processor.rejections, 'rejections', processor);
  }
  return [...plans].map(([topic, { recordBytes, ...plan }]) => {
    const bytes = recordBytes.get(plan.role);
    return { topic, ...plan, config: bytes === undefined ? topicConfigs[plan.role] : { ...topicConfigs[plan.role], 'max.message.bytes': String(bytes) } };
  });
}

/** A topic as the cluster has it. */
export interface ExistingTopic {
  readonly topic: string;
  readonly partitions: number;
  readonly replicationFactor: number;
  /** The effective values of the settings a plan names (the broker's defaults included). */
  readonly config: Readonly<Record<string, string>>;
}

/** How an existing topic differs from its plan: errors that fail `apply`, notes that do not. */
export interface TopicDifferences {
  readonly errors: readonly string[];
  readonly notes: readonly string[];
}

/**
 * Compares an existing topic with its plan. The partition count must match (it decides which
 * partition, hence which store, holds a graph), and so must the changelog's settings; apply
 * changes neither, it says what to do. The rest is noted.
 */
export function topicDifferences(plan: TopicPlan, existing: ExistingTopic, brokers: readonly string[]): TopicDifferences {
  const errors: string[] = [];
  const notes: string[] = [];
  if (existing.partitions !== plan.partitions) {
    errors.push(
      `has ${existing.partitions} partitions; the topology says ${plan.partitions} (${plan.uses.join(', ')}). A graph's partition is its key's hash, so the count cannot change under a running topology: set partitions: ${existing.partitions} in the topology, or delete and recreate the topic (losing its records)`,
    );
  }
  for (const [name, wanted] of Object.entries(plan.config)) {
    const actual = existing.config[name];
    if (actual === wanted) continue;
    const fix = `kafka-configs.sh --bootstrap-server ${brokers[0] ?? '<broker>'} --alter --entity-type topics --entity-name ${plan.topic} --add-config ${name}=${wanted}`;
    if (name === 'max.message.bytes') {
      // Larger is as good; smaller makes the processor cut what it writes there to fit (TOO_LARGE diffs, shortened rejection payloads).
      if (Number(actual) < Number(wanted)) notes.push(`${name} is ${actual ?? 'unset'}; ${plan.role === 'diffs' ? 'diffs larger than that are refused TOO_LARGE' : 'rejections embed only a prefix of records larger than that'} (graphfold creates ${plan.role} topics with ${wanted}: ${fix})`);
      continue;
    }
    if (plan.role === 'diffs') {
      const why = name === 'cleanup.policy' ? 'compaction would destroy the history a restore folds' : 'the changelog must keep every diff for restores to be exact';
      errors.push(`${name} is ${actual ?? 'unset'}; the changelog needs ${wanted} (${why}): ${fix}`);
    } else {
      notes.push(`${name} is ${actual ?? 'unset'}; graphfold creates ${plan.role} topics with ${wanted} (${fix})`);
    }
  }
  if (existing.replicationFactor !== plan.replicationFactor) {
    notes.push(`has replication factor ${existing.replicationFactor}; the topology says ${plan.replicationFactor} (apply does not change it: that takes a partition reassignment)`);
  }
  return { errors, notes };
}

/** The Kafka admin operations `topology apply` needs, with failures that name the cluster. */
export class TopicAdmin {
  constructor(
    private readonly admin: Admin,
    private readonly spec: KafkaSpec,
  ) {}

  /** The topics among `topics` that exist, as the cluster has them. */
  async existing(topics: readonly string[]): Promise<Map<string, ExistingTopic>> {
    const found = new Map<string, ExistingTopic>();
    try {
      const all = new Set(await this.admin.listTopics());
      const present = topics.filter((topic) => all.has(topic));
      if (present.length === 0) return found;
      const { topics: metadata } = await this.admin.fetchTopicMetadata({ topics: present });
      const configNames = [...new Set([...Object.values(topicConfigs).flatMap((config) => Object.keys(config)), 'max.message.bytes'])];
      const { resources } = await this.admin.describeConfigs({
        resources: present.map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames })),
        includeSynonyms: false,
      });
      for (const topic of metadata) {
        const entries = resources.find((r) => r.resourceName === topic.name)?.configEntries ?? [];
        found.set(topic.name, {
          topic: topic.name,
          partitions: topic.partitions.length,
          replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
          config: Object.fromEntries(entries.map((e) => [e.configName, e.configValue])),
        });
      }
      return found;
    } catch (error) {
      throw clusterFailure(error, this.spec, 'describe topics', { doing: `describe topics ${topics.join(', ')}`, needs: `Describe and DescribeConfigs on topics ${topics.join(', ')}` });
    }
  }

  async brokerCount(): Promise<number> {
    try {
      return (await this.admin.describeCluster()).brokers.length;
    } catch (error) {
      throw clusterFailure(error, this.spec, 'describe the cluster');
    }
  }

  /** Creates the topics of these plans and waits for their partition leaders. */
  async create(plans: readonly TopicPlan[]): Promise<void> {
    if (plans.length === 0) return;
    try {
      await this.admin.createTopics({
        waitForLeaders: false,
        topics: plans.map((plan) => ({
          topic: plan.topic,
          numPartitions: plan.partitions,
          replicationFactor: plan.replicationFactor,
          configEntries: Object.entries(plan.config).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (error) {
      const details = (error as { errors?: unknown }).errors;
      const reasons = Array.isArray(details) ? details.map((e) => (e instanceof Error ? e.message : String(e))).join('; ') : '';
      const names = plans.map((p) => p.topic).join(', ');
      throw clusterFailure(reasons === '' ? error : Object.assign(new Error(reasons, { cause: error }), firstTyped(details)), this.spec, `create topics ${names}`, { doing: `create topics ${names}`, needs: `Create on topics ${names}` });
    }
    try {
      await waitForLeaders(this.admin, plans.map((plan) => plan.topic));
    } catch (error) {
      throw clusterFailure(error, this.spec, `see leaders for new topics ${plans.map((p) => p.topic).join(', ')}`);
    }
  }
}

/** The protocol error type of the first of several errors that has one (createTopics reports one per topic). */
function firstTyped(errors: unknown): { type?: string } {
  const typed = Array.isArray(errors) ? errors.find((e: unknown): e is { type: string } => typeof (e as { type?: unknown }).type === 'string') : undefined;
  return typed === undefined ? {} : { type: typed.type };
}

/**
 * Waits until every partition of these topics has a leader. kafkajs' own `waitForLeaders` retries
 * only LEADER_NOT_AVAILABLE, but a KRaft broker may first answer that a new topic is unknown.
 */
export async function waitForLeaders(admin: Admin, topics: readonly string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics: metadata } = await admin.fetchTopicMetadata({ topics: [...topics] });
      if (metadata.length === topics.length && metadata.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leaders for ${topics.join(', ')} after ${timeoutMs} ms`);
    await sleep(100);
  }
}
