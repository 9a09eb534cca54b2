#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BugError, classify, describeError } from '../errors';
import { closest } from '../../topology/suggestion';
import { CommandFailure, UsageError, type CommandIo } from './command';
import { commands } from './commands';

/**
 * `graphfold <command> [options]`. Exit codes: 0 done, 1 failed (one `graphfold: ` line that
 * says what to do; a stack trace only for an unexpected error, which is a bug), 2 bad usage.
 */

const help = [
  'graphfold: folds graph transactions from Kafka into versioned graphs, and emits their diffs',
  '',
  'usage: graphfold <command> [options]',
  '',
  'commands:',
  ...commands.map((command) => `  ${command.name.padEnd(10)}${command.summary}`),
  '',
  'Run graphfold <command> --help (or graphfold help <command>) for its options; graphfold --version',
  'prints the version.',
].join('\n');

/** `graphfold <version>`, from the package.json above this module (in the source tree and in dist/). */
function version(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'graphfold' && typeof pkg.version === 'string') return `graphfold ${pkg.version} (Node.js ${process.version})`;
    } catch {
      // not here: look further up
    }
    if (dirname(dir) === dir) return `graphfold (version unknown) (Node.js ${process.version})`;
  }
}

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = args;
  if (name === '--version' || name === '-V') {
    if (rest.length > 0) throw new UsageError('graphfold', `--version takes no arguments, got '${rest.join(' ')}'`);
    io.stdout.write(`${version()}\n`);
    return 0;
  }
  if (name === 'help' && rest.length > 0) {
    const [topic, ...more] = rest;
    const command = commands.find((c) => c.name === topic);
    if (command === undefined) {
      const near = closest(topic as string, commands.map((c) => c.name));
      throw new UsageError('graphfold', `no help for '${topic as string}'${near === undefined ? ` (commands: ${commands.map((c) => c.name).join(', ')})` : `; did you mean ${near}?`}`);
    }
    // `graphfold help topology apply` is `graphfold topology apply --help`.
    return command.run([...more, '--help'], io);
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${help}\n`);
    return 0;
  }
  if (name === undefined) {
    io.stderr.write(`${help}\n`);
    return 2;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const near = closest(name, commands.map((c) => c.name));
    throw new UsageError('graphfold', `unknown command '${name}'${near === undefined ? ` (commands: ${commands.map((c) => c.name).join(', ')})` : `; did you mean ${near}?`}`);
  }
  return command.run(rest, io);
}

function report(error: unknown, stderr: NodeJS.WritableStream): number {
  if (error instanceof UsageError) {
    stderr.write(`graphfold: ${error.message} (see ${error.command} --help)\n`);
    return 2;
  }
  if (error instanceof CommandFailure) {
    stderr.write(`graphfold: ${describeError(error)}\n`);
    return 1;
  }
  const failure = classify(error, { doing: 'run the command' });
  if (failure instanceof BugError) {
    let root: unknown = error;
    while ((root as { cause?: unknown }).cause instanceof Error) root = (root as { cause: Error }).cause;
    stderr.write(`graphfold: unexpected error (a bug; please report it): ${describeError(failure)}\n${root instanceof Error ? (root.stack ?? '') : ''}\n`);
    return 1;
  }
  stderr.write(`graphfold: ${describeError(failure)}\n`);
  return 1;
}

/**
 * The first SIGINT or SIGTERM asks the command to stop (its `signal` aborts); a second one exits
 * at once. Once the command is done the process exits with its code, also if a client library
 * still holds a timer or a socket (a broker that went away).
 */
const controller = new AbortController();
const exitCodes: Readonly<Record<string, number>> = { SIGINT: 130, SIGTERM: 143 };
const onSignal = (signal: NodeJS.Signals): void => {
  if (!controller.signal.aborted) {
    controller.abort();
    return;
  }
  process.stderr.write(`graphfold: ${signal} again: exiting at once (nothing is lost: the next start restores from the changelog)\n`);
  process.exit(exitCodes[signal] ?? 1);
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, signal: controller.signal };
void main(process.argv.slice(2), io)
  .catch((error: unknown) => report(error, process.stderr))
  .then((code) => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.exitCode = code;
    // Once the command is done, a client library's timer or socket (kafkajs retries a refused TLS
    // handshake, or a broker that went away, for seconds after disconnect) must not keep the
    // process alive: a failed command exits at once, a finished one after a second at most.
    setTimeout(() => process.exit(code), code === 0 ? 1_000 : 250).unref();
  });
