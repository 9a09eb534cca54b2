import { types, type Type } from 'avsc';

/**
 * Why a reader schema cannot read data of a writer schema (Avro schema resolution), as the first
 * field, branch or symbol to blame: `field 'txId' ...`, `instructions[]: branch ...`. Undefined
 * when it can. For messages only: avsc's resolver decides, this explains its refusal.
 */
export function unreadableBecause(writer: Type, reader: Type): string | undefined {
  return explain(writer, reader, '');
}

function readable(writer: Type, reader: Type): boolean {
  try {
    reader.createResolver(writer);
    return true;
  } catch {
    return false;
  }
}

function explain(writer: Type, reader: Type, path: string): string | undefined {
  if (readable(writer, reader)) return undefined;
  const at = path === '' ? '' : `${path}: `;
  const written = branchesOf(writer);
  const read = branchesOf(reader);
  if (written !== undefined) {
    for (const branch of written) {
      if (read === undefined ? readable(branch, reader) : read.some((r) => readable(branch, r))) continue;
      const named = (read ?? [reader]).find((r) => nameOf(r) === nameOf(branch));
      if (named !== undefined) return explain(branch, named, path) ?? `${at}branch ${nameOf(branch)} does not resolve`;
      return `${at}the writer's branch ${nameOf(branch)} is not one graphfold knows (it reads ${(read ?? [reader]).map(nameOf).join(', ')})`;
    }
  }
  if (read !== undefined) {
    const named = read.find((r) => nameOf(r) === nameOf(writer));
    if (named !== undefined) return explain(writer, named, path);
    return `${at}the writer has ${nameOf(writer)}, which is none of graphfold's branches (${read.map(nameOf).join(', ')})`;
  }
  if (writer instanceof types.RecordType && reader instanceof types.RecordType) {
    if (writer.name !== reader.name && !(reader.aliases ?? []).includes(writer.name as string)) return `${at}the writer's record is ${writer.name ?? 'unnamed'}, not ${reader.name ?? 'unnamed'}`;
    for (const field of reader.fields) {
      const source = writer.fields.find((w) => w.name === field.name || (field.aliases ?? []).includes(w.name));
      const where = path === '' ? field.name : `${path}.${field.name}`;
      if (source === undefined) {
        if (field.defaultValue() === undefined) return `field ${where} is missing from the writer schema, and graphfold needs it (it has no default)`;
        continue;
      }
      const why = explain(source.type, field.type, where);
      if (why !== undefined) return why;
    }
  }
  if (writer instanceof types.ArrayType && reader instanceof types.ArrayType) return explain(writer.itemsType, reader.itemsType, `${path}[]`);
  if (writer instanceof types.MapType && reader instanceof types.MapType) return explain(writer.valuesType, reader.valuesType, `${path}{}`);
  if (writer instanceof types.EnumType && reader instanceof types.EnumType) {
    const unknown = writer.symbols.filter((s) => !reader.symbols.includes(s));
    if (unknown.length > 0) return `${at}the writer's enum ${writer.name ?? ''} has symbol${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}, which graphfold does not know`;
  }
  return `${at}the writer's ${nameOf(writer)} cannot be read as graphfold's ${nameOf(reader)}`;
}

function branchesOf(type: Type): readonly Type[] | undefined {
  return type instanceof types.WrappedUnionType || type instanceof types.UnwrappedUnionType ? type.types : undefined;
}

function nameOf(type: Type): string {
  return type.name ?? type.typeName;
}
