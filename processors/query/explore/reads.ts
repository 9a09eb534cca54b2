import type { Uid, Value } from '../../engine/model';
import type { Direction, RelationEdge } from '../../engine/state';
import type { AtomAt, GraphStore, StoredRejection } from '../../store/graph-store';
import { badParameter, QueryError } from '../query-error';
import type { AtomJson, ReadAt } from '../reads';
import { valueMatches } from './value-text';

/**
 * The reads the live page explores a graph with, beside the query API's own (`../reads.ts`): a
 * drawable subgraph (entities as nodes with their attribute values as fields, relations between
 * them as edges), a search of attribute values, the types present, and the kept rejections. Built
 * on the store's query methods only, as of any slice; a list answers as of its slice alone.
 */

/** What these reads need of a partition's store. */
export type ExploreStore = Pick<GraphStore, 'atomAt' | 'relationsAt' | 'atoms' | 'atomsOfType' | 'lifetimeOf' | 'rejections'>;

/** An attribute value hung off a node or an edge: the relation that holds it and the attribute. */
export interface FieldJson {
  /** The holding relation's uid and type (the field's name, e.g. `Name`). */
  readonly uid: Uid;
  readonly type: string;
  readonly attribute: Uid;
  /** Absent while the attribute has no value. */
  readonly value?: Value;
}

export interface NodeJson {
  readonly uid: Uid;
  readonly kind: AtomAt['kind'];
  readonly type: string;
  readonly created: number;
  /** Relations from the nearest seed (0 for a seed). */
  readonly distance: number;
  /** Attributes only (drawn as nodes when asked): the value. */
  readonly value?: Value;
  readonly fields: readonly FieldJson[];
}

export interface EdgeJson {
  readonly uid: Uid;
  readonly type: string;
  readonly source: Uid;
  readonly target: Uid;
  readonly created: number;
  /** Attributes on the relation itself (a relation on a relation whose other end is an attribute). */
  readonly fields: readonly FieldJson[];
}

export interface SubgraphOptions {
  /** Start atoms; or, with `type`, the atoms of that type. */
  readonly from?: readonly Uid[];
  readonly type?: string;
  /** Relations away from the seeds (0: the seeds and the edges among them). */
  readonly hops: number;
  /** At most this many nodes. */
  readonly limit: number;
  /** Follow (and draw) only relations of this type between nodes. */
  readonly follow?: string;
  /** `labels`: attributes as fields of their holders; `nodes`: attributes as nodes of their own. */
  readonly attributes: 'labels' | 'nodes';
}

export interface SubgraphJson {
  readonly seeds: readonly Uid[];
  readonly nodes: readonly NodeJson[];
  readonly edges: readonly EdgeJson[];
  /** True when `limit` nodes were reached with more within `hops`. */
  readonly truncated: boolean;
  /** Relations not drawn: between a node and a relation that is not an edge of this view (relations on relations). */
  readonly omitted: number;
}

export interface SearchMatch {
  /** The atom that holds the matching attribute (an entity, or a relation for a relation's attribute). */
  readonly atom: AtomJson;
  /** The holding relation (the field) and the attribute, with its value. */
  readonly field: FieldJson;
}

export interface RejectionJson {
  readonly txId: string;
  readonly code: string;
  readonly message: string;
  readonly instructionIndex?: number;
  readonly source: StoredRejection['source'];
  readonly head: number;
  readonly time: number;
}

export class ExploreReads {
  constructor(private readonly store: ExploreStore) {}

