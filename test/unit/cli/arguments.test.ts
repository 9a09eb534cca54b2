import { optionsHelp, parseArguments } from '../../../processors/cli/arguments';
import { UsageError } from '../../../processors/cli/command';

const syntax = {
  command: 'graphfold tail',
  options: {
    topology: { kind: 'string', value: '<file>', description: 'the topology file', required: true },
    max: { kind: 'integer', value: '<n>', min: 1, description: 'stop after n records' },
    json: { kind: 'boolean', description: 'print JSON' },
  },
  positionals: [{ name: '<topic>', description: 'the topic' }],
} as const;

function usageError(args: string[]): string {
  try {
    parseArguments(args, syntax);
  } catch (error) {
    if (error instanceof UsageError) return `${error.command}: ${error.message}`;
    throw error;
  }
  throw new Error('the arguments parsed');
}

describe('command line arguments', () => {
  test('options in both forms, booleans, positionals, and -- before a positional that looks like an option', () => {
    expect(parseArguments(['crm-diffs', '--topology', 't.yaml', '--max=5', '--json'], syntax)).toEqual({ options: { topology: 't.yaml', max: 5, json: true }, positionals: ['crm-diffs'], help: false });
    expect(parseArguments(['--topology=t.yaml', '--', '--odd-topic'], syntax)).toEqual({ options: { topology: 't.yaml', json: false }, positionals: ['--odd-topic'], help: false });
  });

  test('--help or -h wins over everything else', () => {
    expect(parseArguments(['--bogus', '-h'], syntax).help).toBe(true);
    expect(parseArguments(['--help'], syntax).help).toBe(true);
  });

  test.each([
    [['t', '--topolgy', 'x'], 'graphfold tail: unknown option --topolgy; did you mean --topology?'],
    [['t', '--topology', 'x', '--colour'], 'graphfold tail: unknown option --colour'],
    [['t'], 'graphfold tail: --topology <file> is required'],
    [['t', '--topology'], 'graphfold tail: --topology needs a value: --topology <file>'],
    [['t', '--topology', '--json'], 'graphfold tail: --topology needs a value: --topology <file>'],
    [['t', '--topology', 'x', '--topology', 'y'], 'graphfold tail: --topology is given twice'],
    [['t', '--topology', 'x', '--max', '0'], "graphfold tail: --max expects a whole number of at least 1, got '0'"],
    [['t', '--topology', 'x', '--max', 'ten'], "graphfold tail: --max expects a whole number of at least 1, got 'ten'"],
    [['t', '--topology', 'x', '--json=yes'], 'graphfold tail: --json takes no value'],
    [['--topology', 'x'], 'graphfold tail: missing <topic>'],
    [['t', 'u', '--topology', 'x'], "graphfold tail: unexpected argument 'u'"],
  ])('%j is refused', (args, message) => {
    expect(usageError(args)).toBe(message);
  });

  test('the options help is aligned and ends with --help', () => {
    expect(optionsHelp(syntax.options)).toBe(['  --topology <file>  the topology file (required)', '  --max <n>          stop after n records', '  --json             print JSON', '  --help             show this help'].join('\n'));
  });
});
