import { loadTopology } from '../../../topology/loader';
import { closest } from '../../../topology/suggestion';
import { showValue } from '../../engine/value';
import type { Change, GraphDiff, Value } from '../../engine/model';
import { diffFromJsonValue } from '../../codec/json';
import { QueryClient, type QueryAnswer } from '../../query/client';
import { optionsHelp, parseArguments, type OptionSpecs } from '../arguments';
import { CommandFailure, UsageError, type Command, type CommandIo } from '../command';
import { formatMicros, prettyDiff } from '../pretty';

/**
 * `graphfold query <what> <graph> ...`: the query API from the command line. Each subcommand is
 * one GET (watch: a changes stream, followed across reconnects); output is readable text, or
 * the API's JSON with --json.
 */
const common = {
  url: { kind: 'string', value: '<url>', description: 'the query API of any instance, e.g. http://127.0.0.1:7070 (default: the topology\'s query address)' },
  topology: { kind: 'string', value: '<file>', description: 'take the query API\'s address and token from this topology file' },
  token: { kind: 'string', value: '<token>', description: 'the bearer token (default: the topology\'s query.token)' },
  processor: { kind: 'string', value: '<name>', description: 'the processor whose graph to read (default: the topology\'s first)' },
  json: { kind: 'boolean', description: 'print the API\'s JSON answer' },
} as const;

const asOf = {
  'as-of': { kind: 'string', value: '<slice|time>', description: 'read as of a slice number, or a time (RFC 3339, or microseconds)' },
  'wait-for-tx': { kind: 'string', value: '<txId>', description: 'wait until this transaction is applied, then read as of its slice' },
  'wait-for-slice': { kind: 'integer', value: '<n>', min: 1, description: 'wait until the graph has slice n, then read as of it' },
  wait: { kind: 'string', value: '<duration>', description: 'how long to wait, e.g. 500ms or 5s (default 5s, at most 30s)' },
} as const;

interface Subcommand {
  readonly usage: string;
  readonly summary: string;
  readonly positionals: readonly string[];
  readonly options: OptionSpecs;
  readonly run: (context: Context) => Promise<number>;
}

interface Context {
  readonly client: QueryClient;
  readonly positionals: readonly string[];
  readonly options: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly io: CommandIo;
  readonly json: boolean;
}

