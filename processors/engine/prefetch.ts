import type { GraphTransaction, Ref } from './model';
import type { Need } from './state';
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
