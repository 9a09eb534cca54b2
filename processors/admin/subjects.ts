import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import { avroTypes, registrableSchema } from '../codec/avro';
import { registryClient } from '../runtime/registry-client';
import { SchemaCatalog } from '../runtime/schema-catalog';
import type { RegistrySpec, Topology } from '../runtime/topology';
import { registryFailure } from './cluster-failure';
import { CompatibilityConfig, compatibilityRules, type CompatibilityOutcome, type CompatibilityRule } from './compatibility';
import { topicPlans, type TopicRole } from './topics';

/** A registry subject the topology needs: `<topic>-value` holding the schema of what the topic carries. */
export interface SubjectPlan {
  readonly topic: string;
  readonly subject: string;
  readonly type: Type;
  /** The schema's full name, e.g. `graphfold.GraphDiff`. */
  readonly schemaName: string;
  /** The compatibility the subject must have, by its topic's role. */
  readonly compatibility: CompatibilityRule;
}

/**
 * Input topics carry GraphTransaction, diffs topics GraphDiff, rejections topics Rejection
 * (schemas/README.md). A topic that is one processor's diffs and another's input carries
 * GraphDiff, with the diffs' compatibility: the reading processor folds diffs as instructions.
 */
export function subjectPlans(topology: Topology): SubjectPlan[] {
  const types = avroTypes();
  const byRole: Record<TopicRole, Type> = { input: types.transaction, diffs: types.diff, rejections: types.rejection };
  return topicPlans(topology).map(({ topic, role }) => {
    const type = byRole[role];
    return { topic, subject: `${topic}-value`, type, schemaName: type.name ?? role, compatibility: compatibilityRules[role] };
  });
}

/** Registers subjects, telling a schema already there from a new one, and gives each its compatibility. */
export class SubjectRegistrar {
  private readonly client: SchemaRegistry;
  private readonly catalog: SchemaCatalog;
  private readonly config: CompatibilityConfig;

  constructor(private readonly spec: RegistrySpec) {
    this.client = registryClient(spec);
    this.catalog = new SchemaCatalog(spec);
    this.config = new CompatibilityConfig(spec);
  }

  /**
   * 1. Gives the subject its role's compatibility, unless it has an accepted one or was set
   *    otherwise (then reported, and left alone).
   * 2. Registers the plan's schema under it unless it is there; the registry checks it against
   *    the subject's rule, so graphfold's own schema changes obey the rules it sets.
   */
  async ensure(plan: SubjectPlan): Promise<{ readonly id: number; readonly registered: boolean; readonly compatibility: CompatibilityOutcome }> {
    const compatibility = await this.config.ensure(plan.subject, plan.compatibility);
    const existing = await this.lookup(plan);
    if (existing !== undefined) return { id: existing, registered: false, compatibility };
    return { id: await this.catalog.register(plan.topic, plan.type), registered: true, compatibility };
  }

  private async lookup(plan: SubjectPlan): Promise<number | undefined> {
    try {
      return await this.client.getRegistryIdBySchema(plan.subject, { type: SchemaType.AVRO, schema: registrableSchema(plan.type) });
    } catch (error) {
      // The client rethrows the registry's 404 (subject or schema not found) as this one class.
      if ((error as Error).name === 'ConfluentSchemaRegistryError') return undefined;
      throw registryFailure(error, this.spec, `look up ${plan.schemaName} under ${plan.subject}`);
    }
  }
}
