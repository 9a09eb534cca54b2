import { loadTopology } from '../../../topology/loader';
import { closest } from '../../../topology/suggestion';
import { discardStores, repairChangelog, type PartitionRepair } from '../../admin/repair';
import { optionsHelp, parseArguments } from '../arguments';
import { UsageError, type Command, type CommandIo } from '../command';
import { topologyOption } from '../topology-option';

const options = {
  topology: topologyOption,
  processor: { kind: 'string', value: '<name>', description: 'only this processor (default: every processor of the topology)' },
  partition: { kind: 'integer', value: '<n>', description: 'only this partition (default: every partition whose store is on this instance)' },
} as const;

const storeOptions = {
  ...options,
  discard: { kind: 'boolean', description: 'yes, delete the stores: their history that the changelog lacks is lost (required)' },
} as const;

interface Subcommand {
  readonly summary: string;
  readonly help: string;
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

const subcommands: Readonly<Record<string, Subcommand>> = {
  changelog: {
    summary: "write the slices this instance's stores hold and the changelog lacks back to the changelog",
    help: [
      'usage: graphfold repair changelog --topology <file> [--processor <name>] [--partition <n>]',
      '',
      'When a diffs topic was deleted and recreated (or lost records), a processor refuses the',
      'partitions whose store holds more than the changelog: the store is then the only copy of',
      'that history. This writes that history back: for each partition whose store is on this',
      "instance, the store's diffs for the slices the changelog lacks, byte for byte, in Kafka",
      'transactions under the partition\'s transactional id (fencing any instance still writing',
      'there), then records the new end in the store and in the group\'s committed offsets, so the',
      'processor starts where it stopped.',
      'Exactly once: what the changelog holds is never written again, so a repair that was',
      'interrupted is simply run again. Stop the processor first (it holds the stores). Run it on',
      'each instance whose stores hold the history.',
      '',
      'options:',
      optionsHelp(options),
    ].join('\n'),
    run: async (args, io) => {
      const line = parseArguments(args, { command: 'graphfold repair changelog', options });
      if (line.help) return help(io, subcommands['changelog']);
      const topology = loadTopology(line.options.topology);
      const repairs = await repairChangelog(topology, { ...pick(line.options), progress: (text) => io.stderr.write(`${text}\n`) });
      io.stdout.write(`${report(repairs, (r) => (r.outcome === 'written' ? `wrote ${r.diffs} diffs of ${r.graphs} graph${r.graphs === 1 ? '' : 's'} back to the changelog` : r.outcome === 'intact' ? 'the changelog holds every slice of the store: nothing to write' : 'no store on this instance'))}\n`);
      return 0;
    },
  },
  store: {
    summary: "delete this instance's stores, to be rebuilt from the changelog as it is (history it lacks is lost)",
    help: [
      'usage: graphfold repair store --topology <file> [--processor <name>] [--partition <n>] --discard',
      '',
      "Deletes this instance's stores of the processor's partitions, so that each is rebuilt from",
      'the changelog when the processor next starts. After a diffs topic was lost, this is the',
      'explicit choice to give up the history only the stores held (graphfold repair changelog',
      'keeps it instead): the graphs of those partitions start again from what the changelog',
      'holds. A processor refuses a partition whose changelog lost history whatever store it',
      'has, an empty one included: this also records, for each partition named, that the',
      'changelog as it is is its history (whether this instance has its store or not). Stop the',
      'processor first. --discard is required.',
      '',
      'options:',
      optionsHelp(storeOptions),
    ].join('\n'),
    run: async (args, io) => {
      const line = parseArguments(args, { command: 'graphfold repair store', options: storeOptions });
      if (line.help) return help(io, subcommands['store']);
      if (!line.options.discard) throw new UsageError('graphfold repair store', 'this deletes stores and the history only they hold: add --discard to say so');
      const topology = loadTopology(line.options.topology);
      const discarded = await discardStores(topology, pick(line.options));
      const accepted = (r: PartitionRepair): string => (r.accepted === undefined ? '' : `; the changelog lost history, and its end (offset ${r.accepted}) is now the partition's, so the graphs start again from what it holds`);
      io.stdout.write(`${report(discarded, (r) => (r.outcome === 'absent' ? 'no store on this instance' : `deleted its store (${r.graphs} graph${r.graphs === 1 ? '' : 's'}, ${r.diffs} slices): the changelog rebuilds it at the next start`) + accepted(r))}\n`);
      return 0;
    },
  },
};

const names = Object.keys(subcommands);

export const repairCommand: Command = {
  name: 'repair',
  summary: 'repair a lost changelog from the stores, or discard stores to rebuild them',
  help: [
    'usage: graphfold repair <changelog|store> --topology <file> [options]',
    '',
    ...names.map((name) => `  ${name.padEnd(10)}${subcommands[name]?.summary ?? ''}`),
    '',
    'Run graphfold repair <changelog|store> --help for details.',
  ].join('\n'),
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === undefined) throw new UsageError('graphfold repair', `missing what to repair: ${names.join(' or ')}`);
    if (name === '--help' || name === '-h') {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    const subcommand = Object.hasOwn(subcommands, name) ? subcommands[name] : undefined;
    if (subcommand === undefined) {
      const near = closest(name, names);
      throw new UsageError('graphfold repair', `unknown repair command '${name}'${near === undefined ? ` (commands: ${names.join(', ')})` : `; did you mean ${near}?`}`);
    }
    return subcommand.run(rest, io);
  },
};

function pick(options: { readonly processor?: string | undefined; readonly partition?: number | undefined }): { processor?: string; partition?: number } {
  return { ...(options.processor === undefined ? {} : { processor: options.processor }), ...(options.partition === undefined ? {} : { partition: options.partition }) };
}

function help(io: CommandIo, subcommand: Subcommand | undefined): number {
  io.stdout.write(`${subcommand?.help ?? ''}\n`);
  return 0;
}

function report(repairs: readonly PartitionRepair[], what: (repair: PartitionRepair) => string): string {
  return repairs.map((r) => `${r.processor}/${r.partition}: ${what(r)}`).join('\n');
}
