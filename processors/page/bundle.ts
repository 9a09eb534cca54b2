import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import { build } from 'esbuild';

/**
 * `npm run build`'s page step: bundles the page's TypeScript (processors/page/web, with
 * Cytoscape.js) and its stylesheet into dist/page with esbuild, and copies index.html beside
 * them. Everything the page needs at run time is in those files: the query server serves them
 * at `/` with no network.
 */
function packageRoot(): string {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'processors', 'page', 'web'))) return dir;
  throw new Error('processors/page/web not found above this module');
}

async function bundle(): Promise<void> {
  const root = packageRoot();
  const web = join(root, 'processors', 'page', 'web');
  const out = join(root, 'dist', 'page');
  await mkdir(out, { recursive: true });
  const result = await build({
    entryPoints: { page: join(web, 'main.ts') },
    outdir: out,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'iife',
    target: ['es2022'],
    platform: 'browser',
    tsconfig: join(web, 'tsconfig.json'),
    legalComments: 'linked',
    metafile: true,
    logLevel: 'warning',
  });
  await copyFile(join(web, 'index.html'), join(out, 'index.html'));
  const sizes = Object.entries(result.metafile.outputs)
    .filter(([file]) => !file.endsWith('.map'))
    .map(([file, output]) => `${file.split('/').pop()} ${Math.round(output.bytes / 1024)} KiB`);
  process.stdout.write(`the live page, bundled into dist/page: ${sizes.join(', ')}\n`);
}

bundle().catch((error: unknown) => {
  process.stderr.write(`graphfold: the page did not build: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
