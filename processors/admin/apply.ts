import type { Admin } from 'kafkajs';
import { refusalSignal } from '../runtime/access-refusal';
import { kafkaClient } from '../runtime/kafka-client';
import { groupId, type Topology } from '../runtime/topology';
import { clusterFailure } from './cluster-failure';
import type { CompatibilityOutcome } from './compatibility';
import { SubjectRegistrar, subjectPlans, type SubjectPlan } from './subjects';
import { TopicAdmin, topicDifferences, topicPlans, type TopicPlan } from './topics';

export interface TopicOutcome {
  readonly plan: TopicPlan;
  /** `created` now, `present` before (then `errors` and `notes` compare it with the plan), or `failed` to create. */
  readonly action: 'created' | 'present' | 'failed';
  readonly errors: readonly string[];
  readonly notes: readonly string[];
}

export interface SubjectOutcome {
  readonly plan: SubjectPlan;
  readonly id: number;
  /** True when this apply registered the schema; false when it was there already. */
  readonly registered: boolean;
  readonly compatibility: CompatibilityOutcome;
}

export interface ApplyReport {
  readonly topology: Topology;
  readonly topics: readonly TopicOutcome[];
  readonly subjects: readonly SubjectOutcome[];
}

/**
 * `graphfold topology apply`: makes the cluster hold what the topology needs, idempotently.
 * 1. Topics that are missing are created with their plan's partitions, replication factor and
 *    settings (`topics.ts`); a replication factor above the cluster's broker count is refused
 *    before asking.
 * 2. Topics that exist are compared with their plans and left alone: a difference that matters
 *    (partition count, the changelog's retention and cleanup policy) is an error in the report,
 *    with what to do; others are notes.
 * 3. Each subject `<topic>-value` gets the compatibility its role needs (`compatibility.ts`),
 *    unless it has an accepted one; one set otherwise is an error in the report, left alone.
 * 4. The schemas are registered under their subjects (`subjects.ts`), unless already there.
 * A second apply changes nothing. The report says what happened; {@link applyErrors} counts what failed.
 */
export async function applyTopology(topology: Topology): Promise<ApplyReport> {
  // A broker certificate that does not verify ends the apply at once (kafkajs would retry it).
  const refusal = refusalSignal();
  const admin = kafkaClient(topology.kafka, 'admin', { onRefused: refusal.report }).admin();
  const topics = await Promise.race([applyTopics(topology, admin), refusal.refused]).finally(() => admin.disconnect().catch(() => undefined));
  const registrar = new SubjectRegistrar(topology.registry);
  const subjects: SubjectOutcome[] = [];
  for (const plan of subjectPlans(topology)) subjects.push({ plan, ...(await registrar.ensure(plan)) });
  return { topology, topics, subjects };
}

/** Steps 1 and 2 of {@link applyTopology}. */
async function applyTopics(topology: Topology, admin: Admin): Promise<TopicOutcome[]> {
  const topics: TopicOutcome[] = [];
  try {
    await admin.connect();
  } catch (error) {
    throw clusterFailure(error, topology.kafka, 'connect');
  }
  const topicAdmin = new TopicAdmin(admin, topology.kafka);
  const plans = topicPlans(topology);
  const existing = await topicAdmin.existing(plans.map((plan) => plan.topic));
  const missing = plans.filter((plan) => !existing.has(plan.topic));
  const brokers = missing.length === 0 ? 0 : await topicAdmin.brokerCount();
  const creatable = missing.filter((plan) => plan.replicationFactor <= brokers);
  const history = await changelogsWithHistory(topology, admin, creatable, new Set(existing.keys()));
  await topicAdmin.create(creatable);
  for (const plan of plans) {
    const found = existing.get(plan.topic);
    if (found !== undefined) {
      topics.push({ plan, action: 'present', ...topicDifferences(plan, found, topology.kafka.brokers) });
    } else if (creatable.includes(plan)) {
      topics.push({ plan, action: 'created', errors: [], notes: history.get(plan.topic) ?? [] });
    } else {
      const processors = [...new Set(plan.uses.map((use) => use.replace(/^.* of /, '')))].join(', ');
      const error = `cannot be created with replication factor ${plan.replicationFactor}: the cluster has ${brokers} broker${brokers === 1 ? '' : 's'}; set replicationFactor: ${brokers} for processor ${processors} in the topology, or add brokers`;
      topics.push({ plan, action: 'failed', errors: [error], notes: [] });
    }
  }
  return topics;
}

/** The problems that make an apply fail (a mismatched or uncreatable topic, a subject's compatibility set otherwise). */
export function applyErrors(report: ApplyReport): number {
  return report.topics.reduce((n, t) => n + t.errors.length, 0) + report.subjects.filter((s) => s.compatibility.action === 'mismatch').length;
}

