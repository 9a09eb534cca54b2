import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(__dirname, '../../..');

/** README.md's "Testing your topology" example is the test that runs it (test/unit/testing/readme-example.test.ts), with the import a user writes. */
describe('README.md, Testing your topology', () => {
  test('the example is test/unit/testing/readme-example.test.ts as a user writes it', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Testing your topology'));
    const shown = /<!-- recipe: topology-test-driver[^\n]*-->\n```ts\n([\s\S]*?)\n```/.exec(section)?.[1];
    const file = readFileSync(join(root, 'test/unit/testing/readme-example.test.ts'), 'utf8');
    const asWritten = file
      .split('\n')
      .slice(1)
      .join('\n')
      .replace("from '../../../processors/testing'", "from 'graphfold/dist/processors/testing'")
      .trimEnd();
    expect(shown).toBe(asWritten);
  });

  test('graphfold/dist/processors/testing is what the build makes of processors/testing', () => {
    const build = JSON.parse(readFileSync(join(root, 'tsconfig.build.json'), 'utf8')) as { include: string[]; exclude: string[] };
    expect(build.include).toContain('processors');
    expect(build.exclude.some((pattern) => 'processors/testing'.startsWith(pattern))).toBe(false);
  });
});
