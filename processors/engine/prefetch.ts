import type { GraphTransaction, Ref } from './model';
import { NotLoaded, type GraphState, type Need } from './state';
import { deriveUid, isUid } from './uid';

/**
 * What folding a transaction will most likely read, so a disk-backed state can load it in one
 * round before the fold runs: the head, the txId, every atom named by uid or created, and the
 * relations of atoms the transaction terminates or sets fields on. A guess, not a contract: a fold
 * that needs more asks for it through `NotLoaded`.
 */
export function prefetchNeeds(tx: GraphTransaction): Need[] {
  const needs: Need[] = [{ what: 'head' }, { what: 'tx', txId: tx.txId }];
  const atom = (ref: Ref | undefined): void => {
    if (ref !== undefined && 'uid' in ref && isUid(ref.uid)) needs.push({ what: 'atom', uid: ref.uid });
  };
  tx.instructions.forEach((instruction, index) => {
    switch (instruction.op) {
      case 'CreateEntity':
      case 'CreateAttribute':
      case 'CreateRelation': {
        const name = instruction.ref === undefined ? { index } : { ref: instruction.ref };
        atom({ uid: instruction.uid ?? deriveUid(tx.graph, tx.txId, name) });
        if (instruction.op === 'CreateRelation') {
          atom(instruction.source);
          atom(instruction.target);
        }
        return;
      }
      case 'Assign':
        atom(instruction.target);
        return;
      case 'SetField':
        atom(instruction.subject);
        atom({ uid: deriveUid(tx.graph, tx.txId, { index, part: 'attribute' }) });
        atom({ uid: deriveUid(tx.graph, tx.txId, { index, part: 'relation' }) });
        if ('uid' in instruction.subject && isUid(instruction.subject.uid)) {
          needs.push({ what: 'edges', uid: instruction.subject.uid, direction: 'out' });
        }
        return;
      case 'Terminate':
        atom(instruction.target);
        if ('uid' in instruction.target && isUid(instruction.target.uid)) {
          needs.push({ what: 'edges', uid: instruction.target.uid, direction: 'out' });
          needs.push({ what: 'edges', uid: instruction.target.uid, direction: 'in' });
        }
        return;
      case 'Merge':
        atom({ uid: instruction.uid });
        atom(instruction.source);
        atom(instruction.target);
        return;
    }
  });
  return needs;
}

/**
 * The second round: what the fold will read past the first round's edges, now that they are
 * loaded. The attribute a SetField reaches, and the relations a Terminate cascades to (with their
 * own edges, for relations on relations). Whatever `state` cannot answer yet is left to the fold.
 */
export function followUpNeeds(tx: GraphTransaction, state: GraphState): Need[] {
  const needs: Need[] = [];
  const edgesOf = (uid: string, direction: 'out' | 'in'): readonly { uid: string; type: string; other: string }[] => {
    try {
      return state.edges(uid, direction);
    } catch (error) {
      if (error instanceof NotLoaded) return [];
      throw error;
    }
  };
  for (const instruction of tx.instructions) {
    if (instruction.op === 'SetField' && 'uid' in instruction.subject) {
      for (const edge of edgesOf(instruction.subject.uid, 'out')) {
        if (edge.type === instruction.relation) needs.push({ what: 'atom', uid: edge.other });
      }
    }
    if (instruction.op === 'Terminate' && 'uid' in instruction.target) {
      for (const direction of ['out', 'in'] as const) {
        for (const edge of edgesOf(instruction.target.uid, direction)) {
          needs.push({ what: 'atom', uid: edge.uid }, { what: 'edges', uid: edge.uid, direction: 'out' }, { what: 'edges', uid: edge.uid, direction: 'in' });
        }
      }
    }
  }
  return needs;
}
