import { groupId, transactionalId, type ProcessorSpec, type Topology } from '../runtime/topology';
import { topicPlans } from './topics';

/**
 * The Kafka ACLs graphfold needs on a cluster that authorises by ACL (the standard authorizer with
 * `allow.everyone.if.no.acl.found=false`), as grants and as `kafka-acls` commands. They are exactly
 * what `topology apply` and `graphfold run` use, no more; the secured tests run both with only
 * these, and fail each run that lacks one of them.
 *
 * For `graphfold run`, per processor (`<app>` the application, `<p>` the processor):
 * - Read, Describe on its input topics: it consumes them, and commits their offsets inside its
 *   transactions; Read on its diffs topic too: a restore folds the changelog; and on its
 *   rejections topic: opening a partition reads back the rejections its store does not hold;
 * - Write, Describe on its diffs and rejections topics;
 * - Read on the consumer group `<app>-<p>`, and on the groups prefixed `<app>-<p>-restore-` that
 *   its restores read the changelog and the rejections in;
 * - Write, Describe on the transactional ids prefixed `<app>-<p>-` (one per input partition).
 * No cluster ACL: a transactional producer needs no IdempotentWrite since Kafka 3.0 (KIP-679).
 *
 * For `graphfold topology apply`: Create, Describe and DescribeConfigs on every topic of the
 * topology (it creates the missing ones and compares the settings of the others).
 */
export type AclOperation = 'Read' | 'Write' | 'Describe' | 'Create' | 'DescribeConfigs';
export type AclResourceType = 'topic' | 'group' | 'transactional-id';
export type AclPatternType = 'literal' | 'prefixed';

/** Operations allowed on resources of one type and pattern type: one `kafka-acls --add`. */
export interface AclGrant {
  readonly operations: readonly AclOperation[];
  readonly resourceType: AclResourceType;
  readonly patternType: AclPatternType;
  readonly names: readonly string[];
  /** Why graphfold needs it, for the reader of `topology describe`. */
  readonly why: string;
}

export interface AclPlan {
  /** `User:<sasl username>`, or `User:<principal>` when the topology names no SASL user. */
  readonly principal: string;
  readonly apply: readonly AclGrant[];
  readonly run: readonly { readonly processor: string; readonly grants: readonly AclGrant[] }[];
}

export function aclPlan(topology: Topology): AclPlan {
  const username = topology.kafka.sasl?.username;
  return {
    principal: `User:${username ?? '<principal>'}`,
    apply: [
      {
        operations: ['Create', 'Describe', 'DescribeConfigs'],
        resourceType: 'topic',
        patternType: 'literal',
        names: topicPlans(topology).map((plan) => plan.topic),
        why: 'create the missing topics, compare the settings of the others',
      },
    ],
    run: topology.processors.map((processor) => ({ processor: processor.name, grants: runGrants(topology, processor) })),
  };
}

function runGrants(topology: Topology, processor: ProcessorSpec): AclGrant[] {
  const group = groupId(topology, processor);
  // Every transactional id of the processor, `<app>-<p>-<partition>`, shares this prefix.
  const transactionalPrefix = transactionalId(topology, processor, 0).replace(/0$/, '');
  return [
    { operations: ['Read', 'Describe'], resourceType: 'topic', patternType: 'literal', names: [...processor.inputs, processor.diffs, processor.rejections], why: 'consume the inputs (offsets committed in transactions); restore from the changelog and the rejections' },
    { operations: ['Write', 'Describe'], resourceType: 'topic', patternType: 'literal', names: [processor.diffs, processor.rejections], why: 'produce diffs and rejections' },
    { operations: ['Read'], resourceType: 'group', patternType: 'literal', names: [group], why: 'the consumer group' },
    { operations: ['Read'], resourceType: 'group', patternType: 'prefixed', names: [`${group}-restore-`], why: 'the groups a restore reads the changelog and the rejections in' },
    { operations: ['Write', 'Describe'], resourceType: 'transactional-id', patternType: 'prefixed', names: [transactionalPrefix], why: 'one transactional producer per input partition' },
  ];
}

/**
 * The `kafka-acls.sh` command that adds a grant for `principal`. `<admin.properties>` stands for
 * the client settings of a principal allowed to alter ACLs.
 */
export function kafkaAclsCommand(brokers: readonly string[], principal: string, grant: AclGrant): string {
  const words = ['kafka-acls.sh', '--bootstrap-server', brokers.join(','), '--command-config', '<admin.properties>', '--add', '--allow-principal', principal];
  for (const operation of grant.operations) words.push('--operation', operation);
  for (const name of grant.names) words.push(`--${grant.resourceType}`, name);
  if (grant.patternType === 'prefixed') words.push('--resource-pattern-type', 'prefixed');
  return words.join(' ');
}

/** The plan as `topology describe` prints it: a heading, then per use the commands with their reasons. */
export function describeAcls(topology: Topology): string[] {
  const plan = aclPlan(topology);
  const { brokers } = topology.kafka;
  const lines = [
    `ACLs for ${plan.principal} (kafka-acls commands; exactly what graphfold uses, on a cluster that refuses what no ACL allows)`,
    ...(topology.kafka.sasl === undefined ? ['  <principal> is the name the cluster gives graphfold\'s connections (with SASL, its user name)'] : []),
    '  topology apply:',
  ];
  const add = (grant: AclGrant): void => {
    lines.push(`    # ${grant.why}`, `    ${kafkaAclsCommand(brokers, plan.principal, grant)}`);
  };
  plan.apply.forEach(add);
  for (const { processor, grants } of plan.run) {
    lines.push(`  graphfold run, processor ${processor}:`);
    grants.forEach(add);
  }
  return lines;
}
