import type { Uid, Value } from '../../processors/engine/model';
import type { ModelAtom, ReferenceGraph } from './reference-model';

/**
 * The drawable subgraph the reference model gives, for tests of the explore routes and the live
 * page: what `GET /v1/graphs/{graph}/subgraph` should answer, worked out independently.
 */

/** The JSON form of a model value, as the API writes it. */
export function json(value: Value | undefined): unknown {
  if (value === undefined) return undefined;
  return JSON.parse(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()) : v)));
}

export interface Field {
  uid: string;
  type: string;
  attribute: string;
  value?: unknown;
}

export const byUid = <T extends { uid: string }>(items: readonly T[]): T[] => [...items].sort((a, b) => (a.uid < b.uid ? -1 : 1));

/**
 * The subgraph the reference model gives: a breadth-first walk over relations between drawable
 * atoms, every field, every edge among the nodes; a relation's attributes are fields of its edge
 * whatever the mode (an edge cannot point at a node).
 */
export function modelSubgraph(model: ReferenceGraph, s: number, seeds: readonly Uid[], options: { hops: number; attributes?: 'labels' | 'nodes'; follow?: string }) {
  const at = model.slices[s] as ReadonlyMap<Uid, ModelAtom>;
  const nodesMode = options.attributes === 'nodes';
  const drawable = (uid: Uid): boolean => at.get(uid)?.kind === 'entity' || (nodesMode && at.get(uid)?.kind === 'attribute');
  const related = (uid: Uid) => [...model.relationsAt(uid, 'out', s), ...model.relationsAt(uid, 'in', s)];
  const distance = new Map<Uid, number>(seeds.map((u) => [u, 0]));
  let frontier = [...seeds];
  for (let hop = 1; hop <= options.hops; hop += 1) {
    const next: Uid[] = [];
    for (const uid of frontier) {
      for (const r of related(uid)) {
        if (!drawable(r.other) || distance.has(r.other)) continue;
        if (at.get(uid)?.kind === 'attribute' && at.get(r.other)?.kind === 'attribute') continue;
        if (options.follow !== undefined && r.type !== options.follow) continue;
        distance.set(r.other, hop);
        next.push(r.other);
      }
    }
    frontier = next;
  }
  const fieldsOf = (uid: Uid, relations: { uid: Uid; type: string; other: Uid }[], asField = (other: Uid) => !drawable(other)): Field[] =>
    byUid(relations.filter((r) => at.get(r.other)?.kind === 'attribute' && asField(r.other)).map((r) => ({ uid: r.uid, type: r.type, attribute: r.other, ...(at.get(r.other)?.value === undefined ? {} : { value: json(at.get(r.other)?.value) }) })));
  const nodes = byUid(
    [...distance].map(([uid, d]) => {
      const atom = at.get(uid) as { kind: string; type: string; created: number; value?: Value };
      return { uid, kind: atom.kind, type: atom.type, created: atom.created, distance: d, ...(atom.value === undefined ? {} : { value: json(atom.value) }), fields: fieldsOf(uid, related(uid)) };
    }),
  );
  const edges = byUid(
    [...at.values()]
      .filter((a) => a.kind === 'relation' && distance.has(a.source as Uid) && distance.has(a.target as Uid) && !(at.get(a.source as Uid)?.kind === 'attribute' && at.get(a.target as Uid)?.kind === 'attribute'))
      .filter((a) => options.follow === undefined || a.type === options.follow)
      .map((a) => {
        const uid = a.uid;
        return { uid, type: a.type, source: a.source, target: a.target, created: a.created, fields: fieldsOf(uid, model.relationsAt(uid, 'out', s), () => true) };
      }),
  );
  return { nodes, edges };
}

/** A subgraph answer with its nodes, edges and fields in uid order, to compare with `modelSubgraph`. */
export function normalised(body: Record<string, unknown>) {
  const nodes = byUid(body['nodes'] as { uid: string; fields: Field[] }[]).map((n) => ({ ...n, fields: byUid(n.fields) }));
  const edges = byUid(body['edges'] as { uid: string; fields: Field[] }[]).map((e) => ({ ...e, fields: byUid(e.fields) }));
  return { nodes, edges };
}

