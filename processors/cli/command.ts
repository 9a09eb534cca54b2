/** What a command reads and writes; `main.ts` passes the process's, tests may pass others. */
export interface CommandIo {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stdin: NodeJS.ReadableStream & { readonly isTTY?: boolean };
  /** Aborted on SIGINT or SIGTERM: a long-running command finishes what it holds and returns. */
  readonly signal: AbortSignal;
}

/**
 * One `graphfold <name>` command. Adding a command is one module under `commands/` exporting a
 * Command, and one entry in `commands/index.ts`; the top-level help lists it from there.
 */
export interface Command {
  readonly name: string;
  /** One line for the top-level help. */
  readonly summary: string;
  /** The full help, printed by `graphfold <name> --help`. */
  readonly help: string;
  /**
   * Runs with the arguments after the command's name and resolves to the exit code. Throws a
   * {@link UsageError} for a malformed invocation (exit 2), a {@link CommandFailure} or a
   * GraphfoldError for an expected failure (exit 1, one line, no stack trace).
   */
  run(args: readonly string[], io: CommandIo): Promise<number>;
}

/** The command line is wrong: a missing or unknown option, a bad value. Exit code 2. */
export class UsageError extends Error {
  /** `graphfold tail`: the command whose help to point at. */
  readonly command: string;

  constructor(command: string, message: string) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** The command could not do what it was asked, for a reason it has put in words. Exit code 1. */
export class CommandFailure extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CommandFailure';
  }
}