  /**
   * The subgraph around `from` (or the atoms of `type`) as of `at.slice`, breadth first:
   * 1. the seeds (each must exist then) at distance 0; a relation seed stands for its two ends;
   * 2. each hop reads the frontier's relations (both directions): one to an attribute is a field
   *    of its holder (or, with attributes as nodes, an edge to the attribute's node); one to an
   *    entity is an edge, its other end a node of the next hop; at most `limit` nodes;
   * 3. the last hop's relations are read too, so every edge between two drawn nodes is drawn and
   *    every node has its fields; each edge's own attribute fields are read last.
   */
  async subgraph(graph: string, at: ReadAt, options: SubgraphOptions): Promise<SubgraphJson> {
    const slice = at.slice;
    const seeds = await this.seeds(graph, at, options);
    // A hub is the other end of every one of its neighbours' relations: read each atom once.
    const atoms = new Map<Uid, Promise<AtomAt | undefined>>();
    const atomAt = (uid: Uid): Promise<AtomAt | undefined> => {
      let found = atoms.get(uid);
      if (found === undefined) atoms.set(uid, (found = this.store.atomAt(graph, uid, slice)));
      return found;
    };
    const drawable = (atom: AtomAt): boolean => atom.kind === 'entity' || (atom.kind === 'attribute' && options.attributes === 'nodes');
    const nodes = new Map<Uid, { atom: AtomAt; distance: number; fields: FieldJson[] }>();
    const edges = new Map<Uid, { edge: RelationEdge; source: Uid; target: Uid }>();
    const omittedRelations = new Set<Uid>();
    let truncated = false;
    for (const atom of seeds) {
      if (nodes.size === options.limit) {
        truncated = true;
        break;
      }
      if (!nodes.has(atom.uid)) nodes.set(atom.uid, { atom, distance: 0, fields: [] });
    }
    let frontier = [...nodes.keys()];
    const read = new Set<Uid>();
    for (let hop = 0; frontier.length > 0; hop += 1) {
      const next: Uid[] = [];
      const lists = await Promise.all(frontier.map((uid) => this.relationsOf(graph, uid, slice, atomAt)));
      for (const [i, list] of lists.entries()) {
        const uid = frontier[i] as Uid;
        read.add(uid);
        const node = nodes.get(uid) as { atom: AtomAt; fields: FieldJson[] };
        for (const { edge, direction, other } of list) {
          if (other.kind === 'attribute' && !drawable(other)) {
            node.fields.push(fieldOf(edge, other));
            continue;
          }
          if (!drawable(other) || (node.atom.kind === 'attribute' && other.kind === 'attribute')) {
            omittedRelations.add(edge.uid);
            continue;
          }
          if (options.follow !== undefined && edge.type !== options.follow) continue;
          if (!nodes.has(other.uid)) {
            if (hop >= options.hops) continue;
            if (nodes.size === options.limit) {
              truncated = true;
              continue;
            }
            nodes.set(other.uid, { atom: other, distance: hop + 1, fields: [] });
            next.push(other.uid);
          }
          if (!edges.has(edge.uid)) edges.set(edge.uid, { edge, source: direction === 'out' ? uid : other.uid, target: direction === 'out' ? other.uid : uid });
        }
      }
      frontier = next.filter((uid) => !read.has(uid));
    }
    for (const uid of omittedRelations) if (edges.has(uid)) omittedRelations.delete(uid);
    const edgeList = [...edges.values()];
    const edgeFields = await Promise.all(edgeList.map(({ edge }) => this.fieldsOf(graph, edge.uid, slice)));
    const created = await Promise.all(edgeList.map(({ edge }) => this.store.lifetimeOf(graph, edge.uid)));
    return {
      seeds: seeds.map((s) => s.uid),
      nodes: [...nodes.values()].map(({ atom, distance, fields }) => ({
        uid: atom.uid,
        kind: atom.kind,
        type: atom.type,
        created: atom.created,
        distance,
        ...(atom.value === undefined ? {} : { value: atom.value }),
        fields,
      })),
      edges: edgeList.map(({ edge, source, target }, i) => ({ uid: edge.uid, type: edge.type, source, target, created: created[i]?.created ?? 0, fields: edgeFields[i] as FieldJson[] })),
      truncated,
      omitted: omittedRelations.size,
    };
  }

