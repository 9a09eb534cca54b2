import { rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ChildRun, type Contender, type ContenderSetup } from './contender';

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

/** The real processor, through its CLI, with a topology written for the run. */
export const graphfold: Contender = {
  name: 'graphfold',
  description: 'graphfold run: validate and fold each transaction into RocksDB graph slices, emit a GraphDiff per transaction, exactly once',
  async start(setup) {
    const topology = join(setup.dir, 'topology.yaml');
    await writeFile(
      topology,
      [
        `application: ${setup.name}`,
        'kafka:',
        `  brokers: [${setup.brokers.join(', ')}]`,
        'registry:',
        `  url: ${setup.registryUrl}`,
        'store:',
        `  dir: ${stateDir(setup)}`,
        'processors:',
        '  - name: bench',
        `    inputs: [${setup.input}]`,
        `    diffs: ${setup.output}`,
        `    rejections: ${setup.output}-rejections`,
        `    partitions: ${setup.partitions}`,
        '    replicationFactor: 1',
        `    concurrency: ${setup.partitions}`,
        '',
      ].join('\n'),
    );
    return new ChildRun(process.execPath, [cliMain, 'run', '--topology', topology, '--log-format', 'json'], `${setup.name}-bench`, join(setup.dir, 'graphfold.log'), 'stderr', (e) => e['message'] === 'processor started');
  },
  async resetState(setup) {
    await rm(stateDir(setup), { recursive: true, force: true });
  },
};