const subcommands: Readonly<Record<string, Subcommand>> = {
  graph: {
    usage: 'graph <graph>',
    summary: 'the graph\'s head slice and time, partition and owner',
    positionals: ['<graph>'],
    options: asOf,
    run: (c) => show(c, `/v1/graphs/${seg(c, 0)}`, readParams(c), (b) => `graph ${str(b['graph'])}  slice ${num(b['slice'])} (${formatMicros(num(b['time']))}) of ${num(b['head'])}  processor ${str(b['processor'])}  partition ${num(b['partition'])}  owner ${str(b['owner'])}`),
  },
  atom: {
    usage: 'atom <graph> <uid>',
    summary: 'an atom: kind, type, lifetime, ends, value (and what an attribute hangs off)',
    positionals: ['<graph>', '<uid>'],
    options: asOf,
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/atoms/${seg(c, 1)}`, readParams(c), (b) => {
        const lines = [`${atomLine(b['atom'] as AtomBody)}  (as of slice ${num(b['slice'])} of ${num(b['head'])})`];
        for (const holder of (b['heldBy'] as { relation: { uid: string; type: string }; atom: AtomBody }[] | undefined) ?? []) lines.push(`  held by ${atomLine(holder.atom)}  via ${holder.relation.type} ${holder.relation.uid}`);
        return lines.join('\n');
      }),
  },
  atoms: {
    usage: 'atoms <graph> [--type <T>] [--limit <n>] [--cursor <c>]',
    summary: 'atoms of a type (or all), a page at a time',
    positionals: ['<graph>'],
    options: { ...asOf, type: { kind: 'string', value: '<type>', description: 'an entity or relation type' }, limit: { kind: 'integer', value: '<n>', min: 1, description: 'atoms per page (default 100)' }, cursor: { kind: 'string', value: '<cursor>', description: 'the next page, as the previous one said' } },
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/atoms`, { ...readParams(c), type: c.options['type'], limit: c.options['limit'], cursor: c.options['cursor'] }, (b) => {
        const lines = (b['atoms'] as AtomBody[]).map(atomLine);
        lines.push(`(${lines.length} atoms as of slice ${num(b['slice'])}${b['next'] === null ? '' : `; next page: --cursor ${str(b['next'])}`})`);
        return lines.join('\n');
      }),
  },
  relations: {
    usage: 'relations <graph> <uid> [--direction out|in|both] [--type <T>]',
    summary: 'an atom\'s relations, each with the atom at its other end',
    positionals: ['<graph>', '<uid>'],
    options: { ...asOf, direction: { kind: 'string', value: 'out|in|both', description: 'default both' }, type: { kind: 'string', value: '<type>', description: 'relations of this type only' } },
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/atoms/${seg(c, 1)}/relations`, { ...readParams(c), direction: c.options['direction'], type: c.options['type'] }, (b) => {
        const lines = (b['relations'] as { relation: { uid: string; type: string }; direction: string; other: AtomBody }[]).map((r) => `${r.direction === 'out' ? '-->' : '<--'} ${r.relation.type.padEnd(12)} ${atomLine(r.other)}  (relation ${r.relation.uid})`);
        lines.push(`(${lines.length} relations as of slice ${num(b['slice'])}${b['truncated'] === true ? ', more not shown' : ''})`);
        return lines.join('\n');
      }),
  },
  neighbours: {
    usage: 'neighbours <graph> <uid> [--hops <k>] [--direction out|in|both] [--type <T>]',
    summary: 'the atoms within k hops, nearest first',
    positionals: ['<graph>', '<uid>'],
    options: { ...asOf, hops: { kind: 'integer', value: '<k>', min: 1, description: 'default 2' }, direction: { kind: 'string', value: 'out|in|both', description: 'default both' }, type: { kind: 'string', value: '<type>', description: 'follow relations of this type only' }, limit: { kind: 'integer', value: '<n>', min: 1, description: 'at most n atoms (default 1000)' } },
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/neighbourhood`, { ...readParams(c), from: c.positionals[1], hops: c.options['hops'], direction: c.options['direction'], type: c.options['type'], limit: c.options['limit'], details: true }, (b) => {
        const lines = (b['atoms'] as { distance: number; atom: AtomBody }[]).map((a) => `${String(a.distance).padStart(2)}  ${atomLine(a.atom)}`);
        lines.push(`(${lines.length} atoms within ${num(b['hops'])} hops as of slice ${num(b['slice'])}${b['truncated'] === true ? ', more not shown' : ''})`);
        return lines.join('\n');
      }),
  },
  path: {
    usage: 'path <graph> <from> <to> [--max-hops <k>]',
    summary: 'a shortest path between two atoms',
    positionals: ['<graph>', '<from>', '<to>'],
    options: { ...asOf, 'max-hops': { kind: 'integer', value: '<k>', min: 1, description: 'the longest path looked for (default: the server\'s maximum)' } },
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/paths`, { ...readParams(c), from: c.positionals[1], to: c.positionals[2], maxHops: c.options['max-hops'] }, (b) => {
        const path = b['path'] as { relation: { type: string }; direction: string; atom: string }[] | null;
        if (path === null) return `no path within the hops allowed, as of slice ${num(b['slice'])}`;
        return [str(b['from']), ...path.map((step) => `  ${step.direction === 'out' ? `--${step.relation.type}-->` : `<--${step.relation.type}--`} ${step.atom}`), `(${path.length} hops as of slice ${num(b['slice'])})`].join('\n');
      }),
  },
  diff: {
    usage: 'diff <graph> <from> <to>',
    summary: 'the compacted diff between two slices',
    positionals: ['<graph>', '<from>', '<to>'],
    options: {},
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/diff`, { from: c.positionals[1], to: c.positionals[2], processor: c.options['processor'] }, (b) => {
        const changes = b['changes'] as Change[];
        return [`diff of graph ${str(b['graph'])} from slice ${num(b['from'])} to ${num(b['to'])}: ${changes.length} changes`, ...prettyDiff({ ...emptyDiff, changes: diffFromJsonValue({ ...emptyDiff, changes }).changes }).split('\n').slice(1)].join('\n');
      }),
  },
  slices: {
    usage: 'slices <graph> [--from <n>] [--to <n>] [--limit <n>]',
    summary: 'the slice log: slice, txId, time, origin',
    positionals: ['<graph>'],
    options: { from: { kind: 'integer', value: '<n>', min: 1, description: 'the first slice (default 1)' }, to: { kind: 'integer', value: '<n>', min: 1, description: 'the last slice (default: the head)' }, limit: { kind: 'integer', value: '<n>', min: 1, description: 'slices per page (default 100)' } },
    run: (c) =>
      show(c, `/v1/graphs/${seg(c, 0)}/slices`, { from: c.options['from'], to: c.options['to'], limit: c.options['limit'], processor: c.options['processor'] }, (b) => {
        const lines = (b['slices'] as { slice: number; txId: string; time: number; source: { topic: string; partition: number; offset: number } }[]).map((s) => `${String(s.slice).padStart(6)}  ${formatMicros(s.time)}  ${s.txId}  ${s.source.topic}/${s.source.partition}@${s.source.offset}`);
        if (b['next'] !== null) lines.push(`(more: --from ${num(b['next'])})`);
        return lines.join('\n');
      }),
  },
  tx: {
    usage: 'tx <graph> <txId> [--wait <duration>]',
    summary: 'what became of a transaction: applied, skipped, rejected or unknown',
    positionals: ['<graph>', '<txId>'],
    options: { wait: { kind: 'string', value: '<duration>', description: 'wait up to this long for it to be applied (or rejected), e.g. 5s' } },
    run: (c) =>
      show(
        c,
        `/v1/graphs/${seg(c, 0)}/transactions/${seg(c, 1)}`,
        { processor: c.options['processor'], ...(c.options['wait'] === undefined ? {} : { waitForTx: c.positionals[1], wait: c.options['wait'] }) },
        (b) => {
          const rejection = b['rejection'] as { code: string; message: string; instructionIndex?: number; source: { topic: string; partition: number; offset: number } } | undefined;
          switch (b['status']) {
            case 'applied':
              return `transaction ${str(b['txId'])}: applied, slice ${num(b['appliedSlice'])} of graph ${str(b['graph'])}`;
            case 'skipped':
              return `transaction ${str(b['txId'])}: skipped: it changed nothing (every instruction was a no-op)`;
            case 'rejected':
              return `transaction ${str(b['txId'])}: rejected ${rejection?.code}${rejection?.instructionIndex === undefined ? '' : ` at instruction ${rejection.instructionIndex}`} (from ${rejection?.source.topic}/${rejection?.source.partition}@${rejection?.source.offset})\n  ${rejection?.message}`;
            default:
              return `transaction ${str(b['txId'])}: unknown to graph ${str(b['graph'])} (not applied yet, or never sent)`;
          }
        },
        [409],
      ),
  },
  watch: {
    usage: 'watch <graph> [--from-slice <n>] [--max <n>]',
    summary: 'follow the graph\'s changes as they are applied (reconnecting as needed)',
    positionals: ['<graph>'],
    options: { 'from-slice': { kind: 'integer', value: '<n>', min: 1, description: 'start with this slice (default: a snapshot of the head, then what follows)' }, max: { kind: 'integer', value: '<n>', min: 1, description: 'stop after n events' } },
    run: (c) => watch(c),
  },
};

