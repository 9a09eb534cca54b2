import type { Node } from 'yaml';
import type { GraphSchema, RelationRule } from '../processors/engine/schema';
import { isValueType, plainValueTypes } from '../processors/engine/value';
import { list, object, oneOf, problemAt, record, string, type ReadContext } from './reader';
import { closest } from './suggestion';
import type { Path } from './yaml-source';

/**
 * The graph schema of a processor (`processors/engine/schema.ts`), inline in the topology or in a
 * file of its own, in the same shape:
 *
 * ```yaml
 * entities: [Person, Company]
 * enums:
 *   Seniority: [junior, senior, lead]
 * relations:
 *   WorksAt: { source: [Person], target: [Company], cardinality: one }
 *   Level: { source: [WorksAt], target: ['Enum:Seniority'] }
 * ```
 *
 * Beyond the shape, every type a relation rule names must exist: a listed entity type (when
 * `entities` is given), a relation type of the schema, or a value type (`Enum:<Name>` naming a
 * listed enum, when `enums` is given).
 */

/** The engine's rule for type names (entity and relation types). */
const typeNamePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const enumNamePattern = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

function typeNameProblem(what: string): (name: string) => string | undefined {
  return (name) => {
    if (!typeNamePattern.test(name)) return `'${name}' is not a valid ${what} name (letters, digits, _ . -; not starting with a digit)`;
    if ((plainValueTypes as readonly string[]).includes(name)) return `'${name}' is a value type; name the ${what} differently`;
    return undefined;
  };
}

function typeReferenceProblem(name: string): string | undefined {
  return typeNamePattern.test(name) || isValueType(name) ? undefined : `'${name}' is not a type name: write an entity or relation type, or a value type (${plainValueTypes.join(', ')}, Enum:<Name>, Quantity:<unit>)`;
}

const typeList = list('a list of type names, e.g. [Person, Company]', string('a type name', typeReferenceProblem), { minItems: 1, unique: true });

const relationRule = object<RelationRule>('a relation rule: a mapping with source, target and cardinality', {
  source: { read: typeList },
  target: { read: typeList },
  cardinality: { read: oneOf(['one', 'many'] as const) },
});

export const readGraphSchema = object<GraphSchema>(
  'a graph schema: a mapping with entities, relations and enums',
  {
    entities: { read: list('a list of entity type names, e.g. [Person, Company]', string('an entity type name', typeNameProblem('entity type')), { unique: true }) },
    relations: { read: record('a mapping from relation type names to their rules', typeNameProblem('relation type'), relationRule) },
    enums: {
      read: record(
        'a mapping from enum names to their symbols',
        (name) => (enumNamePattern.test(name) ? undefined : `'${name}' is not a valid enum name (letters, digits, _ . / -; not starting with a digit)`),
        list('a list of symbols, e.g. [junior, senior]', string('a symbol', (s) => (s === '' ? 'a symbol cannot be empty' : undefined)), { minItems: 1, unique: true }),
      ),
    },
  },
  checkReferences,
);

function checkReferences(schema: GraphSchema, _node: Node, path: Path, context: ReadContext): void {
  const relations = Object.keys(schema.relations ?? {});
  for (const [index, entity] of (schema.entities ?? []).entries()) {
    if (relations.includes(entity)) problemAt(context, [...path, 'entities', index], `'${entity}' is both an entity type and a relation type; give them different names`);
  }
  for (const [relation, rule] of Object.entries(schema.relations ?? {})) {
    for (const end of ['source', 'target'] as const) {
      for (const [index, type] of (rule[end] ?? []).entries()) {
        const why = unknownType(schema, relations, type);
        if (why !== undefined) problemAt(context, [...path, 'relations', relation, end, index], why);
      }
    }
  }
}

function unknownType(schema: GraphSchema, relations: readonly string[], type: string): string | undefined {
  if (isValueType(type)) {
    if (!type.startsWith('Enum:') || schema.enums === undefined) return undefined;
    const name = type.slice('Enum:'.length);
    if (Object.hasOwn(schema.enums, name)) return undefined;
    const near = closest(name, Object.keys(schema.enums));
    return `enum '${name}' is not defined in enums${near === undefined ? ` (defined: ${Object.keys(schema.enums).join(', ')})` : `; did you mean Enum:${near}?`}`;
  }
  if (relations.includes(type) || schema.entities === undefined || schema.entities.includes(type)) return undefined;
  const near = closest(type, [...schema.entities, ...relations, ...plainValueTypes]);
  return `'${type}' is not an entity type, relation type or value type of this schema${near === undefined ? '; add it to entities' : `; did you mean ${near}?`}`;
}
