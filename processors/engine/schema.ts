import type { Value } from './model';

/**
 * An optional graph schema, checked while a transaction is validated. Every part
 * is optional; what a schema leaves out is not checked.
 */
export interface GraphSchema {
  /** The only entity types allowed. */
  readonly entities?: readonly string[];
  /** The only relation types allowed, each with its rule. */
  readonly relations?: Readonly<Record<string, RelationRule>>;
  /** Enum definitions: `Enum:<Name>` values must be one of these symbols. */
  readonly enums?: Readonly<Record<string, readonly string[]>>;
}

export interface RelationRule {
  /** Types allowed at the source end (entity/relation types or value types). Absent: any. */
  readonly source?: readonly string[];
  /** Types allowed at the target end. Absent: any. */
  readonly target?: readonly string[];
  /** `one`: at most one live relation of this type out of a source. Default `many`. */
  readonly cardinality?: 'one' | 'many';
}

/** Why an entity type is not allowed, or undefined. */
export function entityViolation(schema: GraphSchema, type: string): string | undefined {
  if (schema.entities === undefined || schema.entities.includes(type)) return undefined;
  return `entity type '${type}' is not in the graph schema (allowed: ${schema.entities.join(', ')})`;
}

/** Why a relation of `type` between ends of these types is not allowed, or undefined. */
export function relationViolation(schema: GraphSchema, type: string, sourceType: string, targetType: string): string | undefined {
  if (schema.relations === undefined) return undefined;
  const rule = schema.relations[type];
  if (rule === undefined) return `relation type '${type}' is not in the graph schema`;
  if (rule.source !== undefined && !rule.source.includes(sourceType)) {
    return `relation '${type}' may not start at a '${sourceType}' (allowed: ${rule.source.join(', ')})`;
  }
  if (rule.target !== undefined && !rule.target.includes(targetType)) {
    return `relation '${type}' may not end at a '${targetType}' (allowed: ${rule.target.join(', ')})`;
  }
  return undefined;
}

/** True when the schema allows at most one live relation of this type out of a source. */
export function isSingular(schema: GraphSchema, type: string): boolean {
  return schema.relations?.[type]?.cardinality === 'one';
}

/** Why a value is not allowed (an enum symbol the schema does not define), or undefined. */
export function valueViolation(schema: GraphSchema, value: Value): string | undefined {
  if (value.type !== 'Enum' || schema.enums === undefined) return undefined;
  const symbols = schema.enums[value.enum];
  if (symbols === undefined) return `enum '${value.enum}' is not in the graph schema`;
  if (!symbols.includes(value.value)) return `'${value.value}' is not a symbol of enum ${value.enum} (symbols: ${symbols.join(', ')})`;
  return undefined;
}
