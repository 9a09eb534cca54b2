import { writeFileSync } from 'node:fs';
import { loadTopology } from '../../../topology/loader';
import { generateSchemaModule } from '../../sdk/codegen';
import { optionsHelp, parseArguments } from '../arguments';
import { CommandFailure, UsageError, type Command } from '../command';
import { topologyOption } from '../topology-option';

const options = {
  topology: topologyOption,
  processor: { kind: 'string', value: '<name>', description: 'the processor whose graph schema to generate (needed when the topology has several)' },
  out: { kind: 'string', value: '<file.ts>', description: 'write the module here instead of stdout' },
  sdk: { kind: 'string', value: '<module>', description: "the module to import the SDK from (default 'graphfold/dist/processors/sdk')" },
} as const;

const codegenHelp = [
  'usage: graphfold schema codegen --topology <file> [--processor <name>] [--out <file.ts>] [--sdk <module>]',
  '',
  "Turns a processor's graph schema into a TypeScript module for the SDK: its entity types,",
  'relation types with the types allowed at each end, and fields (relations that reach a value)',
  'with their value types and enum symbols, so that a wrong type is a compile error; and a',
  '<processor>Transaction(graph) function that starts a typed TransactionBuilder. Send what it',
  'builds with GraphProducer (README.md, "The TypeScript SDK"). A processor without a schema',
  'gets open types. Reads only the topology: no broker is needed.',
  '',
  'options:',
  optionsHelp(options),
].join('\n');

export const schemaCommand: Command = {
  name: 'schema',
  summary: "generate typed TypeScript builders from a processor's graph schema (schema codegen)",
  help: ['usage: graphfold schema codegen --topology <file> [--processor <name>] [--out <file.ts>]', '', "  codegen   typed builders for a processor's graph schema", '', 'Run graphfold schema codegen --help for details.'].join('\n'),
  async run(args, io) {
    const [name, ...rest] = args;
    if (name === '--help' || name === '-h') {
      io.stdout.write(`${this.help}\n`);
      return 0;
    }
    if (name !== 'codegen') throw new UsageError('graphfold schema', name === undefined ? 'missing the schema command: codegen' : `unknown schema command '${name}' (commands: codegen)`);
    const line = parseArguments(rest, { command: 'graphfold schema codegen', options });
    if (line.help) {
      io.stdout.write(`${codegenHelp}\n`);
      return 0;
    }
    const topology = loadTopology(line.options.topology);
    const names = topology.processors.map((p) => p.name);
    const wanted = line.options.processor ?? (names.length === 1 ? names[0] : undefined);
    if (wanted === undefined) throw new UsageError('graphfold schema codegen', `${topology.origin} has ${names.length} processors (${names.join(', ')}): say which with --processor`);
    const processor = topology.processors.find((p) => p.name === wanted);
    if (processor === undefined) throw new UsageError('graphfold schema codegen', `--processor ${wanted} is not a processor of ${topology.origin} (processors: ${names.join(', ')})`);
    const module = generateSchemaModule(processor.schema, { processor: processor.name, origin: topology.origin, ...(line.options.sdk === undefined ? {} : { sdkModule: line.options.sdk }) });
    if (line.options.out === undefined) {
      io.stdout.write(module);
      return 0;
    }
    try {
      writeFileSync(line.options.out, module);
    } catch (error) {
      throw new CommandFailure(`cannot write ${line.options.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
    }
    io.stderr.write(`wrote ${line.options.out} (processor ${processor.name})\n`);
    return 0;
  },
};
