import type { Change, GraphTransaction, Instruction } from './model';

/**
 * A diff as instructions another graph can fold (law 5 of schemas/README.md): creations become Merge,
 * assignments Assign, terminations Terminate, all by explicit uid. Terminations that cascaded are
 * left out: the receiving graph ends them by the same cascade. The txId is derived from the
 * source graph and slice, so importing the same diff twice is a no-op.
 */
export function diffAsTransaction(diff: { readonly graph: string; readonly slice: number; readonly time: number; readonly changes: readonly Change[] }, intoGraph: string): GraphTransaction {
  const instructions: Instruction[] = [];
  for (const change of diff.changes) {
    switch (change.op) {
      case 'Created':
        instructions.push(
          change.source !== undefined && change.target !== undefined
            ? { op: 'Merge', uid: change.uid, kind: change.kind, type: change.type, source: { uid: change.source }, target: { uid: change.target } }
            : { op: 'Merge', uid: change.uid, kind: change.kind, type: change.type },
        );
        break;
      case 'Assigned':
        instructions.push({ op: 'Assign', target: { uid: change.uid }, value: change.value });
        break;
      case 'Terminated':
        if (!change.cascade) instructions.push({ op: 'Terminate', target: { uid: change.uid } });
        break;
    }
  }
  return { graph: intoGraph, txId: `diff:${diff.graph}:${diff.slice}`, time: diff.time, instructions };
}
