import { hash } from 'node:crypto';
import type { Uid } from './model';

const uidPattern = /^[0-9a-f]{32}$/;

export function isUid(candidate: string): boolean {
  return uidPattern.test(candidate);
}

/**
 * What names an atom inside its transaction: its local name, or the index of the instruction that
 * creates it (with a part, when one instruction creates several atoms).
 */
export type LocalName = { readonly ref: string } | { readonly index: number; readonly part?: string };

/**
 * The uid of an atom created without an explicit uid: a hash of graph id, transaction id and the
 * atom's local name (or, for an unnamed atom, its instruction index). Replaying the same input
 * therefore yields the same uids.
 */
export function deriveUid(graph: string, txId: string, name: LocalName): Uid {
  const local = 'ref' in name ? `ref:${name.ref}` : `index:${name.index}${name.part === undefined ? '' : `/${name.part}`}`;
  return hash('sha256', `graphfold/uid/v1\0${graph}\0${txId}\0${local}`, 'hex').slice(0, 32);
}
