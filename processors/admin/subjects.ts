import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type { Type } from 'avsc';
import { avroTypes, registrableSchema } from '../codec/avro';
import { SchemaCatalog } from '../runtime/schema-catalog';
import type { RegistrySpec, Topology } from '../runtime/topology';
import { registryFailure } from './cluster-failure';
import { topicPlans, type TopicRole } from './topics';

/** A registry subject the topology needs: `<topic>-value` holding the schema of what the topic carries. */
export interface SubjectPlan {
  readonly topic: string;
  readonly subject: string;
  readonly type: Type;
  /** The schema's full name, e.g. `graphfold.GraphDiff`. */
  readonly schemaName: string;
}

/**
 * Input topics carry GraphTransaction, diffs topics GraphDiff, rejections topics Rejection
 * (schemas/README.md). A topic that is one processor's diffs and another's input carries GraphDiff:
 * the reading processor folds diffs as instructions.
 */
export function subjectPlans(topology: Topology): SubjectPlan[] {
  const types = avroTypes();
  const byRole: Record<TopicRole, Type> = { input: types.transaction, diffs: types.diff, rejections: types.rejection };
  return topicPlans(topology).map(({ topic, role }) => {
    const type = byRole[role];
    return { topic, subject: `${topic}-value`, type, schemaName: type.name ?? role };
  });
}

/** Registers subjects, telling a schema already there from a new one. */
export class SubjectRegistrar {
  private readonly client: SchemaRegistry;
  private readonly catalog: SchemaCatalog;

  constructor(private readonly spec: RegistrySpec) {
    this.client = new SchemaRegistry({ host: spec.url, clientId: 'graphfold', ...(spec.auth === undefined ? {} : { auth: { ...spec.auth } }) });
    this.catalog = new SchemaCatalog(spec);
  }

  /** The id of the plan's schema under its subject, registering it when it is not there yet. */
  async ensure(plan: SubjectPlan): Promise<{ readonly id: number; readonly registered: boolean }> {
    const existing = await this.lookup(plan);
    if (existing !== undefined) return { id: existing, registered: false };
    return { id: await this.catalog.register(plan.topic, plan.type), registered: true };
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