const help = [
  'usage: graphfold query <what> <graph> [arguments] [--url <url> | --topology <file>] [--as-of <slice|time>] [--json]',
  '',
  'Reads graphs through the query API of any instance (it forwards to the graph\'s owner). Every',
  'read is as of the head, or of --as-of <slice> or --as-of <RFC 3339 time>; --wait-for-tx waits',
  'until a transaction you sent is applied and reads as of its slice.',
  '',
  'what:',
  ...Object.values(subcommands).map((s) => `  ${s.usage.padEnd(72)}${s.summary}`),
  '',
  'options of every query:',
  optionsHelp({ ...common, ...asOf }),
  '',
  'graphfold query <what> --help lists the options of one query.',
].join('\n');

export const queryCommand: Command = {
  name: 'query',
  summary: 'read graphs through the query API (as of any slice), or watch their changes',
  help,
  async run(args, io) {
    const [what, ...rest] = args;
    if (what === '--help' || what === '-h') {
      io.stdout.write(`${help}\n`);
      return 0;
    }
    if (what === undefined) throw new UsageError('graphfold query', `missing what to query: ${Object.keys(subcommands).join(', ')}`);
    const sub = subcommands[what];
    if (sub === undefined) {
      const near = closest(what, Object.keys(subcommands));
      throw new UsageError('graphfold query', `unknown query '${what}'${near === undefined ? ` (queries: ${Object.keys(subcommands).join(', ')})` : `; did you mean ${near}?`}`);
    }
    const options = { ...common, ...sub.options };
    const line = parseArguments(rest, { command: `graphfold query ${what}`, options, positionals: sub.positionals.map((name) => ({ name, description: name })) });
    if (line.help) {
      io.stdout.write(`usage: graphfold query ${sub.usage} [--url <url> | --topology <file>] [--json]\n\n${sub.summary}\n\noptions:\n${optionsHelp(options)}\n`);
      return 0;
    }
    const parsed = line.options as Readonly<Record<string, string | number | boolean | undefined>>;
    return sub.run({ client: clientFor(parsed), positionals: line.positionals, options: parsed, io, json: parsed['json'] === true });
  },
};

