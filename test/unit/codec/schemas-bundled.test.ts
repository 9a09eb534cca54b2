import { readFileSync } from 'node:fs';
import { Type } from 'avsc';
import { avroTypes, bundledFile, bundledText, registrableSchema, topLevelSchemas, type TopLevelSchemaName } from '../../../processors/codec/avro';

const names = Object.keys(topLevelSchemas) as TopLevelSchemaName[];

/** Every `"logicalType"` of a schema, with the field or type it sits on. */
function logicalTypes(schema: unknown, at = ''): string[] {
  if (Array.isArray(schema)) return schema.flatMap((s) => logicalTypes(s, at));
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as Record<string, unknown>;
  const here = typeof node['name'] === 'string' ? `${at}/${node['name']}` : at;
  const own = typeof node['logicalType'] === 'string' ? [`${at} ${node['type'] as string}:${node['logicalType']}`] : [];
  return [...own, ...Object.entries(node).flatMap(([k, v]) => (k === 'default' ? [] : logicalTypes(v, here)))];
}

describe('schemas/bundled: each top-level schema alone', () => {
  test.each(names)('%s is fresh: generated from schemas/*.avsc (run `npm run schemas:types` after changing a schema)', (name) => {
    expect(readFileSync(bundledFile(name), 'utf8')).toBe(bundledText(name));
  });

  test.each(names)('%s parses with no other file, and is the schema graphfold reads, writes and registers', (name) => {
    const text = readFileSync(bundledFile(name), 'utf8');
    const alone = Type.forSchema(JSON.parse(text) as Parameters<typeof Type.forSchema>[0], { registry: {} });
    const ours = { 'graphfold.GraphTransaction': avroTypes().transaction, 'graphfold.GraphDiff': avroTypes().diff, 'graphfold.Rejection': avroTypes().rejection }[name];
    expect(alone.name).toBe(name);
    expect(alone.fingerprint().toString('hex')).toBe(ours.fingerprint().toString('hex'));
    expect(JSON.parse(registrableSchema(ours))).toEqual(JSON.parse(text));
  });

  test('times are long timestamp-micros, and nothing else is', () => {
    const found = names.flatMap((name) => logicalTypes(JSON.parse(readFileSync(bundledFile(name), 'utf8'))));
    expect(found.sort()).toEqual(
      [
        '/GraphTransaction/time long:timestamp-micros',
        '/GraphTransaction/instructions/CreateAttribute/value/Value/value/TimeValue/micros long:timestamp-micros',
        '/GraphDiff/time long:timestamp-micros',
        '/GraphDiff/changes/Assigned/previous/Value/value/TimeValue/micros long:timestamp-micros',
      ].sort(),
    );
  });
});
