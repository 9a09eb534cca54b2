import { FatalError } from '../processors/errors';

/** A place in a topology or graph-schema file. Lines and columns count from 1. */
export interface FilePosition {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/** One mistake in a topology: where, which option, and what to write instead. */
export interface TopologyProblem extends FilePosition {
  /** The option at fault, e.g. `processors[0].diffs`; empty when the whole file is meant. */
  readonly path: string;
  readonly message: string;
}

/** `topology/demo.yaml:7:5: processors[0].diffs: expected a topic name (string)`. */
export function formatProblem(problem: TopologyProblem): string {
  return `${problem.file}:${problem.line}:${problem.column}: ${problem.path === '' ? '' : `${problem.path}: `}${problem.message}`;
}

/** Mistakes a message lists; the rest are counted. */
export const listedProblems = 10;

/**
 * A topology that cannot run, with every mistake found (several are reported together). The
 * message is one line per problem, each with file, line and column, preceded by a count when
 * there is more than one; past the first {@link listedProblems}, a last line counts the rest
 * (`problems` holds them all). The operator fixes the file and starts again.
 */
export class TopologyError extends FatalError {
  readonly problems: readonly TopologyProblem[];

  constructor(origin: string, problems: readonly TopologyProblem[]) {
    const lines = problems.slice(0, listedProblems).map(formatProblem);
    const more = problems.length - lines.length;
    if (more > 0) lines.push(`... and ${more} more mistake${more === 1 ? '' : 's'} (fix these first: the rest may go with them)`);
    super(problems.length === 1 ? (lines[0] as string) : [`${problems.length} mistakes in ${origin}${more > 0 ? ` (the first ${listedProblems})` : ''}:`, ...lines].join('\n'));
    this.problems = problems;
  }
}

/** The problems found so far; readers add to it and go on, so one run reports them all. */
export class ProblemList {
  private readonly found: TopologyProblem[] = [];

  add(position: FilePosition, path: string, message: string): void {
    this.found.push({ ...position, path, message });
  }

  get size(): number {
    return this.found.length;
  }

  /** The problems by file (in the order files were first named), then line and column. */
  get all(): readonly TopologyProblem[] {
    const files = [...new Set(this.found.map((p) => p.file))];
    return [...this.found].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.column - b.column);
  }
}