function clientFor(options: Readonly<Record<string, string | number | boolean | undefined>>): QueryClient {
  const url = options['url'] as string | undefined;
  const file = options['topology'] as string | undefined;
  if (url !== undefined && file !== undefined) throw new UsageError('graphfold query', 'give --url or --topology, not both');
  let base = url;
  let token = options['token'] as string | undefined;
  if (file !== undefined) {
    const { query } = loadTopology(file);
    if (query === undefined) throw new CommandFailure(`${file} configures no query API (add query: { listen: 127.0.0.1:7070 }); or give --url`);
    base = query.advertise ?? `http://${query.host === '0.0.0.0' ? '127.0.0.1' : query.host.includes(':') ? `[${query.host}]` : query.host}:${query.port}`;
    token ??= query.token?.reveal();
  }
  if (base === undefined) throw new UsageError('graphfold query', 'where is the query API? give --url http://<host>:<port>, or --topology <file>');
  if (!/^https?:\/\/[^\s/]+/.test(base)) throw new UsageError('graphfold query', `--url ${base} is not an http:// or https:// URL`);
  return new QueryClient(base, token);
}

function readParams(c: Context): Record<string, string | number | undefined> {
  const at = c.options['as-of'] as string | undefined;
  const params: Record<string, string | number | undefined> = { processor: c.options['processor'] as string | undefined };
  if (at !== undefined) {
    if (/^[0-9]+$/.test(at) && at.length < 10) params['asOf'] = at;
    else params['asOfTime'] = at;
  }
  params['waitForTx'] = c.options['wait-for-tx'] as string | undefined;
  params['waitForSlice'] = c.options['wait-for-slice'] as number | undefined;
  params['wait'] = c.options['wait'] as string | undefined;
  return params;
}

/** A positional, encoded for a path. */
function seg(c: Context, i: number): string {
  return encodeURIComponent(c.positionals[i] as string);
}

