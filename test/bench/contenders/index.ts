import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { buildKafkaStreamsPeer, startKafkaStreamsPeer } from '../peers/kafka-streams';
import { ChildRun, type Contender, type ContenderRun, type ContenderSetup } from './contender';

const cliMain = resolve(__dirname, '../../../processors/cli/main.js');

/** Raw kafkajs consume → decode → encode → transactional produce: the client's ceiling. */
export const ceiling: Contender = {
  name: 'ceiling',
  description: 'kafkajs consume -> decode -> re-encode -> transactional produce, no state, same batching (one Kafka transaction per fetched batch)',
  async start(setup) {
    const config = { brokers: setup.brokers, group: setup.name, input: setup.input, output: setup.output, partitions: setup.partitions, schemaId: setup.transactionSchemaId };
    const run = new ChildRun(process.execPath, [join(__dirname, 'ceiling.js'), JSON.stringify(config)], setup.name, join(setup.dir, 'ceiling.log'), 'stdout', (e) => e['event'] === 'running');
    return run;
  },
};

function stateDir(setup: ContenderSetup): string {
  return join(setup.dir, 'state');
}

/** The name of graphfold's one processor in the benchmark's topology. */
const processorName = 'bench';

/** The stores graphfold's run of `setup` keeps, one per partition. */
export function graphfoldStoreDirs(setup: ContenderSetup): string[] {
  return Array.from({ length: setup.partitions }, (_, partition) => join(stateDir(setup), processorName, String(partition)));
}

/** What a graphfold run of the bench may add to its topology (the availability phase). */
export interface GraphfoldExtras {
  /** `snapshots: { dir }`, every hour unless `snapshotsEvery` says otherwise. */
  readonly snapshotsDir?: string;
  readonly snapshotsEvery?: string;
  /** The processor's `sessionTimeoutMs`. */
  readonly sessionTimeoutMs?: number;
  /** The processor's `standbys`. */
  readonly standbys?: number;
  /** `graphfold follow` of the run's diffs topic (a follower named `copy`) instead of `graphfold run`. */
  readonly follow?: boolean;
  /** `--verbose`: a log line per committed batch (and per batch a follower writes). */
  readonly verbose?: boolean;
}

/** graphfold's CLI on a topology written for the run: `graphfold run`, or `graphfold follow` of its diffs. */
export async function startGraphfold(setup: ContenderSetup, extras: GraphfoldExtras = {}): Promise<ChildRun> {
  const topology = join(setup.dir, 'topology.yaml');
  const lines = [
    `application: ${setup.name}`,
    'kafka:',
    `  brokers: [${setup.brokers.join(', ')}]`,
    'registry:',
    `  url: ${setup.registryUrl}`,
    'store:',
    `  dir: ${stateDir(setup)}`,
    'query:',
    '  listen: 127.0.0.1:0',
    ...(extras.snapshotsDir === undefined ? [] : ['snapshots:', `  dir: ${extras.snapshotsDir}`, `  every: ${extras.snapshotsEvery ?? '1h'}`, '  minSavedRecords: 1']),
    ...(extras.follow === true
      ? ['followers:', '  - name: copy', `    diffs: ${setup.output}`]
      : [
          'processors:',
          `  - name: ${processorName}`,
          `    inputs: [${setup.input}]`,
          `    diffs: ${setup.output}`,
          `    rejections: ${setup.output}-rejections`,
          `    partitions: ${setup.partitions}`,
          '    replicationFactor: 1',
          `    concurrency: ${setup.partitions}`,
          ...(extras.sessionTimeoutMs === undefined ? [] : [`    sessionTimeoutMs: ${extras.sessionTimeoutMs}`]),
          ...(extras.standbys === undefined ? [] : [`    standbys: ${extras.standbys}`]),
        ]),
    '',
  ];
  await writeFile(topology, lines.join('\n'));
  // GRAPHFOLD_BENCH_CPU_PROFILES=<dir>: each graphfold run writes a V8 CPU profile there when it stops.
  const profiles = process.env['GRAPHFOLD_BENCH_CPU_PROFILES'];
  const node = profiles === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profiles}`];
  const command = extras.follow === true ? 'follow' : 'run';
  const ready = extras.follow === true ? (e: Record<string, unknown>) => e['message'] === 'follower started' : (e: Record<string, unknown>) => e['message'] === 'processor started';
  return new ChildRun(process.execPath, [...node, cliMain, command, '--topology', topology, '--log-format', 'json', ...(extras.verbose === true ? ['--verbose'] : [])], `${setup.name}-${processorName}`, join(setup.dir, 'graphfold.log'), 'stderr', ready);
}

/** The real processor, through its CLI, with a topology written for the run. */
export const graphfold: Contender = {
  name: 'graphfold',
  description: 'graphfold run: validate and fold each transaction into RocksDB graph slices, emit a GraphDiff per transaction, exactly once',
  start: (setup) => startGraphfold(setup),
  async resetState(setup) {
    await rm(stateDir(setup), { recursive: true, force: true });
  },
};

/** The Kafka Streams application of `test/bench/peers/kafka-streams/`: the same fold, in Streams' idiom. */
export const kafkaStreams: Contender = {
  name: 'kafka-streams',
  description: 'Kafka Streams 4 (Java 17, Processor API, RocksDB stores with changelogs and no record cache, exactly_once_v2, commit.interval.ms 100, one stream thread): the same fold, the same diffs',
  async start(setup): Promise<ContenderRun> {
    const jar = await buildKafkaStreamsPeer();
    const events: Record<string, unknown>[] = [];
    const peer = startKafkaStreamsPeer({
      jar,
      brokers: setup.brokers,
      applicationId: setup.name,
      inputTopic: setup.input,
      outputTopic: setup.output,
      stateDir: stateDir(setup),
      diffSchemaId: setup.diffSchemaId,
      threads: 1,
      commitIntervalMs: 100,
      logFile: join(setup.dir, 'kafka-streams.log'),
      onEvent: (event) => events.push({ ...event, time: Date.now() }),
    });
    return {
      pid: peer.pid,
      group: setup.name,
      events,
      ready: async () => {
        await peer.waitFor('running', { timeoutMs: 180_000 });
      },
      stop: async () => {
        await peer.stop();
      },
    };
  },
  async resetState(setup) {
    await rm(stateDir(setup), { recursive: true, force: true });
  },
};
