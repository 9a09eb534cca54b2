import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { FilePosition, ProblemList } from './problems';

/** Where a value sits in a file: map keys and list indexes from the root. */
export type Path = readonly (string | number)[];

/** `processors[0].schema.relations.WorksAt`; keys that are not plain names are quoted. */
export function formatPath(path: Path): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(part)) text += text === '' ? part : `.${part}`;
    else text += `[${JSON.stringify(part)}]`;
  }
  return text;
}

/**
 * One parsed YAML file (a topology or a graph schema) that can say where any of its nodes is:
 * every message about a value names its file, line and column.
 */
export class YamlSource {
  private constructor(
    readonly file: string,
    private readonly document: Document.Parsed,
    private readonly lines: LineCounter,
  ) {}

  /**
   * Parses `text` (YAML 1.2, one document, unique keys). Syntax errors are added to `problems`;
   * the source is still returned, for positions.
   */
  static parse(text: string, file: string, problems: ProblemList): YamlSource {
    const lines = new LineCounter();
    const document = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true, version: '1.2', strict: true });
    const source = new YamlSource(file, document, lines);
    for (const error of document.errors) {
      problems.add(source.position(error.pos[0]), '', `${error.message.replace(/\s+$/, '')} (YAML syntax)`);
    }
    return source;
  }

  /** The top-level node; undefined for an empty file. */
  get root(): Node | undefined {
    const contents = this.document.contents;
    return contents === null ? undefined : this.deref(contents);
  }

  /** The node an alias (`*name`) stands for; any other node itself. */
  deref(node: Node): Node {
    if (!isAlias(node)) return node;
    const target = node.resolve(this.document);
    return target === undefined ? node : (target as Node);
  }

  position(offset: number): FilePosition {
    const { line, col } = this.lines.linePos(offset);
    return { file: this.file, line: Math.max(line, 1), column: Math.max(col, 1) };
  }

  /** Where `node` starts, or `fallback` (an offset) when there is no node. */
  positionOf(node: Node | null | undefined, fallback = 0): FilePosition {
    return this.position(node?.range?.[0] ?? fallback);
  }

  /**
   * Where the value at `path` is (its key, with `part: 'key'`). A path that goes further than the
   * file (an option left to its default) is placed at the deepest node that exists.
   */
  locate(path: Path, part: 'key' | 'value' = 'value'): FilePosition {
    const steps = this.walk(path);
    const last = steps[steps.length - 1];
    const node = part === 'key' && steps.length === path.length + 1 && last?.key !== undefined ? last.key : last?.node;
    return this.positionOf(node);
  }

  /** True when the file writes a value at `path` (false when a default will fill it in). */
  has(path: Path): boolean {
    return this.walk(path).length === path.length + 1;
  }

  /** The nodes along `path` from the root, as far as the file goes. */
  private walk(path: Path): { node: Node; key?: Node }[] {
    const root = this.root;
    if (root === undefined) return [];
    const steps: { node: Node; key?: Node }[] = [{ node: root }];
    let node = root;
    for (const step of path) {
      let next: { node: Node; key?: Node } | undefined;
      if (typeof step === 'string' && isMap(node)) {
        const pair = node.items.find((item) => isScalar(item.key) && String(item.key.value) === step);
        const key = pair?.key as Node | undefined;
        if (pair !== undefined && key !== undefined) next = { node: pair.value === null || pair.value === undefined ? key : this.deref(pair.value as Node), key };
      } else if (typeof step === 'number' && isSeq(node)) {
        const item = node.items[step] as Node | undefined;
        if (item !== undefined) next = { node: this.deref(item) };
      }
      if (next === undefined) break;
      steps.push(next);
      node = next.node;
    }
    return steps;
  }
}
