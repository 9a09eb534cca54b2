import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { types, type Type } from 'avsc';
import { avroTypes, bigintLong, bundledFile, bundledText, topLevelSchemas, type TopLevelSchemaName } from './avro';

/**
 * Generates the TypeScript shapes avsc reads and writes for the schemas of `schemas/`, so the
 * wire types cannot drift from the `.avsc` files: `npm run schemas:types` rewrites
 * `avro-wire.generated.ts`, and a unit test fails when the committed file is stale.
 *
 * It walks the parsed avsc types rather than the JSON, so a union is wrapped in the generated
 * types exactly when avsc wraps it.
 */
export function generateWireTypes(): string {
  const declarations = new Map<string, string>();

  const shortName = (fullName: string): string => `Avro${fullName.slice(fullName.lastIndexOf('.') + 1)}`;

  const render = (type: Type): string => {
    if (type === (bigintLong as unknown as Type)) return 'bigint';
    if (type instanceof types.RecordType) {
      const name = shortName(type.name as string);
      if (!declarations.has(name)) {
        declarations.set(name, '');
        const fields = type.fields.map((field) => `  readonly ${field.name}: ${render(field.type)};`);
        declarations.set(name, `export interface ${name} {\n${fields.join('\n')}\n}`);
      }
      return name;
    }
    if (type instanceof types.EnumType) {
      const name = shortName(type.name as string);
      declarations.set(name, `export type ${name} = ${type.symbols.map((s) => `'${s}'`).join(' | ')};`);
      return name;
    }
    if (type instanceof types.ArrayType) return `readonly (${render(type.itemsType)})[]`;
    if (type instanceof types.MapType) return `Readonly<Record<string, ${render(type.valuesType)}>>`;
    if (type instanceof types.WrappedUnionType) {
      return type.types.map((branch) => (branch.typeName === 'null' ? 'null' : `{ readonly '${branch.branchName}': ${render(branch)} }`)).join(' | ');
    }
    if (type instanceof types.UnwrappedUnionType) return type.types.map(render).join(' | ');
    switch (type.typeName) {
      case 'null':
        return 'null';
      case 'boolean':
        return 'boolean';
      case 'int':
      case 'float':
      case 'double':
        return 'number';
      case 'string':
        return 'string';
      case 'bytes':
      case 'fixed':
        return 'Buffer';
      default:
        throw new Error(`avro-typegen: no TypeScript rendering for Avro type '${type.typeName}'`);
    }
  };

  const roots = avroTypes();
  for (const type of [roots.transaction, roots.diff, roots.rejection]) render(type);
  const body = [...declarations.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, text]) => text)
    .join('\n\n');
  return `// Generated from schemas/*.avsc by \`npm run schemas:types\`. Do not edit.\n\n${body}\n`;
}

export const generatedFile = join(__dirname, 'avro-wire.generated.ts');

/**
 * `npm run schemas:types`: rewrites the wire types and the self-contained schemas of
 * `schemas/bundled/` (a unit test fails when either is stale).
 */
if (require.main === module) {
  const target = join(__dirname.replace(/[/\\]dist[/\\]/, '/'), 'avro-wire.generated.ts');
  writeFileSync(target, generateWireTypes());
  process.stdout.write(`wrote ${target}\n`);
  for (const name of Object.keys(topLevelSchemas) as TopLevelSchemaName[]) {
    const file = bundledFile(name);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, bundledText(name));
    process.stdout.write(`wrote ${file}\n`);
  }
}
