import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../support/cli';
import { uniqueName } from '../support/kafka';

/**
 * The graphfold CLI as a user meets it: help on every level, and one-line errors with exit code 2
 * for a malformed command line and 1 for a failure, never a stack trace.
 */
const repo = resolve(__dirname, '../..');
const demo = join(repo, 'topology/demo.yaml');

describe('graphfold command line', () => {
  test('help: the top level lists the commands, each command and subcommand has its own', async () => {
    const [top, none, runHelp, topology, describe, apply, produce, tail, codegen] = await Promise.all([
      runCli(['--help']),
      runCli([]),
      runCli(['run', '--help']),
      runCli(['topology', '--help']),
      runCli(['topology', 'describe', '--help']),
      runCli(['topology', 'apply', '-h']),
      runCli(['produce', '--help']),
      runCli(['tail', '--topology', 'ignored.yaml', '--help']),
      runCli(['schema', 'codegen', '--help']),
    ]);
    expect(top.code).toBe(0);
    expect(top.stdout).toContain('usage: graphfold <command> [options]\n');
    expect(top.stdout).toContain('Run graphfold <command> --help (or graphfold help <command>) for its options; graphfold --version\nprints the version.\n');
    const listed = top.stdout.split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim().split(' ')[0]);
    expect(listed).toEqual(['run', 'follow', 'topology', 'produce', 'tail', 'query', 'schema', 'repair', 'reset']);
    expect(none).toEqual({ code: 2, stdout: '', stderr: top.stdout });
    expect(topology.code).toBe(0);
    expect(topology.stdout).toContain('usage: graphfold topology <describe|apply> --topology <file>');
    expect(describe.stdout).toContain('usage: graphfold topology describe --topology <file>');
    expect(apply.stdout).toContain('usage: graphfold topology apply --topology <file>');
    expect(produce.stdout).toContain('usage: graphfold produce --topology <file> --topic <topic> [--file <ndjson>] [--json]');
    expect(tail.stdout).toContain('usage: graphfold tail <topic> --topology <file>');
    expect(runHelp.stdout).toContain('usage: graphfold run --topology <file> [--log-format text|json] [--verbose]');
    expect(codegen.stdout).toContain('usage: graphfold schema codegen --topology <file> [--processor <name>] [--out <file.ts>] [--sdk <module>]');
    for (const run of [runHelp, topology, describe, apply, produce, tail, codegen]) expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  test('--version prints the package version; help <command> is <command> --help, help for a subcommand too', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
    const [version, helpRun, runHelp, helpApply, applyHelp, helpRepair, helpReset, unknown] = await Promise.all([
      runCli(['--version']),
      runCli(['help', 'run']),
      runCli(['run', '--help']),
      runCli(['help', 'topology', 'apply']),
      runCli(['topology', 'apply', '--help']),
      runCli(['help', 'repair', 'changelog']),
      runCli(['help', 'reset']),
      runCli(['help', 'tial']),
    ]);
    expect(version).toEqual({ code: 0, stdout: `graphfold ${pkg.version} (Node.js ${process.version})\n`, stderr: '' });
    expect(helpRun).toEqual(runHelp);
    expect(helpApply).toEqual(applyHelp);
    expect(helpRepair.stdout).toContain('usage: graphfold repair changelog --topology <file> [--processor <name>] [--partition <n>]');
    expect(helpReset.stdout).toContain('usage: graphfold reset --topology <file>');
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: "graphfold: no help for 'tial'; did you mean tail? (see graphfold --help)\n" });
  });

  test('a malformed command line: one line naming the mistake and the help to read, exit code 2', async () => {
    const runs = await Promise.all(
      [
        ['tial'],
        ['topology'],
        ['topology', 'aply', '--topology', demo],
        ['topology', 'describe'],
        ['topology', 'describe', '--topology', demo, '--verbose'],
        ['topology', 'describe', '--topolgy', demo],
        ['tail', '--topology', demo],
        ['tail', 'a', '--topology', demo, '--max', 'many'],
        ['produce', '--topology', demo, '--topic', 'crm-diffs'],
        ['query'],
        ['query', 'atmo', 'g'],
        ['query', 'atom', 'g', '--url', 'http://127.0.0.1:1'],
        ['query', 'graph', 'g'],
        ['query', 'graph', 'g', '--url', 'ftp://x'],
      ].map((args) => runCli(args)),
    );
    expect(runs.map((run) => [run.code, run.stdout, run.stderr])).toEqual(
      [
        "graphfold: unknown command 'tial'; did you mean tail? (see graphfold --help)",
        'graphfold: missing the topology command: describe or apply (see graphfold topology --help)',
        "graphfold: unknown topology command 'aply'; did you mean apply? (see graphfold topology --help)",
        'graphfold: --topology <file> is required (see graphfold topology describe --help)',
        'graphfold: unknown option --verbose (see graphfold topology describe --help)',
        'graphfold: unknown option --topolgy; did you mean --topology? (see graphfold topology describe --help)',
        'graphfold: missing <topic> (see graphfold tail --help)',
        "graphfold: --max expects a whole number of at least 1, got 'many' (see graphfold tail --help)",
        `graphfold: --topic crm-diffs is not an input of any processor in ${demo} (inputs: crm-instructions) (see graphfold produce --help)`,
        'graphfold: missing what to query: graph, atom, atoms, relations, neighbours, path, diff, slices, tx, watch (see graphfold query --help)',
        "graphfold: unknown query 'atmo'; did you mean atom? (see graphfold query --help)",
        'graphfold: missing <uid> (see graphfold query atom --help)',
        'graphfold: where is the query API? give --url http://<host>:<port>, or --topology <file> (see graphfold query --help)',
        'graphfold: --url ftp://x is not an http:// or https:// URL (see graphfold query --help)',
      ].map((line) => [2, '', `${line}\n`]),
    );
  });

  test('a topology with mistakes: each on its line with file, line and column, exit code 1', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'graphfold-usage-')), 'broken.yaml');
    writeFileSync(file, ['application: app', 'kafka:', '  brokers: ${NOT_SET_ANYWHERE}', 'registry: { url: "http://r:8081" }', 'processors:', '  - name: crm', '    inputs: [crm-in]', '    diff: crm-out'].join('\n'));
    const [broken, missing, unset] = await Promise.all([
      runCli(['topology', 'describe', '--topology', file]),
      runCli(['topology', 'apply', '--topology', join(repo, 'topology/no-such.yaml')]),
      runCli(['topology', 'describe', '--topology', demo], { env: { KAFKA_BROKERS: undefined } }),
    ]);
    expect(broken).toEqual({
      code: 1,
      stdout: '',
      stderr: [
        `graphfold: 2 mistakes in ${file}:`,
        `${file}:3:12: kafka.brokers: environment variable NOT_SET_ANYWHERE is not set: set it, or write \${NOT_SET_ANYWHERE:-<default>} in the topology`,
        `${file}:8:5: processors[0].diff: unknown option; did you mean diffs?`,
        '',
      ].join('\n'),
    });
    // Every error line carries its cause chain (here Node's own words).
    expect(missing).toEqual({ code: 1, stdout: '', stderr: `graphfold: cannot read the topology file ${join(repo, 'topology/no-such.yaml')}: no such file; name a topology YAML file, e.g. topology/demo.yaml (cause: ENOENT: no such file or directory, open '${join(repo, 'topology/no-such.yaml')}')\n` });
    expect(unset).toEqual({ code: 1, stdout: '', stderr: `graphfold: ${demo}:12:12: kafka.brokers: environment variable KAFKA_BROKERS is not set: set it, or write \${KAFKA_BROKERS:-<default>} in the topology\n` });
  });

  test('describe prints the demo topology without a broker', async () => {
    const run = await runCli(['topology', 'describe', '--topology', demo], { env: { KAFKA_BROKERS: '127.0.0.1:1', SCHEMA_REGISTRY_URL: 'http://127.0.0.1:1' } });
    expect(run.code).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toContain('Topology');
    expect(run.stdout).toContain('\nProcessor crm\n');
    expect(run.stdout).toContain('  consumer group  graphfold-demo-crm\n');
  });

  test('failures against the cluster are one line, exit code 1', async () => {
    const topic = uniqueName('absent');
    const run = await runCli(['tail', topic, '--topology', demo]);
    expect(run).toEqual({ code: 1, stdout: '', stderr: expect.stringMatching(new RegExp(`^graphfold: topic ${topic} does not exist on .*; graphfold topology apply --topology ${demo} creates the topology's topics\\n$`)) as unknown });
  });
});
