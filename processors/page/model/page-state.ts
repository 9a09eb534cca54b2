/**
 * What the page shows, as kept in its address's fragment (`#graph=acme&from=<uid>&hops=2&slice=40`),
 * so a view can be bookmarked, shared and reloaded. The token is read from the fragment once and
 * then kept out of it (the page stores it for the browser tab only).
 */
export interface PageState {
  readonly processor?: string;
  readonly graph?: string;
  /** Start atoms of the view. */
  readonly from?: readonly string[];
  /** Or the atoms of a type. */
  readonly type?: string;
  readonly hops: number;
  readonly limit: number;
  readonly attributes: 'labels' | 'nodes';
  /** Nodes expanded by a click (their neighbours are drawn too). */
  readonly expanded: readonly string[];
  /** As of which slice; undefined: the head (and following it in live mode). */
  readonly slice?: number;
  /** Compare with this earlier slice: the diff from it to `slice` is highlighted. */
  readonly diffFrom?: number;
  readonly live: boolean;
  readonly token?: string;
}

export const defaultState: PageState = { hops: 1, limit: 2000, attributes: 'labels', expanded: [], live: false };

const uidList = /^[0-9a-f]{32}(,[0-9a-f]{32})*$/;

function count(text: string | null, min: number, max: number): number | undefined {
  if (text === null || !/^\d{1,15}$/.test(text)) return undefined;
  const n = Number(text);
  return n >= min && n <= max ? n : undefined;
}

/** The state a fragment describes; what is missing or malformed takes its default. */
export function parseState(fragment: string): PageState {
  const p = new URLSearchParams(fragment.replace(/^#/, ''));
  const from = p.get('from');
  const expanded = p.get('expanded');
  const text = (name: string): string | undefined => {
    const value = p.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const slice = count(p.get('slice'), 0, Number.MAX_SAFE_INTEGER);
  const diffFrom = count(p.get('diff'), 0, Number.MAX_SAFE_INTEGER);
  const processor = text('processor');
  const graph = text('graph');
  const type = text('type');
  const token = text('token');
  return {
    ...(processor === undefined ? {} : { processor }),
    ...(graph === undefined ? {} : { graph }),
    ...(from !== null && uidList.test(from) ? { from: from.split(',') } : {}),
    ...(type === undefined ? {} : { type }),
    hops: count(p.get('hops'), 0, 16) ?? defaultState.hops,
    limit: count(p.get('limit'), 1, 1_000_000) ?? defaultState.limit,
    attributes: p.get('attributes') === 'nodes' ? 'nodes' : 'labels',
    expanded: expanded !== null && uidList.test(expanded) ? expanded.split(',') : [],
    ...(slice === undefined ? {} : { slice }),
    ...(diffFrom === undefined ? {} : { diffFrom }),
    live: p.get('live') === '1',
    ...(token === undefined ? {} : { token }),
  };
}

/** The fragment of a state (never with the token). */
export function formatState(state: PageState): string {
  const p = new URLSearchParams();
  if (state.processor !== undefined) p.set('processor', state.processor);
  if (state.graph !== undefined) p.set('graph', state.graph);
  if (state.from !== undefined && state.from.length > 0) p.set('from', state.from.join(','));
  else if (state.type !== undefined) p.set('type', state.type);
  if (state.hops !== defaultState.hops) p.set('hops', String(state.hops));
  if (state.limit !== defaultState.limit) p.set('limit', String(state.limit));
  if (state.attributes !== 'labels') p.set('attributes', state.attributes);
  if (state.expanded.length > 0) p.set('expanded', state.expanded.join(','));
  if (state.slice !== undefined) p.set('slice', String(state.slice));
  if (state.diffFrom !== undefined) p.set('diff', String(state.diffFrom));
  if (state.live) p.set('live', '1');
  return `#${p.toString()}`;
}

/** The subgraph reads that draw a state's view: the view itself, then one hop around each expanded node. */
export function viewRequests(state: PageState): { readonly from?: string; readonly type?: string; readonly hops: number; readonly limit: number; readonly attributes: 'labels' | 'nodes' }[] {
  const base = { limit: state.limit, attributes: state.attributes };
  const main = state.from !== undefined && state.from.length > 0 ? [{ ...base, from: state.from.join(','), hops: state.hops }] : state.type !== undefined ? [{ ...base, type: state.type, hops: state.hops }] : [];
  return [...main, ...state.expanded.map((uid) => ({ ...base, from: uid, hops: 1 }))];
}
