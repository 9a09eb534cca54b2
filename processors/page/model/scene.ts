import type { Change, Field, JsonValue, Subgraph, SubgraphEdge, SubgraphNode } from './api-types';
import { shortUid, valueText } from './values';

/**
 * What the page draws: the nodes and edges of one or more subgraph answers as of one slice, each
 * marked by how it compares with an earlier slice (a diff between two slices, or the slice before
 * in live mode). Pure: the drawing turns a scene into Cytoscape elements.
 */

/** How an element compares with the earlier slice: `faded` is an end of a terminated relation that is drawn only for it. */
export type Status = 'same' | 'created' | 'changed' | 'terminated' | 'faded';

export interface SceneField extends Field {
  readonly status: Status;
  /** Changed or created: the value at the earlier slice; null when there was none. */
  readonly previous?: JsonValue | null;
}

export interface SceneNode extends Omit<SubgraphNode, 'fields'> {
  readonly fields: readonly SceneField[];
  readonly status: Status;
  /** An attribute node whose value changed: its value at the earlier slice (null: none). */
  readonly previous?: JsonValue | null;
}

export interface SceneEdge extends Omit<SubgraphEdge, 'fields'> {
  readonly fields: readonly SceneField[];
  readonly status: Status;
}

export interface Scene {
  readonly slice: number;
  readonly head: number;
  readonly seeds: readonly string[];
  readonly nodes: ReadonlyMap<string, SceneNode>;
  readonly edges: ReadonlyMap<string, SceneEdge>;
  readonly truncated: boolean;
  readonly omitted: number;
  /** The slice compared with, when this scene shows a comparison. */
  readonly comparedWith?: number;
}

/** One scene from the answers of several subgraph reads as of the same slice: nodes and edges by uid, each node at its least distance. */
export function sceneOf(answers: readonly Subgraph[]): Scene {
  const first = answers[0];
  if (first === undefined) return { slice: 0, head: 0, seeds: [], nodes: new Map(), edges: new Map(), truncated: false, omitted: 0 };
  const nodes = new Map<string, SceneNode>();
  const edges = new Map<string, SceneEdge>();
  const seeds: string[] = [];
  for (const answer of answers) {
    if (answer.slice !== first.slice) throw new Error(`sceneOf: answers as of slices ${first.slice} and ${answer.slice}`);
    for (const seed of answer.seeds) if (!seeds.includes(seed)) seeds.push(seed);
    for (const node of answer.nodes) {
      const known = nodes.get(node.uid);
      if (known === undefined) nodes.set(node.uid, { ...node, fields: node.fields.map(same), status: 'same' });
      else if (node.distance < known.distance) nodes.set(node.uid, { ...known, distance: node.distance });
    }
    for (const edge of answer.edges) if (!edges.has(edge.uid)) edges.set(edge.uid, { ...edge, fields: edge.fields.map(same), status: 'same' });
  }
  return { slice: first.slice, head: Math.max(...answers.map((a) => a.head)), seeds, nodes, edges, truncated: answers.some((a) => a.truncated), omitted: answers.reduce((n, a) => n + a.omitted, 0) };
}

function same(field: Field): SceneField {
  return { ...field, status: 'same' };
}

/**
 * `after` marked against `before` by the changes between their slices (the compacted diff):
 * atoms created green, terminated ones (drawn from `before`) red, values assigned marked with
 * the earlier value. A node that left the view without being terminated is not drawn, except as
 * the end of a terminated relation (`faded`).
 */
export function compareScenes(before: Scene, after: Scene, changes: readonly Change[]): Scene {
  const created = new Set<string>();
  const terminated = new Set<string>();
  const assigned = new Map<string, JsonValue | undefined>();
  for (const change of changes) {
    if (change.op === 'Created') created.add(change.uid);
    else if (change.op === 'Terminated') terminated.add(change.uid);
    else assigned.set(change.uid, change.previous);
  }
  const fieldsOf = (now: readonly Field[], then: readonly Field[] | undefined): SceneField[] => {
    const earlier = new Map((then ?? []).map((f) => [f.uid, f]));
    const later = new Set(now.map((f) => f.uid));
    const out: SceneField[] = [];
    for (const field of now) {
      const old = earlier.get(field.uid);
      if (created.has(field.uid) || created.has(field.attribute)) {
        const replaced = (then ?? []).find((f) => f.type === field.type && !later.has(f.uid));
        out.push({ ...field, status: then === undefined ? 'same' : 'created', previous: replaced?.value ?? null });
      } else if (assigned.has(field.attribute)) {
        out.push({ ...field, status: 'changed', previous: old?.value ?? assigned.get(field.attribute) ?? null });
      } else {
        out.push({ ...field, status: 'same' });
      }
    }
    for (const field of then ?? []) {
      if (!later.has(field.uid) && (terminated.has(field.uid) || terminated.has(field.attribute))) out.push({ ...field, status: 'terminated' });
    }
    return out;
  };
  const statusOf = (uid: string, fields: readonly SceneField[], changedValue: boolean): Status =>
    created.has(uid) ? 'created' : changedValue || fields.some((f) => f.status !== 'same') ? 'changed' : 'same';

  const nodes = new Map<string, SceneNode>();
  for (const node of after.nodes.values()) {
    const old = before.nodes.get(node.uid);
    const fields = fieldsOf(node.fields, created.has(node.uid) ? undefined : (old?.fields ?? []));
    const valueChanged = node.kind === 'attribute' && assigned.has(node.uid) && !created.has(node.uid);
    const status = statusOf(node.uid, fields, valueChanged);
    nodes.set(node.uid, { ...node, fields, status, ...(valueChanged ? { previous: old?.value ?? assigned.get(node.uid) ?? null } : {}) });
  }
  for (const node of before.nodes.values()) {
    if (!nodes.has(node.uid) && terminated.has(node.uid)) nodes.set(node.uid, { ...node, fields: node.fields.map(same), status: 'terminated' });
  }
  const edges = new Map<string, SceneEdge>();
  for (const edge of after.edges.values()) {
    const old = before.edges.get(edge.uid);
    const fields = fieldsOf(edge.fields, created.has(edge.uid) ? undefined : (old?.fields ?? []));
    edges.set(edge.uid, { ...edge, fields, status: statusOf(edge.uid, fields, false) });
  }
  for (const edge of before.edges.values()) {
    if (edges.has(edge.uid) || !terminated.has(edge.uid)) continue;
    for (const end of [edge.source, edge.target]) {
      const old = before.nodes.get(end);
      if (!nodes.has(end) && old !== undefined) nodes.set(end, { ...old, fields: old.fields.map(same), status: terminated.has(end) ? 'terminated' : 'faded' });
    }
    edges.set(edge.uid, { ...edge, fields: edge.fields.map(same), status: 'terminated' });
  }
  return { ...after, nodes, edges, comparedWith: before.slice };
}

