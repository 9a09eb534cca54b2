import { execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '../../..');
const config = join(root, 'test/architecture/dependency-cruiser.cjs');
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');

/** Runs dependency-cruiser with the project's rules over `paths` of `cwd`; the exit code and the report. */
async function cruise(cwd: string, paths: readonly string[]): Promise<{ readonly code: number; readonly report: string }> {
  try {
    const { stdout } = await run(process.execPath, [depcruise, ...paths, '--config', config, '--output-type', 'err'], { cwd });
    return { code: 0, report: stdout };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string };
    return { code: failed.code ?? -1, report: failed.stdout ?? '' };
  }
}

describe('the import direction (test/architecture/dependency-cruiser.cjs, npm run lint:imports)', () => {
  test('graphfold itself follows it: no cycle, no layer importing one above it', async () => {
    const { code, report } = await cruise(root, ['processors', 'topology', 'test']);
    expect(report).toContain('no dependency violations found');
    expect(code).toBe(0);
  }, 60_000);

  test('a cycle, the engine importing the CLI, the store, the task core or the test driver importing the runtime, and the runtime the CLI each fail it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'graphfold-imports-'));
    const files: Record<string, string> = {
      'tsconfig.json': JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', strict: true } }),
      'processors/engine/a.ts': "import { b } from './b';\nexport const a = (): number => b() + 1;\n",
      'processors/engine/b.ts': "import { a } from './a';\nexport const b = (): number => (a.length > 9 ? 0 : 1);\n",
      'processors/engine/c.ts': "import type { Cli } from '../cli/main';\nexport type C = Cli;\n",
      'processors/store/s.ts': "import { r } from '../runtime/r';\nexport const s = r;\n",
      'processors/runtime/r.ts': "import { cli } from '../cli/main';\nexport const r = cli;\n",
      'processors/task/t.ts': "import { r } from '../runtime/r';\nexport const t = r;\n",
      'processors/testing/d.ts': "import { r } from '../runtime/r';\nimport type { Spec } from '../runtime/topology';\nexport const d: Spec = r;\n",
      'processors/runtime/topology.ts': 'export type Spec = number;\n',
      'processors/cli/main.ts': 'export const cli = 1;\nexport type Cli = number;\n',
    };
    try {
      for (const [path, text] of Object.entries(files)) {
        await mkdir(dirname(join(dir, path)), { recursive: true });
        await writeFile(join(dir, path), text);
      }
      const { code, report } = await cruise(dir, ['processors']);
      expect(code).not.toBe(0);
      expect(report).toMatch(/error no-circular: processors\/engine\/(a|b)\.ts/);
      expect(report).toContain('error engine-imports-nothing-above-it: processors/engine/c.ts → processors/cli/main.ts');
      expect(report).toContain('error store-does-not-import-runtime: processors/store/s.ts → processors/runtime/r.ts');
      expect(report).toContain('error runtime-does-not-import-cli: processors/runtime/r.ts → processors/cli/main.ts');
      expect(report).toContain('error task-core-knows-no-kafka: processors/task/t.ts → processors/runtime/r.ts');
      expect(report).toContain('error test-driver-knows-no-kafka: processors/testing/d.ts → processors/runtime/r.ts');
      expect(report).not.toContain('processors/testing/d.ts → processors/runtime/topology.ts');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
