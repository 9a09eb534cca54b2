import { createInterface } from 'node:readline/promises';
import { loadTopology } from '../../../topology/loader';
import { resetApplication } from '../../admin/reset';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, UsageError, type Command } from '../command';
import { topologyOption } from '../topology-option';

const options = {
  topology: topologyOption,
  processor: { kind: 'string', value: '<name>', description: 'only this processor (default: every processor of the topology)' },
  'delete-topics': { kind: 'boolean', description: "required: the reset deletes the processors' diffs and rejections topics, all their history (then asks to confirm)" },
  confirm: { kind: 'string', value: '<application>', description: 'confirms --delete-topics without a prompt: the application name, as in the topology' },
  'dry-run': { kind: 'boolean', description: 'say what would be deleted, delete nothing' },
} as const;

const help = [
  'usage: graphfold reset --topology <file> [--processor <name>] --delete-topics [--confirm <application>]',
  '       graphfold reset --topology <file> [--processor <name>] --dry-run',
  '',
  "Starts an application from scratch, like Kafka Streams' application reset tool. With every",
  'instance stopped (it refuses while the consumer group has members), for each processor:',
  "- deletes this instance's stores (<store.dir>/<processor>; run it on each instance);",
  '- deletes the consumer group and so its committed offsets: the inputs are read again from',
  '  their start;',
  '- deletes the diffs and rejections topics: all history (a changelog kept would make the',
  '  inputs read again be judged against it: a no-op transaction could apply, a refused one be',
  '  rejected twice). This is asked twice: --delete-topics, then the application name typed',
  '  at the prompt (or --confirm). Input topics are never deleted; a diffs topic another',
  '  processor reads is deleted only when that processor is reset too.',
  'graphfold topology apply creates the topics again. To rebuild only the stores from the',
  'changelog, use graphfold repair store --discard instead.',
  '',
  'options:',
  optionsHelp(options),
].join('\n');

export const resetCommand: Command = {
  name: 'reset',
  summary: "delete an application's state and committed offsets (and, asked twice, its topics)",
  help,
  async run(args, io) {
    const line = parseArguments(args, { command: 'graphfold reset', options });
    if (line.help) {
      io.stdout.write(`${help}\n`);
      return 0;
    }
    const topology = loadTopology(line.options.topology);
    const deleteTopics = line.options['delete-topics'];
    if (line.options.confirm !== undefined && !deleteTopics) throw new UsageError('graphfold reset', '--confirm confirms --delete-topics, which is not given');
    if (!deleteTopics && !line.options['dry-run']) {
      throw new UsageError('graphfold reset', `a reset deletes the stores, the committed offsets and the diffs and rejections topics of ${topology.application} (all history): give --delete-topics to confirm that (or --dry-run to see it); to rebuild only the stores from the changelog, use graphfold repair store --discard`);
    }
    if (deleteTopics && !line.options['dry-run']) {
      let typed = line.options.confirm;
      if (typed === undefined) {
        if (io.stdin.isTTY !== true) throw new UsageError('graphfold reset', `--delete-topics deletes every diff and rejection of ${topology.application}: confirm with --confirm ${topology.application}`);
        const prompt = createInterface({ input: io.stdin, output: io.stderr });
        typed = await prompt.question(`This deletes the diffs and rejections topics of ${topology.application}: all their history. Type the application name to confirm: `);
        prompt.close();
      }
      if (typed.trim() !== topology.application) throw new CommandFailure(`'${typed.trim()}' is not the application name ${topology.application}: nothing was deleted`);
    }
    const resets = await resetApplication(topology, {
      ...(line.options.processor === undefined ? {} : { processor: line.options.processor }),
      dryRun: line.options['dry-run'],
    });
    const verb = line.options['dry-run'] ? 'would delete' : 'deleted';
    for (const r of resets) {
      const done = [r.storeDir === undefined ? undefined : `its stores ${r.storeDir}`, r.offsets ? `consumer group ${r.group} (its committed offsets)` : undefined, r.topics.length > 0 ? `topics ${r.topics.join(', ')}` : undefined].filter((d) => d !== undefined);
      io.stdout.write(`${r.processor}: ${done.length === 0 ? 'nothing to delete' : `${verb} ${done.join(', ')}`}\n`);
    }
    return 0;
  },
};
