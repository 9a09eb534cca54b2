import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rejectionCodes } from '../../processors/errors';
import { runGolden, type GoldenFile } from './golden-runner';

const dir = join(__dirname, '../fixtures/golden');
const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
const golden = files.map((name) => ({ name, file: JSON.parse(readFileSync(join(dir, name), 'utf8')) as GoldenFile }));

describe('golden fixtures (records in, diffs and rejections out)', () => {
  test.each(golden.map((g) => [g.name, g.file] as const))('%s', async (_name, file) => {
    const outcomes = await runGolden(file);
    expect(outcomes).toEqual(file.steps.map((step) => step.expect));
  });

  test('cover every instruction and every rejection code', () => {
    const text = golden.map((g) => JSON.stringify(g.file)).join('\n');
    for (const op of ['CreateEntity', 'CreateAttribute', 'CreateRelation', 'Assign', 'SetField', 'Terminate', 'Merge']) expect(text).toContain(`"op":"${op}"`);
    for (const code of rejectionCodes) expect(text).toContain(`"code":"${code}"`);
  });
});