/** The report as text: one line per topic and subject, problems and notes under their topic, then a summary. */
export function formatApplyReport(report: ApplyReport): string {
  const topicWidth = Math.max(...report.topics.map((t) => t.plan.topic.length));
  const lines = [`Topics on ${report.topology.kafka.brokers.join(',')}`];
  for (const { plan, action, errors, notes } of report.topics) {
    const status = action === 'created' ? 'created' : action === 'failed' ? 'FAILED' : errors.length > 0 ? 'MISMATCH' : 'ok';
    const settings = `${plan.partitions} partitions, replication ${plan.replicationFactor}, ${Object.entries(plan.config).map(([k, v]) => `${k}=${v}`).join(' ')}`;
    lines.push(`  ${status.padEnd(10)} ${plan.topic.padEnd(topicWidth)}  ${plan.uses.join(', ')}: ${settings}`);
    for (const error of errors) lines.push(`             error: ${plan.topic} ${error}`);
    for (const note of notes) lines.push(`             note: ${plan.topic} ${note}`);
  }
  const subjectWidth = Math.max(...report.subjects.map((s) => s.plan.subject.length));
  lines.push(`Schemas at ${report.topology.registry.url}`);
  for (const { plan, id, registered, compatibility } of report.subjects) {
    const status = compatibility.action === 'mismatch' ? 'MISMATCH' : registered ? 'registered' : 'ok';
    const level = compatibility.action === 'set' ? `compatibility ${compatibility.level} (set; was ${compatibility.found ?? 'none'})` : `compatibility ${compatibility.action === 'ok' ? compatibility.level : compatibility.found ?? '?'}`;
    lines.push(`  ${status.padEnd(10)} ${plan.subject.padEnd(subjectWidth)}  ${plan.schemaName} (id ${id}), ${level}`);
    if (compatibility.error !== undefined) lines.push(`             error: ${plan.subject} ${compatibility.error}`);
  }
  const created = report.topics.filter((t) => t.action === 'created').length;
  const registered = report.subjects.filter((s) => s.registered).length;
  const levels = report.subjects.filter((s) => s.compatibility.action === 'set').length;
  const failed = report.topics.filter((t) => t.errors.length > 0).length;
  const mismatched = report.subjects.filter((s) => s.compatibility.action === 'mismatch').length;
  const changes = [
    created > 0 ? `created ${created} topic${created === 1 ? '' : 's'}` : '',
    registered > 0 ? `registered ${registered} schema${registered === 1 ? '' : 's'}` : '',
    levels > 0 ? `set the compatibility of ${levels} subject${levels === 1 ? '' : 's'}` : '',
  ].filter((s) => s !== '');
  if (changes.length === 0) lines.push(failed + mismatched === 0 ? 'Nothing to change: every topic and schema is in place.' : 'Nothing changed.');
  else lines.push(`${changes.join(', ').replace(/, ([^,]*)$/, ' and $1').replace(/^./, (c) => c.toUpperCase())}.`);
  if (failed > 0) lines.push(`${failed} topic${failed === 1 ? ' is' : 's are'} not as the topology says: see the errors above.`);
  if (mismatched > 0) lines.push(`${mismatched} subject${mismatched === 1 ? ' has' : 's have'} a compatibility that does not protect graphfold's readers: see the errors above.`);
  return lines.join('\n');
}

/**
 * Warnings for diffs topics about to be created for a processor whose consumer group has
 * committed input offsets: it processed input before, so its changelog existed and was lost (or
 * renamed), and its stores hold history the new, empty changelog will not.
 */
async function changelogsWithHistory(topology: Topology, admin: Admin, creating: readonly TopicPlan[], existing: ReadonlySet<string>): Promise<Map<string, string[]>> {
  const warnings = new Map<string, string[]>();
  const names = new Set(creating.filter((plan) => plan.role === 'diffs').map((plan) => plan.topic));
  for (const processor of topology.processors) {
    // Only where the inputs exist: asking kafkajs about a topic that does not would make it
    // refresh metadata for it from then on, and fail the creation that follows.
    if (!names.has(processor.diffs) || !processor.inputs.every((topic) => existing.has(topic))) continue;
    const group = groupId(topology, processor);
    const committed = await admin.fetchOffsets({ groupId: group, topics: [...processor.inputs] }).catch(() => []);
    const processed = committed.some(({ partitions }) => partitions.some((p) => Number(p.offset) > 0));
    if (!processed) continue;
    warnings.set(processor.diffs, [
      ...(warnings.get(processor.diffs) ?? []),
      `WARNING: consumer group ${group} has committed offsets, so processor ${processor.name} ran before with a changelog that is gone: its stores hold history this new, empty changelog does not, and the processor will refuse those partitions; write that history back with graphfold repair changelog --topology ${topology.origin} --processor ${processor.name} (or give it up with graphfold repair store ... --discard)`,
    ]);
  }
  return warnings;
}
