import type { Change, GraphDiff, Uid, Value } from './model';
import { sameValue } from './value';

/** The changes that turn slice `from` of a graph into slice `to`. */
export interface RangeDiff {
  readonly graph: string;
  readonly from: number;
  readonly to: number;
  readonly changes: readonly Change[];
}

/**
 * `diff(from, to)` from the slice diffs `from + 1 .. to` of one graph, in order (law 2 of
 * schemas/README.md). Atoms created and ended inside the range are left out, with everything done
 * to them; several assignments collapse into one whose `previous` is the value at `from`;
 * assignments to atoms that end inside the range are left out; an assignment that returns to the
 * value at `from` vanishes.
 */
export function diffBetween(graph: string, from: number, to: number, slices: Iterable<GraphDiff>): RangeDiff {
  const created = new Map<Uid, Change>();
  const assigned = new Map<Uid, { readonly previous?: Value; value: Value }>();
  const terminated = new Map<Uid, Change>();
  let expected = from + 1;
  for (const diff of slices) {
    if (diff.graph !== graph || diff.slice !== expected) {
      throw new RangeError(`diffBetween(${graph}, ${from}, ${to}) got slice ${diff.slice} of graph '${diff.graph}'; expected slice ${expected} of '${graph}'`);
    }
    expected += 1;
    for (const change of diff.changes) {
      switch (change.op) {
        case 'Created':
          created.set(change.uid, change);
          break;
        case 'Assigned': {
          const earlier = assigned.get(change.uid);
          if (earlier === undefined) assigned.set(change.uid, change.previous === undefined ? { value: change.value } : { previous: change.previous, value: change.value });
          else earlier.value = change.value;
          break;
        }
        case 'Terminated':
          terminated.set(change.uid, change);
          break;
      }
    }
  }
  if (expected !== to + 1) throw new RangeError(`diffBetween(${graph}, ${from}, ${to}) got slices up to ${expected - 1} only`);

  const changes: Change[] = [];
  for (const [uid, change] of created) if (!terminated.has(uid)) changes.push(change);
  for (const [uid, { previous, value }] of assigned) {
    if (terminated.has(uid)) continue;
    if (previous === undefined) changes.push({ op: 'Assigned', uid, value });
    else if (!sameValue(previous, value)) changes.push({ op: 'Assigned', uid, previous, value });
  }
  for (const [uid, change] of terminated) if (!created.has(uid)) changes.push(change);
  return { graph, from, to, changes };
}
