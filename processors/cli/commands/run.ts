import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTopology } from '../../../topology/loader';
import { Instrumentation } from '../../instrumentation/events';
import { attachLog } from '../../instrumentation/log';
import { opsEndpoints } from '../../ops/endpoints';
import { startOpsServer, type OpsServer } from '../../ops/server';
import { runTopology, type RunOptions } from '../../runtime/host';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, UsageError, type Command, type CommandIo } from '../command';
import { topologyOption } from '../topology-option';

export const runOptions = {
  topology: topologyOption,
  'log-format': { kind: 'string', value: 'text|json', description: 'log lines as readable text (default) or as JSON objects' },
  verbose: { kind: 'boolean', description: 'log every committed batch and every rejected record, not just a summary every 10 s' },
} as const;

const help = [
  'usage: graphfold run --topology <file> [--log-format text|json] [--verbose]',
  '',
  'Runs the topology\'s processors: consumes their input topics in consumer groups, folds each',
  'transaction into its graph exactly once, and produces diffs and rejections. Each assigned',
  'partition is restored from its changelog first (progress is logged). Logs go to stderr.',
  'SIGTERM or Ctrl-C stops gracefully, in any state (also while joining the group or waiting for',
  'the cluster): batches in flight finish or abort, stores close, the group is left, within 20 s;',
  'a second signal exits at once. Nothing is lost either way: the next start restores from the',
  'changelog. Exit code 1 when a processor fails (the log says why and what to do).',
  'With a query: section in the topology it also serves the query API (graphfold query, curl),',
  'forwarding each request to the instance that owns the graph, and /metrics (Prometheus),',
  '/healthz and /readyz on the same port. With ops: { listen: <host:port> } it serves those',
  'three there too (the address is logged). The topology\'s followers run beside the processors',
  '(graphfold follow runs them alone).',
  '',
  'options:',
  optionsHelp(runOptions),
].join('\n');

export const runCommand: Command = {
  name: 'run',
  summary: 'run the topology\'s processors (the stream processor itself)',
  help,
  run: (args, io) => runUntilStopped('graphfold run', help, args, io, {}),
};

/** `graphfold run` and `graphfold follow`: runs the topology (or only its followers) until a signal or a failure. */
export async function runUntilStopped(command: string, help: string, args: readonly string[], io: CommandIo, options: Pick<RunOptions, 'only'>): Promise<number> {
  const line = parseArguments(args, { command, options: runOptions });
  if (line.help) {
    io.stdout.write(`${help}\n`);
    return 0;
  }
  const format = line.options['log-format'] ?? 'text';
  if (format !== 'text' && format !== 'json') throw new UsageError(command, `--log-format is text or json, not '${format}'`);
  const topology = loadTopology(line.options.topology);
  if (options.only === 'followers' && topology.followers.length === 0) throw new CommandFailure(`${command}: topology ${topology.origin} has no followers; add a followers: section (name, diffs) or use graphfold run`);
  const instrumentation = new Instrumentation();
  const detach = attachLog(instrumentation, { format, verbose: line.options.verbose, write: (text) => io.stderr.write(`${text}\n`) });
  const served = [...(options.only === 'followers' ? [] : topology.processors.map((p) => p.name)), ...topology.followers.map((f) => f.name)];
  const ops = opsEndpoints(instrumentation, served);
  const signalled = once(io.signal, 'abort').then(() => 'signal' as const);
  let server: OpsServer | undefined;
  try {
    if (topology.ops !== undefined) {
      server = await startOpsServer(ops, topology.ops);
      instrumentation.emit('ops.listening', { url: server.url });
    }
    const starting = runTopology(topology, instrumentation, { ...options, signal: io.signal, ops: () => ops });
    starting.catch(() => undefined);
    const started = await Promise.race([starting, signalled]);
    if (started === 'signal') {
      // runTopology stops what it started; give it the stop budget to get out of kafkajs' waits.
      await withinStopBudget(starting.then((running) => running.done));
      return 0;
    }
    const outcome = await Promise.race([started.done.then(() => 'done' as const), signalled]);
    if (outcome === 'signal') await withinStopBudget(started.stop().then(() => started.done));
    return 0;
  } finally {
    await server?.close();
    ops.close();
    detach();
  }
}

/** How long a stop may take: Kubernetes sends SIGKILL 30 s after SIGTERM by default. */
const stopBudgetMs = 20_000;

async function withinStopBudget(stopping: Promise<unknown>): Promise<void> {
  const outcome = await Promise.race([stopping.then(() => 'stopped' as const), sleep(stopBudgetMs, 'late' as const, { ref: false })]);
  if (outcome === 'late') throw new CommandFailure(`stopping took longer than ${stopBudgetMs / 1000} s (the cluster does not answer?): exiting without waiting; nothing is lost, the next start restores from the changelog`);
}
