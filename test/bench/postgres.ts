import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const run = promisify(execFile);

/** A relation as an edge: its ends, and the slices it lived in (ended: null while alive). */
export interface Edge {
  readonly graph: string;
  readonly source: string;
  readonly target: string;
  readonly created: number;
  readonly ended: number | null;
}

/** A PostgreSQL server of its own for the benchmark (Debian's package), in a temporary directory. */
export interface Postgres {
  readonly client: Client;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest === undefined) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: install them (Debian: apt-get install -y postgresql)');
  return join(root, newest, 'bin');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** initdb refuses root: as root, PostgreSQL's programs run as the `postgres` user. */
async function asServerUser(program: string, args: readonly string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'runuser' : program, asRoot ? ['-u', 'postgres', '--', program, ...args] : [...args], { maxBuffer: 1 << 24 });
}

/** Starts PostgreSQL in `dir` on a free port, tuned for a read benchmark (no fsync), and connects. */
export async function startPostgres(dir: string): Promise<Postgres> {
  const bin = binDir();
  const data = join(dir, 'data');
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o777);
  await asServerUser(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'bench', '--no-sync']);
  const port = await freePort();
  const options = [`-p ${port}`, `-k ${dir}`, "-c listen_addresses='127.0.0.1'", '-c fsync=off', '-c synchronous_commit=off', '-c shared_buffers=256MB', '-c work_mem=64MB', '-c max_wal_size=4GB'].join(' ');
  await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'postgres.log'), '-w', 'start']);
  const client = new Client({ host: '127.0.0.1', port, user: 'bench', database: 'postgres' });
  await client.connect();
  return {
    client,
    async stop() {
      await client.end();
      await asServerUser(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The edges in a table indexed for traversal in both directions, analysed. */
export async function loadEdges(client: Client, edges: Iterable<Edge>): Promise<number> {
  await client.query('CREATE TABLE edges (graph text NOT NULL, src text NOT NULL, dst text NOT NULL, created bigint NOT NULL, ended bigint)');
  let count = 0;
  const rows = (function* (): Generator<string> {
    for (const e of edges) {
      count += 1;
      yield `${e.graph}\t${e.source}\t${e.target}\t${e.created}\t${e.ended ?? '\\N'}\n`;
    }
  })();
  await pipeline(Readable.from(rows), client.query(copyFrom('COPY edges FROM STDIN')));
  await client.query('CREATE INDEX edges_src ON edges (graph, src, created)');
  await client.query('CREATE INDEX edges_dst ON edges (graph, dst, created)');
  await client.query('ANALYZE edges');
  return count;
}

/**
 * The atoms within `hops` relations of `start` in a graph as of `slice` (relations in either
 * direction; the start included): a recursive CTE over the edge table, the usual way.
 */
export async function postgresNeighbourhood(client: Client, graph: string, start: string, hops: number, slice: number): Promise<number> {
  const result = await client.query<{ count: string }>(
    `WITH RECURSIVE reach(node, depth) AS (
       SELECT $2::text, 0
       UNION
       SELECT n.node, r.depth + 1
       FROM reach r
       CROSS JOIN LATERAL (
         SELECT e.dst AS node FROM edges e WHERE e.graph = $1 AND e.src = r.node AND e.created <= $4 AND (e.ended IS NULL OR e.ended > $4)
         UNION ALL
         SELECT e.src AS node FROM edges e WHERE e.graph = $1 AND e.dst = r.node AND e.created <= $4 AND (e.ended IS NULL OR e.ended > $4)
       ) n
       WHERE r.depth < $3
     )
     SELECT count(DISTINCT node) AS count FROM reach`,
    [graph, start, hops, slice],
  );
  return Number(result.rows[0]?.count ?? 0);
}
