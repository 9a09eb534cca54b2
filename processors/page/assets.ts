import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';

/**
 * The live page's built files (`npm run build` bundles `processors/page/web` into `dist/page`),
 * served by the query server at `/` and `/page/<file>`. They hold no data (the page reads the
 * graph through the query API, with the bearer token the user gives it), so they need no token.
 * A fixed handful of files read once into memory: no path from a request ever reaches the file
 * system, which is why this is not a general static-file server.
 */

/** The files of a build, by the name they are served under. */
const files = {
  'index.html': 'text/html; charset=utf-8',
  'page.js': 'text/javascript; charset=utf-8',
  'page.css': 'text/css; charset=utf-8',
  'page.js.map': 'application/json; charset=utf-8',
  'page.css.map': 'application/json; charset=utf-8',
  'page.js.LEGAL.txt': 'text/plain; charset=utf-8',
} as const;

/** Where the page's files are served; none needs a token. */
export function isPagePath(path: string): boolean {
  return path === '/' || path === '/index.html' || (path.startsWith('/page/') && Object.hasOwn(files, path.slice('/page/'.length)));
}

/** `dist/page` of the package this module belongs to (from its sources or from dist). */
export function pageDirectory(): string | undefined {
  for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const candidate = join(dir, 'dist', 'page');
    if (existsSync(join(candidate, 'index.html'))) return candidate;
  }
  return undefined;
}

/**
 * Headers of every page file: the page runs only its own script and talks only to this server.
 * Cytoscape sets inline styles on its canvases, hence style-src 'unsafe-inline'.
 */
const pageHeaders = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
} as const;

/** Mounts the page at `/`; without a build, `/` answers 404 saying how to build it. */
export async function registerPage(app: FastifyInstance, directory = pageDirectory()): Promise<void> {
  const loaded = new Map<string, Buffer>();
  if (directory !== undefined) {
    for (const name of Object.keys(files)) {
      const file = join(directory, name);
      if (existsSync(file)) loaded.set(name, await readFile(file));
    }
  }
  const send = (name: keyof typeof files) => async (_request: unknown, reply: FastifyReply) => {
    const body = loaded.get(name);
    if (body === undefined) {
      return reply.code(404).send({ error: 'not_found', message: 'the live page is not built: run npm run build (it bundles processors/page/web into dist/page)' });
    }
    return reply.headers(pageHeaders).type(files[name]).send(body);
  };
  app.get('/', { schema: { hide: true } }, send('index.html'));
  app.get('/index.html', { schema: { hide: true } }, send('index.html'));
  for (const name of Object.keys(files) as (keyof typeof files)[]) app.get(`/page/${name}`, { schema: { hide: true } }, send(name));
}
