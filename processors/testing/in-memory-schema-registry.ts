import { Type } from 'avsc';
import { bigintLong } from '../codec/avro';
import type { WriterSchemas } from '../task/writer-schemas';

/**
 * A schema registry in memory, for {@link TopologyTestDriver} only: it stands in for the real
 * registry (a server speaking the Confluent REST API) so that a topology can be tested with no
 * server at all. It keeps what the processor relies on: ids are global and never change meaning,
 * the same schema gets the same id under any subject (as the Confluent registry gives it), an id
 * nobody registered is unknown (records framed with it are rejected UNKNOWN_SCHEMA). It does not
 * check compatibility between the versions of a subject: the real-registry tests do
 * (`schemas/README.md`, "Evolution").
 */
export class InMemorySchemaRegistry implements WriterSchemas {
  private readonly byId = new Map<number, Type>();
  private readonly idByFingerprint = new Map<string, number>();
  private readonly subjects = new Map<string, number[]>();

  /**
   * Registers a schema (Avro schema JSON, as text or parsed, or an avsc Type) under `subject` and
   * returns its id: the id it already has if the same schema was registered before, under any
   * subject; otherwise the next id (from 1).
   */
  register(subject: string, schema: string | object | Type): number {
    const type = parse(schema);
    const fingerprint = type.fingerprint().toString('hex');
    let id = this.idByFingerprint.get(fingerprint);
    if (id === undefined) {
      id = this.byId.size + 1;
      this.byId.set(id, type);
      this.idByFingerprint.set(fingerprint, id);
    }
    const versions = this.subjects.get(subject) ?? [];
    if (!versions.includes(id)) versions.push(id);
    this.subjects.set(subject, versions);
    return id;
  }

  /** The ids registered under `subject`, oldest first (version 1 first). */
  versions(subject: string): readonly number[] {
    return [...(this.subjects.get(subject) ?? [])];
  }

  /** The subjects registered so far. */
  get subjectNames(): readonly string[] {
    return [...this.subjects.keys()];
  }

  /** Nothing to fetch: every registered schema is known at once. */
  fetch(_ids: Iterable<number>): Promise<void> {
    return Promise.resolve();
  }

  /** The registered schemas by id, parsed so that longs read as bigints (as the processor reads them). */
  get known(): ReadonlyMap<number, Type> {
    return this.byId;
  }
}

/** A schema as the processor reads a writer schema: longs as bigints. */
function parse(schema: string | object | Type): Type {
  const json = Type.isType(schema) ? (schema as Type).schema() : typeof schema === 'string' ? (JSON.parse(schema) as unknown) : schema;
  return Type.forSchema(json as Parameters<typeof Type.forSchema>[0], { registry: { long: bigintLong as unknown as Type } });
}
