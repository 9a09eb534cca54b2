import { setTimeout as sleep } from 'node:timers/promises';
import { type SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { Type } from 'avsc';
import { bigintLong, registrableSchema } from '../codec/avro';
import { FatalError, RetriableError } from '../errors';
import { registryRefusal } from './access-refusal';
import { registryClient, registryRequest } from './registry-client';
import type { RegistrySpec } from './topology';

/**
 * The schema registry as graphfold uses it (Confluent REST API, through
 * `@kafkajs/confluent-schema-registry`): register the schemas graphfold writes, and fetch the
 * writer schemas of records it reads, parsed so that longs decode to bigints. Fetched schemas are
 * cached for the life of the catalog; a schema id never changes meaning.
 */
export class SchemaCatalog {
  private readonly client: SchemaRegistry;
  private readonly found = new Map<number, Type>();
  private readonly missing = new Set<number>();

  constructor(readonly spec: RegistrySpec) {
    this.client = registryClient(spec, { retries: 5, initialRetryTimeInSecs: 0.2, maxRetryTimeInSecs: 5 });
  }

  /**
   * Registers `type` under the subject `<topic>-value` (the registry checks compatibility with
   * what is there) and returns its id. Registering the same schema again returns the same id, also
   * when several instances register it at once.
   */
  async register(topic: string, type: Type): Promise<number> {
    const subject = `${topic}-value`;
    const schema = { type: SchemaType.AVRO, schema: registrableSchema(type) } as const;
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.post(subject, schema.schema);
      } catch (error) {
        if (statusOf(error) !== 409) {
          const refusal = registryRefusal(error, this.spec, `register ${type.name ?? 'a schema'} under ${subject}`);
          if (refusal !== undefined) throw refusal;
          throw new RetriableError(`cannot register ${type.name ?? 'a schema'} under ${subject} at ${this.spec.url}: ${(error as Error).message}; is the registry up?`, { topic }, { cause: error });
        }
        // 409 is also what a registry may answer when another instance registers the same schema
        // at the same moment: it is then there, or will be on the next try.
        const existing = await this.client.getRegistryIdBySchema(subject, schema).catch(() => undefined);
        if (existing !== undefined) return existing;
        if (attempt === 3) {
          throw new FatalError(
            `the registry refuses ${type.name ?? 'the schema'} under subject ${subject}: it is not compatible with the versions there under the subject's compatibility rule (${(error as Error).message}); the versions there are not ones this graphfold can share a topic with (schemas/README.md, "Evolution"): use another topic, or remove the versions that block it`,
            { topic },
            { cause: error },
          );
        }
        await sleep(200 * attempt);
      }
    }
  }

  /**
   * POST /subjects/{subject}/versions. Not the client's `register`: that one refuses unless the
   * subject's compatibility is the one it was given, and graphfold gives each role its own.
   */
  private async post(subject: string, schema: string): Promise<number> {
    const response = await registryRequest(this.spec, 'POST', `/subjects/${encodeURIComponent(subject)}/versions`, { schema });
    const body = (await response.json().catch(() => ({}))) as { id?: unknown; message?: unknown };
    if (response.ok && typeof body.id === 'number') return body.id;
    throw Object.assign(new Error(typeof body.message === 'string' ? body.message : `HTTP ${response.status}`), { status: response.status });
  }

  /** Fetches the writer schemas of these ids that are not known yet; ids the registry does not have stay unknown. */
  async fetch(ids: Iterable<number>): Promise<void> {
    const wanted = [...new Set(ids)].filter((id) => !this.found.has(id) && !this.missing.has(id));
    await Promise.all(
      wanted.map(async (id) => {
        const type = await this.writer(id);
        if (type === undefined) this.missing.add(id);
        else this.found.set(id, type);
      }),
    );
  }

  /** The writer schemas fetched so far, by id. */
  get known(): ReadonlyMap<number, Type> {
    return this.found;
  }

  private async writer(id: number): Promise<Type | undefined> {
    try {
      const parsed = (await this.client.getSchema(id)) as unknown as Type;
      return Type.forSchema(parsed.schema() as Parameters<typeof Type.forSchema>[0], { registry: { long: bigintLong as unknown as Type } });
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      const refusal = registryRefusal(error, this.spec, `fetch schema id ${id}`);
      if (refusal !== undefined) throw refusal;
      throw new RetriableError(`cannot fetch schema id ${id} from ${this.spec.url}: ${(error as Error).message}; is the registry up?`, {}, { cause: error });
    }
  }
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown }).status;
  return typeof status === 'number' ? status : undefined;
}
