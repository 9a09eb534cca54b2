import { once } from 'node:events';
import { loadTopology } from '../../../topology/loader';
import { Instrumentation } from '../../instrumentation/events';
import { attachLog } from '../../instrumentation/log';
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
  'With a query: section in the topology it also serves the query API (graphfold query, curl),',
  'forwarding each request to the instance that owns the graph. The topology\'s followers: run',
  'beside the processors (graphfold follow runs them alone).',
  'SIGTERM or Ctrl-C stops gracefully: batches in flight finish or abort, stores close; a second',
  'Ctrl-C kills at once (nothing is lost: the next start restores from the changelog).',
  'Exit code 1 when a processor fails (the log says why and what to do).',
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

/** `graphfold run` and `graphfold follow`: runs the topology (or its followers) until a signal or a failure. */
export async function runUntilStopped(command: string, help: string, args: readonly string[], io: CommandIo, options: RunOptions): Promise<number> {
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
  try {
    const running = await runTopology(topology, instrumentation, options);
    const stopped = once(io.signal, 'abort').then(() => 'signal' as const);
    const outcome = await Promise.race([running.done.then(() => 'done' as const), stopped]);
    if (outcome === 'signal') {
      await running.stop();
      await running.done;
    }
    return 0;
  } finally {
    detach();
  }
}
