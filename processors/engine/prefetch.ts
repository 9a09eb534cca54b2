import type { GraphTransaction, Ref } from './model';
import { NotLoaded, type GraphState, type Need } from './state';
import { deriveUid, isUid } from './uid';

/**
 * What folding a transaction will most likely read, so a disk-backed state can load it in one
 * round before the fold runs: the head, the txId, every atom named by uid, and the relations of
 * atoms the transaction terminates or sets fields on. A guess, not a contract: a fold that needs
 * more asks for it through `NotLoaded`.
 */
export function prefetchNeeds(tx: GraphTransaction): Need[] {
  const needs: Need[] = [{ what: 'head' }, { what: 'tx', txId: tx.txId }];
  const atom = (ref: Ref | undefined): void => {
    if (ref !== undefined && 'uid' in ref && isUid(ref.uid)) needs.push({ what: 'atom', uid: ref.uid });
  };
  for (const instruction of tx.instructions) {
    switch (instruction.op) {
      case 'CreateEntity':
      case 'CreateAttribute':
        if (instruction.uid !== undefined) atom({ uid: instruction.uid });
        break;
      case 'CreateRelation':
        if (instruction.uid !== undefined) atom({ uid: instruction.uid });
        atom(instruction.source);
        atom(instruction.target);
        break;
      case 'Assign':
        atom(instruction.target);
        break;
      case 'SetField':
        atom(instruction.subject);
        if ('uid' in instruction.subject && isUid(instruction.subject.uid)) needs.push({ what: 'edges', uid: instruction.subject.uid, direction: 'out' });
        break;
      case 'Terminate':
        atom(instruction.target);
        if ('uid' in instruction.target && isUid(instruction.target.uid)) {
          needs.push({ what: 'edges', uid: instruction.target.uid, direction: 'out' });
          needs.push({ what: 'edges', uid: instruction.target.uid, direction: 'in' });
        }
        break;
      case 'Merge':
        atom({ uid: instruction.uid });
        atom(instruction.source);
        atom(instruction.target);
        break;
    }
  }
  return needs;
}

/**
 * The derived uids of the atoms a transaction may create (schemas/README.md, "Identity"): the fold checks that
 * each is new. A state that can tell new uids cheaply skips these (hashing them costs a
 * microsecond each); others load them with the first round.
 */
export function creationNeeds(tx: GraphTransaction): Need[] {
  const needs: Need[] = [];
  tx.instructions.forEach((instruction, index) => {
    switch (instruction.op) {
      case 'CreateEntity':
      case 'CreateAttribute':
      case 'CreateRelation':
        if (instruction.uid === undefined) needs.push({ what: 'atom', uid: deriveUid(tx.graph, tx.txId, instruction.ref === undefined ? { index } : { ref: instruction.ref }) });
        return;
      case 'SetField':
        needs.push({ what: 'atom', uid: deriveUid(tx.graph, tx.txId, { index, part: 'attribute' }) });
        needs.push({ what: 'atom', uid: deriveUid(tx.graph, tx.txId, { index, part: 'relation' }) });
        return;
      default:
        return;
    }
  });
  return needs;
}

/**
 * The second round: what the fold will read past the first round's atoms and relations, now that
 * they are loaded. The attribute a SetField reaches; the relations a Terminate cascades to, with
 * their other ends and their own relations (relations on relations). Whatever `state` cannot
 * answer yet is left to the fold.
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
          needs.push(
            { what: 'atom', uid: edge.uid },
            { what: 'atom', uid: edge.other },
            { what: 'edges', uid: edge.uid, direction: 'out' },
            { what: 'edges', uid: edge.uid, direction: 'in' },
          );
        }
      }
    }
  }
  return needs;
}
