import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';

const run = promisify(execFile);
const root = join(__dirname, '../../..');

describe('TopologyTestDriver under node:test', () => {
  test('node-test-example.ts passes with `node --test`, no jest in the process', async () => {
    // Bundled to three folders below the root, where the codecs find schemas/ as they do from dist/processors/codec.
    const out = join(root, '.cache/test-artefacts/node-test');
    await mkdir(out, { recursive: true });
    const file = join(out, 'node-test-example.js');
    await build({ entryPoints: [join(__dirname, 'node-test-example.ts')], outfile: file, bundle: true, platform: 'node', format: 'cjs', packages: 'external', logLevel: 'silent' });
    const { stdout } = await run(process.execPath, ['--test', '--test-reporter=tap', file], { cwd: root });
    expect(stdout).toMatch(/^# pass 1$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
    expect(stdout).toContain('ok 1 - an order placed by a customer is slice 1 of its graph');
  }, 60_000);
});
