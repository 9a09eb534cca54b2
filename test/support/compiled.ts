import { existsSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';

const repoRoot = resolve(__dirname, '..', '..');

/**
 * The compiled JavaScript of one of this repo's TypeScript modules, for tests that run it in a
 * child process (a CLI, a processor to crash). `npm test` builds first; this fails with what to do
 * when `dist/` is missing or older than the source.
 */
export function compiledModule(source: string): string {
  const sourcePath = resolve(repoRoot, source);
  const compiled = join(repoRoot, 'dist', relative(repoRoot, sourcePath)).replace(/\.ts$/, '.js');
  if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(sourcePath).mtimeMs) {
    throw new Error(`${relative(repoRoot, compiled)} is missing or older than ${source}: run npm run build (npm test does)`);
  }
  return compiled;
}
