import type { Type } from 'avsc';

/**
 * Where the task core finds the writer schemas of the records it reads: the runtime's
 * `SchemaCatalog` (the schema registry), or the test driver's in-memory registry. `fetch` is
 * awaited before records framed with those ids are decoded; an id it does not find stays out of
 * `known` (the record is then rejected UNKNOWN_SCHEMA).
 */
export interface WriterSchemas {
  fetch(ids: Iterable<number>): Promise<void>;
  readonly known: ReadonlyMap<number, Type>;
}
