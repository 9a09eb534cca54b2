import { optionsHelp } from '../arguments';
import type { Command } from '../command';
import { runOptions, runUntilStopped } from './run';

const help = [
  'usage: graphfold follow --topology <file> [--log-format text|json] [--verbose]',
  '',
  'Runs only the topology\'s followers: read-only copies of diffs topics (a processor\'s, or',
  'another team\'s), each partition folded into a local store as it is written and served by the',
  'query API under the follower\'s name (processor=<name>). It never writes to Kafka: no producer,',
  'no committed offsets. A partition answers 503 with its progress until it has caught up with the',
  'end the topic had at the start. With a snapshots: section it starts from the newest snapshot',
  'of each partition and takes its own. Logs go to stderr; SIGTERM or Ctrl-C stops.',
  '',
  'options:',
  optionsHelp(runOptions),
].join('\n');

export const followCommand: Command = {
  name: 'follow',
  summary: 'serve read-only copies of diffs topics (the topology\'s followers), writing nothing to Kafka',
  help,
  run: (args, io) => runUntilStopped('graphfold follow', help, args, io, { only: 'followers' }),
};