  /**
   * The attributes alive at the slice whose value reads like `value` (case-insensitive
   * substring of its text: a string, an enum's symbol, a number, `true`/`false`, a time in RFC
   * 3339), each with the atoms that hold it, in uid order; `field` keeps only holding relations of
   * that type, `type` only holders of that type. A scan of the graph's atoms (there is no value
   * index): at most `scan` atoms are read; `complete` says whether the whole graph was.
   */
  async search(graph: string, at: ReadAt, options: { readonly value: string; readonly field?: string; readonly type?: string; readonly limit: number; readonly scan: number }): Promise<{ readonly matches: readonly SearchMatch[]; readonly scanned: number; readonly complete: boolean }> {
    const needle = options.value.toLowerCase();
    const matches: SearchMatch[] = [];
    let scanned = 0;
    let complete = true;
    for await (const atom of this.store.atoms(graph, at.slice)) {
      if (scanned === options.scan || matches.length === options.limit) {
        complete = false;
        break;
      }
      scanned += 1;
      if (atom.kind !== 'attribute' || atom.value === undefined || !valueMatches(atom.value, needle)) continue;
      const holders = await this.store.relationsAt(graph, atom.uid, 'in', { slice: at.slice, ...(options.field === undefined ? {} : { type: options.field }) });
      for (const edge of holders) {
        const holder = await this.store.atomAt(graph, edge.other, at.slice);
        if (holder === undefined || (options.type !== undefined && holder.type !== options.type)) continue;
        if (matches.length === options.limit) {
          complete = false;
          break;
        }
        matches.push({ atom: holder, field: fieldOf(edge, atom) });
      }
    }
    return { matches, scanned, complete };
  }

