import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliOptions, type CliRun } from './cli';

/**
 * Every output of one test file's secured runs, kept as files in one directory: the stdout and
 * stderr of each CLI run and the log of each processor child. The file's last test searches all
 * of them, and the cluster's own logs, for every password the file used.
 */
export class OutputArchive {
  private count = 0;

  private constructor(readonly dir: string) {}

  static async create(label: string): Promise<OutputArchive> {
    return new OutputArchive(await mkdtemp(join(tmpdir(), `graphfold-outputs-${label}-`)));
  }

  /** A fresh file name in the archive, for a child process to log to. */
  file(name: string): string {
    this.count += 1;
    return join(this.dir, `${String(this.count).padStart(3, '0')}-${name.replace(/[^A-Za-z0-9._-]+/g, '_')}`);
  }

  async record(name: string, text: string): Promise<void> {
    await writeFile(this.file(name), text);
  }

  /** `graphfold <args>` as {@link runCli} runs it, its stdout and stderr archived. */
  async runCli(name: string, args: readonly string[], options: CliOptions = {}): Promise<CliRun> {
    const run = await runCli(args, options);
    await this.record(`${name}.stdout`, run.stdout);
    await this.record(`${name}.stderr`, run.stderr);
    return run;
  }

  /**
   * `<file> holds <name>` for each secret found in an archived output or in `alsoFiles` (logs
   * outside the archive: the broker's, the registry's). Empty when nothing leaked.
   */
  async leaks(secrets: Readonly<Record<string, string>>, alsoFiles: readonly string[] = []): Promise<string[]> {
    const files = [...(await readdir(this.dir)).sort().map((name) => join(this.dir, name)), ...alsoFiles];
    const found: string[] = [];
    for (const file of files) {
      const text = await readFile(file, 'utf8');
      for (const [name, secret] of Object.entries(secrets)) {
        if (secret !== '' && text.includes(secret)) found.push(`${file} holds ${name}`);
      }
    }
    return found;
  }

  /** How many outputs were archived (the leak check is only as good as what it read). */
  async size(): Promise<number> {
    return (await readdir(this.dir)).length;
  }
}