/** How many elements of a scene have each status. */
export function countStatuses(scene: Scene): Record<Status, number> {
  const counts: Record<Status, number> = { same: 0, created: 0, changed: 0, terminated: 0, faded: 0 };
  for (const node of scene.nodes.values()) counts[node.status] += 1;
  for (const edge of scene.edges.values()) counts[edge.status] += 1;
  return counts;
}

/** Field names that name their holder, in order of preference. */
const nameFields = ['Name', 'name', 'Title', 'title', 'Label', 'label', 'Email', 'email'];

/** The name a node is drawn with: its Name-like field, its first string field, or its type and short uid; an attribute node, its value. */
export function nameOf(node: SceneNode): string {
  if (node.kind === 'attribute') return valueText(node.value);
  for (const name of nameFields) {
    const field = node.fields.find((f) => f.type === name && f.status !== 'terminated' && f.value !== undefined);
    if (field !== undefined) return valueText(field.value);
  }
  const text = node.fields.find((f) => f.value?.type === 'String' && f.status !== 'terminated');
  return text === undefined ? `${node.type} ${shortUid(node.uid)}` : valueText(text.value);
}

/** Marks a field's line by its status: `✚` created, `✱` changed, `✕` terminated. */
function marked(field: SceneField): string {
  const mark = field.status === 'created' ? '✚ ' : field.status === 'changed' ? '✱ ' : field.status === 'terminated' ? '✕ ' : '';
  return `${mark}${field.type}: ${valueText(field.value)}`;
}

/** A node's label: its name, then up to `lines` of its other fields (`Field: value`, marked when they changed), and how many more there are. */
export function nodeLabel(node: SceneNode, lines = 3): string {
  const name = nameOf(node);
  const rest = node.fields.filter((f) => valueText(f.value) !== name || f.status !== 'same');
  const shown = [...rest.filter((f) => f.status !== 'same'), ...rest.filter((f) => f.status === 'same')].slice(0, lines).map(marked);
  const more = lines === 0 ? 0 : rest.length - shown.length;
  const valueMark = node.kind === 'attribute' && node.status === 'changed' ? '✱ ' : '';
  return [`${valueMark}${name}`, ...shown, ...(more > 0 ? [`+${more} more`] : [])].join('\n');
}

/** An edge's label: its type, and its own fields' values in brackets. */
export function edgeLabel(edge: SceneEdge): string {
  if (edge.fields.length === 0) return edge.type;
  return `${edge.type} (${edge.fields.map((f) => `${f.status === 'changed' || f.status === 'created' ? '✱' : ''}${valueText(f.value)}`).join(', ')})`;
}

/** The hover text of a node or edge: type, uid, created slice, each field with its previous value when it changed. */
export function hoverText(element: SceneNode | SceneEdge): string {
  const lines = [`${element.type} ${element.uid}`, `created at slice ${element.created}${element.status === 'terminated' ? ', terminated since' : ''}`];
  if (element.status === 'faded') lines.push('shown as it was at the earlier slice: it left this view when a relation to it ended');
  if ('kind' in element && element.kind === 'attribute') {
    lines.push(`value: ${valueText(element.value)}${element.previous !== undefined ? ` (was ${element.previous === null ? 'none' : valueText(element.previous)})` : ''}`);
  }
  for (const field of element.fields) {
    const was = field.previous === undefined || field.status === 'same' ? '' : ` (was ${field.previous === null ? 'none' : valueText(field.previous)})`;
    lines.push(`${marked(field)}${was}`);
  }
  return lines.join('\n');
}