async function show(c: Context, path: string, params: Readonly<Record<string, string | number | boolean | undefined>>, pretty: (body: Record<string, unknown>) => string, alsoOk: readonly number[] = []): Promise<number> {
  let answer: QueryAnswer;
  try {
    answer = await c.client.get(path, params);
  } catch (error) {
    throw new CommandFailure(`cannot reach the query API at ${c.client.baseUrl}: ${(error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : (error as Error).message}; is graphfold run up, with a query: section in its topology?`);
  }
  if (answer.status !== 200 && !alsoOk.includes(answer.status)) {
    if (c.json) c.io.stdout.write(`${JSON.stringify(answer.body)}\n`);
    const retry = answer.retryAfter === null ? '' : ` (retry after ${answer.retryAfter} s)`;
    throw new CommandFailure(`${String(answer.body['message'] ?? `HTTP ${answer.status}`)}${retry}`);
  }
  c.io.stdout.write(`${c.json ? JSON.stringify(answer.body) : pretty(answer.body)}\n`);
  return answer.status === 200 ? 0 : 1;
}

async function watch(c: Context): Promise<number> {
  const max = c.options['max'] as number | undefined;
  const from = c.options['from-slice'] as number | undefined;
  let count = 0;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  c.io.signal.addEventListener('abort', onAbort, { once: true });
  try {
    await c.client.follow(c.positionals[0] as string, {
      ...(from === undefined ? {} : { fromSlice: from }),
      ...(c.options['processor'] === undefined ? {} : { processor: c.options['processor'] as string }),
      signal: stop.signal,
      onReconnect: (why) => c.io.stderr.write(`graphfold: ${why}; reconnecting\n`),
      onEvent: (event) => {
        if (event.event === 'moved') return true;
        if (c.json) c.io.stdout.write(`${JSON.stringify({ event: event.event, id: event.id, data: event.data })}\n`);
        else if (event.event === 'snapshot') {
          const snapshot = event.data as { slice: number; atoms: AtomBody[] };
          c.io.stdout.write(`snapshot of graph ${c.positionals[0]} at slice ${snapshot.slice}: ${snapshot.atoms.length} atoms\n${snapshot.atoms.map((a) => `  ${atomLine(a)}`).join('\n')}\n`);
        } else c.io.stdout.write(`${prettyDiff(diffFromJsonValue(event.data))}\n`);
        count += 1;
        return max === undefined || count < max;
      },
    });
  } catch (error) {
    throw new CommandFailure(`cannot follow the changes of ${c.positionals[0]}: ${(error as Error).message}`);
  } finally {
    c.io.signal.removeEventListener('abort', onAbort);
  }
  return 0;
}

interface AtomBody {
  readonly uid: string;
  readonly kind: string;
  readonly type: string;
  readonly created: number;
  readonly terminated?: number;
  readonly source?: string;
  readonly target?: string;
  readonly value?: unknown;
}

function atomLine(atom: AtomBody): string {
  const value = atom.value === undefined ? '' : ` = ${showJsonValue(atom.value)}`;
  const ends = atom.source === undefined ? '' : `  ${atom.source} -> ${atom.target}`;
  const life = `created ${atom.created}${atom.terminated === undefined ? '' : `, terminated ${atom.terminated}`}`;
  return `${atom.kind.padEnd(9)} ${atom.type.padEnd(14)} ${atom.uid}${value}${ends}  (${life})`;
}

function showJsonValue(json: unknown): string {
  try {
    const diff = diffFromJsonValue({ ...emptyDiff, changes: [{ op: 'Assigned', uid: '0'.repeat(32), value: json }] });
    return showValue((diff.changes[0] as { value: Value }).value);
  } catch {
    return JSON.stringify(json);
  }
}

const emptyDiff: GraphDiff = { graph: '', slice: 0, txId: '', time: 0, source: { topic: '', partition: 0, offset: 0 }, changes: [] };

function str(value: unknown): string {
  return String(value);
}

function num(value: unknown): number {
  return Number(value);
}
