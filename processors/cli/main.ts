#!/usr/bin/env node
import { GraphfoldError } from '../errors';
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
  'Run graphfold <command> --help for its options.',
].join('\n');

async function main(args: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = args;
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
  if (error instanceof GraphfoldError || error instanceof CommandFailure) {
    stderr.write(`graphfold: ${error.message}\n`);
    return 1;
  }
  stderr.write(`graphfold: unexpected error (a bug; please report it): ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}

const controller = new AbortController();
const stop = (): void => controller.abort();
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
const io: CommandIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, signal: controller.signal };
void main(process.argv.slice(2), io)
  .catch((error: unknown) => report(error, process.stderr))
  .then((code) => {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.exitCode = code;
    // A command that failed has said why and closed what it held; what may still run is a client
    // library's retry timer (kafkajs retries a refused TLS handshake for seconds even after
    // disconnect), which must not keep a failed command alive. A command that succeeded ends
    // when nothing is left to do.
    if (code !== 0) setTimeout(() => process.exit(), 250).unref();
  });