  /** The entity and relation types alive at the slice, with how many of each, and the attribute value types; from a scan of at most `scan` atoms. */
  async types(graph: string, at: ReadAt, scan: number): Promise<{ readonly types: readonly { readonly kind: AtomAt['kind']; readonly type: string; readonly count: number }[]; readonly scanned: number; readonly complete: boolean }> {
    const counts = new Map<string, { kind: AtomAt['kind']; type: string; count: number }>();
    let scanned = 0;
    let complete = true;
    for await (const atom of this.store.atoms(graph, at.slice)) {
      if (scanned === scan) {
        complete = false;
        break;
      }
      scanned += 1;
      const key = `${atom.kind}\0${atom.type}`;
      const entry = counts.get(key);
      if (entry === undefined) counts.set(key, { kind: atom.kind, type: atom.type, count: 1 });
      else entry.count += 1;
    }
    const order = { entity: 0, relation: 1, attribute: 2 } as const;
    const types = [...counts.values()].sort((a, b) => order[a.kind] - order[b.kind] || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
    return { types, scanned, complete };
  }

  /** The kept rejections of a graph, newest first. */
  async rejections(graph: string, limit: number): Promise<readonly RejectionJson[]> {
    const out: RejectionJson[] = [];
    for await (const r of this.store.rejections(graph, { limit })) {
      out.push({ txId: r.txId, code: r.code, message: r.message, ...(r.instructionIndex === undefined ? {} : { instructionIndex: r.instructionIndex }), source: r.source, head: r.head, time: r.time });
    }
    return out;
  }

  /** The seeds: the `from` atoms (404 for one that did not exist then), or the atoms of `type`. */
  private async seeds(graph: string, at: ReadAt, options: SubgraphOptions): Promise<AtomAt[]> {
    if (options.from !== undefined && options.type !== undefined) throw badParameter('type', 'give from (start atoms) or type (the atoms of a type), not both');
    if (options.from === undefined && options.type === undefined) throw badParameter('from', 'give from (start atoms, comma-separated uids) or type (the atoms of a type)');
    const out: AtomAt[] = [];
    const add = async (uid: Uid): Promise<void> => {
      const atom = await this.store.atomAt(graph, uid, at.slice);
      if (atom === undefined) return;
      if (atom.kind === 'relation' && atom.source !== undefined && atom.target !== undefined) {
        for (const end of [atom.source, atom.target]) {
          const endAtom = await this.store.atomAt(graph, end, at.slice);
          if (endAtom !== undefined && endAtom.kind !== 'relation') out.push(endAtom);
        }
      } else {
        out.push(atom);
      }
    };
    if (options.from !== undefined) {
      for (const uid of options.from) {
        const before = out.length;
        await add(uid);
        if (out.length === before) await this.missing(graph, uid, at);
      }
      return out;
    }
    for await (const uid of this.store.atomsOfType(graph, options.type as string, at.slice)) {
      // One more than the limit: the node count then says whether the view is truncated.
      if (out.length > options.limit) break;
      await add(uid);
    }
    return out;
  }

  /** A `from` uid that gave no seed: 404 saying when it existed, if ever. */
  private async missing(graph: string, uid: Uid, at: ReadAt): Promise<never> {
    const lifetime = await this.store.lifetimeOf(graph, uid);
    if (lifetime === undefined || lifetime.created > at.head) throw new QueryError('not_found', `atom ${uid} (from) does not exist in graph '${graph}'`, { parameter: 'from', body: { graph, uid } });
    const when = at.slice < lifetime.created ? `it was created at slice ${lifetime.created}` : lifetime.terminated !== undefined && at.slice >= lifetime.terminated ? `it was terminated at slice ${lifetime.terminated}` : 'it is a relation between relations, which has no drawable end';
    throw new QueryError('not_found', `atom ${uid} (from) gives nothing to draw at slice ${at.slice} of graph '${graph}': ${when}`, {
      parameter: 'from',
      body: { graph, uid, slice: at.slice, head: at.head, created: lifetime.created, ...(lifetime.terminated === undefined ? {} : { terminated: lifetime.terminated }) },
    });
  }

  /** An atom's relations alive at the slice, both directions, each with the atom at its other end. */
  private async relationsOf(graph: string, uid: Uid, slice: number, atomAt: (uid: Uid) => Promise<AtomAt | undefined>): Promise<{ edge: RelationEdge; direction: Direction; other: AtomAt }[]> {
    const [out, into] = await Promise.all([this.store.relationsAt(graph, uid, 'out', { slice }), this.store.relationsAt(graph, uid, 'in', { slice })]);
    const listed = [...out.map((edge) => ({ edge, direction: 'out' as const })), ...into.map((edge) => ({ edge, direction: 'in' as const }))];
    const others = await Promise.all(listed.map(({ edge }) => atomAt(edge.other)));
    const found: { edge: RelationEdge; direction: Direction; other: AtomAt }[] = [];
    for (const [i, item] of listed.entries()) {
      const other = others[i];
      if (other === undefined) throw new Error(`graph '${graph}': atom ${item.edge.other}, reached by relation ${item.edge.uid} alive at slice ${slice}, is not alive then (a bug in the store)`);
      found.push({ ...item, other });
    }
    return found;
  }

  /** The attribute fields out of an atom (a relation's own attributes), by type then uid. */
  private async fieldsOf(graph: string, uid: Uid, slice: number): Promise<FieldJson[]> {
    const out = await this.store.relationsAt(graph, uid, 'out', { slice });
    const others = await Promise.all(out.map((edge) => this.store.atomAt(graph, edge.other, slice)));
    const fields: FieldJson[] = [];
    for (const [i, edge] of out.entries()) {
      const other = others[i];
      if (other?.kind === 'attribute') fields.push(fieldOf(edge, other));
    }
    return fields;
  }
}

function fieldOf(edge: RelationEdge, attribute: AtomAt): FieldJson {
  return attribute.value === undefined ? { uid: edge.uid, type: edge.type, attribute: attribute.uid } : { uid: edge.uid, type: edge.type, attribute: attribute.uid, value: attribute.value };
}
