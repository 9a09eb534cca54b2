import { applyErrors, applyTopology, formatApplyReport } from '../../admin/apply';
import { describeTopology } from '../../admin/describe';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, UsageError, type Command, type CommandIo } from '../command';
import { topologyOption } from '../topology-option';
import { loadTopology } from '../../../topology/loader';
import { closest } from '../../../topology/suggestion';

const options = { topology: topologyOption } as const;

interface Subcommand {
  readonly summary: string;
  readonly help: string;
  run(file: string, io: CommandIo): Promise<number>;
}

const subcommands: Readonly<Record<string, Subcommand>> = {
  describe: {
    summary: 'print what the topology runs: cluster, processors, topics, groups, stores, limits',
    help: [
      'usage: graphfold topology describe --topology <file>',
      '',
      'Prints what the topology runs: the cluster and registry, the state directory, and for each',
      'processor its input, diffs and rejections topics, partitions, consumer group, transactional',
      'ids, store directories, limits and graph schema; then the topics and schemas `topology apply`',
      'provides. Reads only the file (and the files it names): no broker is needed.',
      '',
      'options:',
      optionsHelp(options),
    ].join('\n'),
    run: async (file, io) => {
      io.stdout.write(describeTopology(loadTopology(file)));
      return 0;
    },
  },
  apply: {
    summary: 'create the missing topics, check the existing ones, register the schemas',
    help: [
      'usage: graphfold topology apply --topology <file>',
      '',
      'Makes the cluster hold what the topology needs, and changes nothing that is in place:',
      '- creates missing topics with the topology\'s partitions and replication factor; inputs and',
      '  rejections with cleanup.policy=delete, diffs (the changelog) with cleanup.policy=delete,',
      '  retention.ms=-1 and retention.bytes=-1: it keeps every diff;',
      '- checks existing topics (partition count; the changelog\'s cleanup policy and retention) and',
      '  reports each mismatch with what to do, without changing the topic; exit code 1 then;',
      '- gives each subject the compatibility that protects its readers, unless it has one already:',
      '  FORWARD_TRANSITIVE for <input>-value (graphfold reads what producers register),',
      '  FULL_TRANSITIVE for <diffs>-value and <rejections>-value; a subject set otherwise is reported',
      '  with the command that fixes it, and left as it is; exit code 1 then;',
      '- registers GraphTransaction under <input>-value, GraphDiff under <diffs>-value and Rejection',
      '  under <rejections>-value, unless they are registered already.',
      '',
      'options:',
      optionsHelp(options),
    ].join('\n'),
    run: async (file, io) => {
      const report = await applyTopology(loadTopology(file));
      io.stdout.write(`${formatApplyReport(report)}\n`);
      const errors = applyErrors(report);
      if (errors > 0) throw new CommandFailure(`${errors} problem${errors === 1 ? '' : 's'} with topics or subjects (above); fix ${errors === 1 ? 'it' : 'them'} as said and run apply again`);
      return 0;
    },
  },
};

const names = Object.keys(subcommands);

export const topologyCommand: Command = {
  name: 'topology',
  summary: 'describe a topology file, or apply it to the cluster (topics and schemas)',
  help: [
    'usage: graphfold topology <describe|apply> --topology <file>',
    '',
    ...names.map((name) => `  ${name.padEnd(10)}${subcommands[name]?.summary ?? ''}`),
    '',
    'Run graphfold topology <describe|apply> --help for details.',
  ].join('\n'),
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError('graphfold topology', `missing the topology command: ${names.join(' or ')}`);
    if (name === '--help' || name === '-h') {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const subcommand = subcommands[name];
    if (subcommand === undefined || !Object.hasOwn(subcommands, name)) {
      const near = closest(name, names);
      throw new UsageError('graphfold topology', `unknown topology command '${name}'${near === undefined ? ` (commands: ${names.join(', ')})` : `; did you mean ${near}?`}`);
    }
    const line = parseArguments(rest, { command: `graphfold topology ${name}`, options });
    if (line.help) {
      io.stdout.write(`${subcommand.help}\n`);
      return 0;
    }
    return subcommand.run(line.options.topology, io);
  },
};
