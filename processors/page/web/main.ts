import './page.css';
import type { Change, Diff, GraphInfo, GraphListing, Rejection, SearchMatch, SliceInfo, Subgraph, TypeCount } from '../model/api-types';
import { colourOf, highlight } from '../model/palette';
import { defaultState, formatState, parseState, viewRequests, type PageState } from '../model/page-state';
import { compareScenes, countStatuses, hoverText, nameOf, sceneOf, type Scene } from '../model/scene';
import { inputOfMicros, microsOfInput, shortUid, timeText, valueText } from '../model/values';
import { Api, ApiError, type Health } from './api';
import { Drawing, type DrawStats } from './drawing';

/**
 * The live page: pick a graph, draw a view of it (the neighbourhood of atoms, or the atoms of a
 * type), move through its slices with the slider (or a time), compare two slices, follow its
 * changes live, read its slice log and rejections. Everything it shows comes from the query API
 * of the instance that served it; the view is kept in the address's fragment.
 */

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`the page has no #${id}`);
  return element as T;
}

const ui = {
  graphForm: byId<HTMLFormElement>('graph-form'),
  graph: byId<HTMLInputElement>('graph'),
  graphList: byId<HTMLDataListElement>('graph-list'),
  status: byId<HTMLElement>('status'),
  tokenButton: byId<HTMLButtonElement>('token-button'),
  banner: byId<HTMLElement>('banner'),
  viewForm: byId<HTMLFormElement>('view-form'),
  from: byId<HTMLInputElement>('from'),
  type: byId<HTMLSelectElement>('type'),
  hops: byId<HTMLInputElement>('hops'),
  limit: byId<HTMLInputElement>('limit'),
  attributeNodes: byId<HTMLInputElement>('attribute-nodes'),
  resetView: byId<HTMLButtonElement>('reset-view'),
  searchForm: byId<HTMLFormElement>('search-form'),
  search: byId<HTMLInputElement>('search'),
  searchType: byId<HTMLSelectElement>('search-type'),
  searchNote: byId<HTMLElement>('search-note'),
  searchResults: byId<HTMLOListElement>('search-results'),
  detailsSection: byId<HTMLElement>('details-section'),
  details: byId<HTMLElement>('details'),
  startHere: byId<HTMLButtonElement>('start-here'),
  focus: byId<HTMLButtonElement>('focus'),
  cy: byId<HTMLElement>('cy'),
  tooltip: byId<HTMLElement>('tooltip'),
  message: byId<HTMLElement>('message'),
  legend: byId<HTMLElement>('legend'),
  tabSlices: byId<HTMLButtonElement>('tab-slices'),
  tabRejections: byId<HTMLButtonElement>('tab-rejections'),
  rejectionCount: byId<HTMLElement>('rejection-count'),
  slicesPanel: byId<HTMLElement>('slices-panel'),
  rejectionsPanel: byId<HTMLElement>('rejections-panel'),
  sliceLog: byId<HTMLOListElement>('slice-log'),
  olderSlices: byId<HTMLButtonElement>('older-slices'),
  rejections: byId<HTMLOListElement>('rejections'),
  live: byId<HTMLButtonElement>('live'),
  slider: byId<HTMLInputElement>('slider'),
  sliceLabel: byId<HTMLOutputElement>('slice-label'),
  asOfTime: byId<HTMLInputElement>('as-of-time'),
  diffFrom: byId<HTMLInputElement>('diff-from'),
  diffButton: byId<HTMLButtonElement>('diff-button'),
  diffClear: byId<HTMLButtonElement>('diff-clear'),
  drawStats: byId<HTMLElement>('draw-stats'),
  tokenDialog: byId<HTMLDialogElement>('token-dialog'),
  tokenForm: byId<HTMLFormElement>('token-form'),
  tokenWhy: byId<HTMLElement>('token-why'),
  token: byId<HTMLInputElement>('token'),
};

/** What the browser tests read: the drawing, the last draw's numbers, the API's health. */
interface PageProbe {
  ready: boolean;
  head: number;
  drawnSlice: number | undefined;
  lastDraw: (DrawStats & { readonly slice: number; readonly fetchMs: number; readonly totalMs: number }) | undefined;
  draws: number;
  health: Health['state'];
  elements: () => ReturnType<Drawing['elements']>;
  pointOf: (uid: string) => { readonly x: number; readonly y: number } | undefined;
  comparedWith: () => number | undefined;
  state: () => PageState;
}

const api = new Api();
const drawing = new Drawing(ui.cy, ui.tooltip, { onNode: (uid) => void selectNode(uid), onEdge: (uid) => selectEdge(uid), onBackground: () => clearSelection() });

let state: PageState = defaultState;
let head = 0;
let info: GraphInfo | undefined;
/** The scene drawn, as it compares (diff or live). */
let shown: Scene | undefined;
/** The same view, uncompared: the base the next live slice is compared with. */
let base: Scene | undefined;
let selected: string | undefined;
let drawSeq = 0;
let live: AbortController | undefined;
let oldestSliceShown = 0;
const sliceTimes = new Map<number, number>();

const probe: PageProbe = {
  ready: false,
  head: 0,
  drawnSlice: undefined,
  lastDraw: undefined,
  draws: 0,
  health: 'ok',
  elements: () => drawing.elements(),
  pointOf: (uid) => drawing.pointOf(uid),
  comparedWith: () => shown?.comparedWith,
  state: () => state,
};
(window as unknown as { graphfold: PageProbe }).graphfold = probe;

// --- state and address ---------------------------------------------------------------------

function setState(next: Partial<PageState>, options: { readonly draw?: boolean; readonly relayout?: boolean } = {}): void {
  state = { ...state, ...next };
  history.replaceState(null, '', formatState(state));
  syncControls();
  if (options.draw === true) void draw({ relayout: options.relayout === true });
}

function syncControls(): void {
  ui.graph.value = state.graph ?? '';
  ui.from.value = state.from?.join(', ') ?? '';
  ui.type.value = state.from === undefined ? (state.type ?? '') : '';
  ui.hops.value = String(state.hops);
  ui.limit.value = String(state.limit);
  ui.attributeNodes.checked = state.attributes === 'nodes';
  // A slice typed to compare with stays until Diff or Clear.
  if (state.diffFrom !== undefined) ui.diffFrom.value = String(state.diffFrom);
  ui.live.setAttribute('aria-pressed', String(state.live));
  ui.slider.max = String(head);
  ui.slider.value = String(state.slice ?? head);
  sliceLabel(state.slice ?? head);
}

function sliceLabel(slice: number): void {
  const time = sliceTimes.get(slice) ?? (slice === head ? info?.headTime : undefined);
  const at = slice === head ? `head ${head}` : `slice ${slice} of ${head}`;
  if (time !== undefined && slice > 0 && document.activeElement !== ui.asOfTime) ui.asOfTime.value = inputOfMicros(time);
  ui.sliceLabel.textContent = `${at}${time === undefined || slice === 0 ? '' : ` · ${timeText(time)}`}${state.diffFrom === undefined ? '' : ` · compared with ${state.diffFrom}`}`;
}

// --- banner: how the API answers -----------------------------------------------------------

let bannerTimer: ReturnType<typeof setInterval> | undefined;

api.onHealth((health) => {
  probe.health = health.state;
  document.body.dataset['health'] = health.state;
  clearInterval(bannerTimer);
  if (health.state === 'ok') {
    ui.banner.hidden = true;
    ui.banner.className = '';
    return;
  }
  ui.banner.hidden = false;
  ui.banner.className = health.state;
  if (health.state === 'unauthorized') {
    ui.banner.textContent = `${health.message}: give it with the Token button.`;
    ui.tokenWhy.textContent = `${health.message} (its topology's query.token).`;
    if (!ui.tokenDialog.open) ui.tokenDialog.showModal();
    return;
  }
  const render = (): void => {
    const seconds = Math.max(0, Math.ceil((health.retryAt - Date.now()) / 1000));
    const restore = health.restore;
    const progress = restore === undefined ? '' : ` Restored ${restore.records.toLocaleString('en-US')} records${restore.to === null || restore.position === null ? '' : ` (offset ${restore.position} of ${restore.to})`}${restore.etaSeconds === null ? '' : `, about ${Math.ceil(restore.etaSeconds)} s left`}.`;
    const title = health.state === 'restoring' ? 'Restoring.' : health.state === 'offline' ? 'No answer.' : 'Unavailable.';
    const behind = probe.drawnSlice === undefined ? '' : ` What is drawn is as of slice ${probe.drawnSlice}, and may be behind.`;
    ui.banner.textContent = `${title} ${health.message}.${progress} ${seconds > 0 ? `Retrying in ${seconds} s…` : 'Retrying…'}${behind}`;
  };
  render();
  bannerTimer = setInterval(render, 500);
});

function showError(error: unknown): void {
  const text = error instanceof ApiError ? `${error.message}${error.body.parameter === undefined ? '' : ` (${error.body.parameter})`}` : error instanceof Error ? error.message : String(error);
  ui.message.textContent = text;
  ui.message.hidden = false;
}

function note(text: string | undefined): void {
  ui.message.hidden = text === undefined;
  ui.message.textContent = text ?? '';
}

// --- opening a graph -----------------------------------------------------------------------

const graphPath = (suffix = ''): string => `/v1/graphs/${encodeURIComponent(state.graph ?? '')}${suffix}`;
const processorParam = (): { processor?: string } => (state.processor === undefined ? {} : { processor: state.processor });

/** The server's maxima for hops and list lengths (its topology's query.maxHops and maxLimit), from its OpenAPI document. */
interface ServerLimits {
  readonly maxHops: number;
  readonly maxLimit: number;
}
let serverLimits: Promise<ServerLimits> | undefined;
/** Set once a view asked for more than the server allows. */
let limitNotice: string | undefined;

function limits(): Promise<ServerLimits> {
  serverLimits ??= api
    .get<{ paths: Record<string, { get?: { parameters?: { name: string; schema?: { maximum?: number } }[] } }> }>('/v1/openapi.json')
    .then((doc) => {
      const parameters = doc.paths['/v1/graphs/{graph}/subgraph']?.get?.parameters ?? [];
      const maximum = (name: string, fallback: number): number => parameters.find((p) => p.name === name)?.schema?.maximum ?? fallback;
      const found = { maxHops: maximum('hops', 4), maxLimit: maximum('limit', 10_000) };
      ui.hops.max = String(found.maxHops);
      ui.limit.max = String(found.maxLimit);
      return found;
    })
    .catch(() => ({ maxHops: 4, maxLimit: 10_000 }));
  return serverLimits;
}

/** `n`, or the server's maximum list length when that is smaller. */
async function within(n: number): Promise<number> {
  return Math.min(n, (await limits()).maxLimit);
}

async function listGraphs(): Promise<void> {
  try {
    const listing = await api.get<GraphListing>('/v1/graphs', { limit: await within(1000), ...processorParam() });
    ui.graphList.replaceChildren(...listing.graphs.map((g) => new Option(`partition ${g.partition}${g.owner === undefined ? '' : ` · ${g.owner}`}`, g.graph)));
    if (state.graph === undefined && listing.graphs[0] !== undefined) ui.graph.placeholder = `graph id, e.g. ${listing.graphs[0].graph}`;
  } catch (error) {
    showError(error);
  }
}

async function openGraph(): Promise<void> {
  if (state.graph === undefined) {
    note('Pick a graph: type its id above (the list shows the graphs this cluster holds).');
    return;
  }
  stopLive();
  shown = undefined;
  base = undefined;
  info = undefined;
  head = 0;
  sliceTimes.clear();
  ui.sliceLog.replaceChildren();
  ui.rejections.replaceChildren();
  // The view is drawn while the graph's details load: the first drawing waits for nothing else.
  const reading = api.get<GraphInfo>(graphPath(), processorParam());
  let types: Promise<readonly TypeCount[]> | undefined;
  if (viewRequests(state).length === 0) {
    types = loadTypes();
    const entities = (await types).filter((t) => t.kind === 'entity').sort((a, b) => b.count - a.count);
    const first = entities[0];
    if (first === undefined) {
      note(`Graph ${state.graph} has no entities to draw as of its head.`);
      return;
    }
    state = { ...state, type: first.type };
    setState({});
  }
  const drawn = draw({ relayout: true });
  try {
    info = await reading;
  } catch (error) {
    showError(error);
    return;
  }
  head = Math.max(head, info.head);
  probe.head = head;
  sliceTimes.set(info.head, info.headTime);
  if (state.slice !== undefined && state.slice >= head) setState({ slice: undefined });
  syncControls();
  updateStatus();
  await drawn;
  void loadSlices(true);
  void loadRejections();
  if (types === undefined) void loadTypes();
  if (state.live) startLive();
}

function updateStatus(): void {
  if (info === undefined) return;
  ui.status.textContent = `${info.graph} · ${info.processor} partition ${info.partition} · owner ${info.owner} · answered by ${api.servedBy ?? '?'} through ${location.host} · head ${head}`;
}

async function loadTypes(): Promise<readonly TypeCount[]> {
  try {
    const answer = await api.get<{ types: TypeCount[] }>(graphPath('/types'), processorParam());
    const drawable = answer.types.filter((t) => t.kind !== 'attribute');
    const option = (t: TypeCount): HTMLOptionElement => new Option(`${t.type} (${t.kind === 'relation' ? 'relations, ' : ''}${t.count})`, t.type);
    ui.type.replaceChildren(new Option('(none)', ''), ...drawable.map(option));
    ui.searchType.replaceChildren(new Option('any type', ''), ...drawable.map(option));
    ui.type.value = state.from === undefined ? (state.type ?? '') : '';
    return answer.types;
  } catch (error) {
    showError(error);
    return [];
  }
}

// --- drawing -------------------------------------------------------------------------------

function emptyScene(slice: number): Scene {
  return { slice, head, seeds: [], nodes: new Map(), edges: new Map(), truncated: false, omitted: 0 };
}

/**
 * The view as of a slice (undefined: the head): the main read, then one per expanded node as of
 * the slice the main read answered. An expanded node that did not exist then is left out; so is
 * the main read's start atom (the note says when it existed).
 */
async function sceneAt(slice: number | undefined, quiet = false): Promise<Scene> {
  const [main, ...expanded] = viewRequests(state);
  if (main === undefined) return emptyScene(slice ?? head);
  const read = async (request: typeof main, asOf: number | undefined, isMain: boolean): Promise<Subgraph | undefined> => {
    const params = { ...request, ...(asOf === undefined ? {} : { asOf }), ...processorParam() };
    try {
      try {
        return await api.get<Subgraph>(graphPath('/subgraph'), params);
      } catch (error) {
        // More hops or nodes than this server allows: ask again within its maxima (and say so).
        if (!(error instanceof ApiError && error.status === 400 && (error.body.parameter === 'limit' || error.body.parameter === 'hops'))) throw error;
        const { maxHops, maxLimit } = await limits();
        if (isMain && (state.limit > maxLimit || state.hops > maxHops)) {
          setState({ limit: Math.min(state.limit, maxLimit), hops: Math.min(state.hops, maxHops) });
          limitNotice = `this server draws at most ${maxLimit} nodes, ${maxHops} hops out (its query.maxLimit and maxHops)`;
        }
        return await api.get<Subgraph>(graphPath('/subgraph'), { ...params, hops: Math.min(params.hops, maxHops), limit: Math.min(params.limit, maxLimit) });
      }
    } catch (error) {
      if (error instanceof ApiError && error.status === 404 && error.body.error === 'not_found' && error.body.parameter === 'from') {
        if (isMain && !quiet) note(error.message);
        return undefined;
      }
      throw error;
    }
  };
  const first = await read(main, slice, true);
  const at = first?.slice ?? slice ?? head;
  const others = await Promise.all(expanded.map((request) => read(request, at, false)));
  const found = [first, ...others].filter((a): a is Subgraph => a !== undefined);
  return found.length === 0 ? emptyScene(at) : sceneOf(found);
}

/**
 * Draws the view as of the slider's slice (the head unless one is picked): compared with
 * `diffFrom` when set (the diff between them highlighted), or with the slice before when `live`
 * passes its changes; a draw that a later one overtook is dropped.
 */
async function draw(options: { readonly relayout?: boolean; readonly live?: { readonly before: Scene; readonly changes: readonly Change[] } } = {}): Promise<void> {
  if (state.graph === undefined) return;
  const seq = ++drawSeq;
  const started = performance.now();
  note(undefined);
  try {
    const scene = await sceneAt(state.slice);
    if (seq !== drawSeq) return;
    const slice = scene.slice;
    if (scene.head > head) {
      head = scene.head;
      probe.head = head;
    }
    const diffFrom = state.diffFrom !== undefined && state.diffFrom < slice ? state.diffFrom : undefined;
    const [before, diff] = await Promise.all([
      diffFrom === undefined ? undefined : sceneAt(diffFrom, true),
      diffFrom === undefined ? undefined : api.get<{ changes: Change[] }>(graphPath('/diff'), { from: diffFrom, to: slice, ...processorParam() }),
    ]);
    if (seq !== drawSeq) return;
    const fetchMs = performance.now() - started;
    let view = scene;
    if (before !== undefined && diff !== undefined) view = compareScenes(before, scene, diff.changes);
    else if (options.live !== undefined) view = compareScenes(options.live.before, scene, options.live.changes);
    base = scene;
    shown = view;
    const stats = await drawing.show(view, { relayout: options.relayout === true, animate: options.live !== undefined });
    if (seq !== drawSeq) return;
    probe.drawnSlice = slice;
    probe.draws += 1;
    probe.lastDraw = { ...stats, slice, fetchMs, totalMs: performance.now() - started };
    if (!probe.ready) {
      probe.ready = true;
      performance.mark('graphfold:first-draw');
      document.body.dataset['ready'] = 'true';
    }
    document.body.dataset['drawnSlice'] = String(slice);
    const counts = countStatuses(view);
    const compared = view.comparedWith === undefined ? '' : ` · ${counts.created} created, ${counts.changed} changed, ${counts.terminated} terminated since ${view.comparedWith}`;
    ui.drawStats.textContent = `${stats.nodes} nodes, ${stats.edges} edges in ${Math.round(probe.lastDraw.totalMs)} ms${compared}`;
    if (view.truncated) note(`Only the first ${state.limit} nodes are drawn: ${limitNotice ?? 'raise "At most", or draw fewer hops'}.`);
    else if (limitNotice !== undefined) note(`Drawn within the server's limits: ${limitNotice}.`);
    else if (scene.nodes.size === 0 && ui.message.hidden) note(`Nothing to draw as of slice ${slice}.`);
    legend(view);
    syncControls();
    updateStatus();
    if (selected !== undefined) showDetails(selected);
  } catch (error) {
    if (seq === drawSeq) showError(error);
  }
}

function legend(scene: Scene): void {
  const types = [...new Set([...scene.nodes.values()].map((n) => n.type))].sort();
  const items = types.map((type) => {
    const span = document.createElement('span');
    span.style.setProperty('--dot', colourOf(type));
    span.textContent = type;
    return span;
  });
  if (scene.comparedWith !== undefined) {
    for (const [status, colour] of Object.entries(highlight)) {
      const span = document.createElement('span');
      span.className = 'status';
      span.style.setProperty('--dot', colour);
      span.textContent = status;
      items.push(span);
    }
  }
  ui.legend.replaceChildren(...items);
}

// --- selection -----------------------------------------------------------------------------

async function selectNode(uid: string): Promise<void> {
  selected = uid;
  showDetails(uid);
  const node = shown?.nodes.get(uid);
  if (node === undefined || node.status === 'terminated' || state.expanded.includes(uid) || state.from?.includes(uid) === true) return;
  // Expanding a node: its neighbours join the view (placed beside it).
  setState({ expanded: [...state.expanded, uid] }, { draw: true });
}

function selectEdge(uid: string): void {
  selected = uid;
  showDetails(uid);
}

function clearSelection(): void {
  selected = undefined;
  ui.detailsSection.hidden = true;
}

function showDetails(uid: string): void {
  const element = shown?.nodes.get(uid) ?? shown?.edges.get(uid);
  if (element === undefined) {
    ui.detailsSection.hidden = true;
    return;
  }
  ui.detailsSection.hidden = false;
  const name = 'kind' in element ? `${nameOf(element)}\n` : '';
  ui.details.textContent = `${name}${hoverText(element)}`;
  ui.startHere.hidden = !('kind' in element);
}

// --- slice log and rejections --------------------------------------------------------------

function sliceItem(info: SliceInfo): HTMLLIElement {
  sliceTimes.set(info.slice, info.time);
  const li = document.createElement('li');
  li.dataset['slice'] = String(info.slice);
  li.innerHTML = '<strong></strong> <span class="tx"></span><div class="meta"></div>';
  (li.querySelector('strong') as HTMLElement).textContent = `#${info.slice}`;
  (li.querySelector('.tx') as HTMLElement).textContent = info.txId;
  (li.querySelector('.meta') as HTMLElement).textContent = `${timeText(info.time)} · ${info.source.topic}/${info.source.partition}@${info.source.offset}`;
  li.title = `Draw slice ${info.slice}, compared with slice ${info.slice - 1}`;
  li.addEventListener('click', () => {
    stopLive();
    setState({ slice: info.slice, diffFrom: info.slice - 1, live: false }, { draw: true });
  });
  return li;
}

async function loadSlices(fresh: boolean): Promise<void> {
  const to = fresh ? head : oldestSliceShown - 1;
  if (to < 1) return;
  try {
    const page = await within(100);
    const from = Math.max(1, to - page + 1);
    const answer = await api.get<{ slices: SliceInfo[] }>(graphPath('/slices'), { from, to, limit: page, ...processorParam() });
    const items = [...answer.slices].reverse().map(sliceItem);
    if (fresh) ui.sliceLog.replaceChildren(...items);
    else ui.sliceLog.append(...items);
    oldestSliceShown = from;
    ui.olderSlices.hidden = from <= 1;
    sliceLabel(state.slice ?? head);
  } catch (error) {
    showError(error);
  }
}

let rejectionsLoading = false;

async function loadRejections(): Promise<void> {
  if (rejectionsLoading) return;
  rejectionsLoading = true;
  try {
    const answer = await api.get<{ rejections: Rejection[] }>(graphPath('/rejections'), { limit: await within(200), ...processorParam() });
    ui.rejectionCount.textContent = answer.rejections.length === 0 ? '' : `(${answer.rejections.length})`;
    ui.rejections.replaceChildren(
      ...(answer.rejections.length === 0
        ? [Object.assign(document.createElement('li'), { textContent: 'No transaction of this graph was refused (of those kept).' })]
        : answer.rejections.map((r) => {
            const li = document.createElement('li');
            li.innerHTML = '<span class="code"></span> <span class="tx"></span><div class="why"></div><div class="meta"></div>';
            (li.querySelector('.code') as HTMLElement).textContent = r.code;
            (li.querySelector('.tx') as HTMLElement).textContent = r.txId;
            (li.querySelector('.why') as HTMLElement).textContent = `${r.message}${r.instructionIndex === undefined ? '' : ` (instruction ${r.instructionIndex})`}`;
            (li.querySelector('.meta') as HTMLElement).textContent = `${timeText(r.time)} · at head ${r.head} · ${r.source.topic}/${r.source.partition}@${r.source.offset}`;
            return li;
          })),
    );
  } catch (error) {
    showError(error);
  } finally {
    rejectionsLoading = false;
  }
}

// --- live mode -----------------------------------------------------------------------------

let liveChanges: Change[] = [];
let liveDrawing = false;

function startLive(): void {
  if (live !== undefined || state.graph === undefined) return;
  const controller = new AbortController();
  live = controller;
  document.body.dataset['live'] = 'connecting';
  clearInterval(rejectionsTimer);
  rejectionsTimer = setInterval(() => void loadRejections(), 10_000);
  api
    .follow(state.graph, {
      ...processorParam(),
      fromSlice: head + 1,
      signal: controller.signal,
      onOpen: () => {
        document.body.dataset['live'] = 'open';
        updateStatus();
      },
      onDiff: (diff) => onLiveDiff(diff),
    })
    .catch((error: unknown) => {
      if (!controller.signal.aborted) showError(error);
    })
    .finally(() => {
      if (live === controller) live = undefined;
    });
}

function stopLive(): void {
  live?.abort();
  live = undefined;
  clearInterval(rejectionsTimer);
  delete document.body.dataset['live'];
}

/** In live mode the rejections are read again now and then: a refused transaction makes no slice, so the change stream does not tell. */
let rejectionsTimer: ReturnType<typeof setInterval> | undefined;

function onLiveDiff(diff: Diff): void {
  head = Math.max(head, diff.slice);
  probe.head = head;
  sliceTimes.set(diff.slice, diff.time);
  if (info !== undefined) info = { ...info, head, headTime: diff.time };
  ui.sliceLog.prepend(sliceItem(diff));
  const following = state.slice === undefined;
  syncControls();
  if (!following) return;
  liveChanges.push(...diff.changes);
  void drawLive();
}

/** Draws the newest slice compared with the one drawn before it; slices that arrive meanwhile are drawn together next. */
async function drawLive(): Promise<void> {
  if (liveDrawing) return;
  liveDrawing = true;
  try {
    while (liveChanges.length > 0) {
      const changes = liveChanges;
      liveChanges = [];
      const before = base ?? emptyScene(0);
      await draw({ live: { before, changes } });
    }
  } finally {
    liveDrawing = false;
  }
}

// --- controls ------------------------------------------------------------------------------

function uidsOf(text: string): string[] | undefined {
  const uids = text.split(/[\s,]+/).filter((u) => u !== '');
  return uids.length > 0 && uids.every((u) => /^[0-9a-f]{32}$/.test(u)) ? uids : undefined;
}

ui.graphForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const graph = ui.graph.value.trim();
  if (graph === '') return;
  state = { ...defaultState, graph, ...processorParam(), live: state.live };
  history.replaceState(null, '', formatState(state));
  void openGraph();
});

ui.viewForm.addEventListener('submit', (event) => {
  event.preventDefault();
  const fromText = ui.from.value.trim();
  const from = uidsOf(fromText);
  if (fromText !== '' && from === undefined) {
    note('Start atoms are uids: 32 lowercase hex characters each, separated by commas or spaces.');
    return;
  }
  const type = ui.type.value === '' ? undefined : ui.type.value;
  if (from === undefined && type === undefined) {
    note('Give start atoms or pick a type.');
    return;
  }
  const hops = Math.max(0, Math.min(16, Number(ui.hops.value) || 0));
  const limit = Math.max(1, Number(ui.limit.value) || defaultState.limit);
  const next: PageState = { ...state, hops, limit, attributes: ui.attributeNodes.checked ? 'nodes' : 'labels', expanded: [] };
  const { from: _from, type: _type, ...rest } = next;
  state = { ...rest, ...(from === undefined ? { type: type as string } : { from }) };
  setState({}, { draw: true, relayout: true });
});

ui.resetView.addEventListener('click', () => setState({ expanded: [] }, { draw: true, relayout: true }));

ui.searchForm.addEventListener('submit', (event) => {
  event.preventDefault();
  void search();
});

async function search(): Promise<void> {
  const value = ui.search.value.trim();
  const type = ui.searchType.value === '' ? undefined : ui.searchType.value;
  if (value === '') {
    if (type !== undefined) {
      const { from: _from, ...rest } = state;
      state = { ...rest, type, expanded: [] };
      setState({}, { draw: true, relayout: true });
    }
    return;
  }
  if (state.graph === undefined) return;
  try {
    const answer = await api.get<{ matches: SearchMatch[]; scanned: number; complete: boolean }>(graphPath('/search'), { value, ...(type === undefined ? {} : { type }), limit: await within(100), asOf: state.slice, ...processorParam() });
    ui.searchNote.textContent = `${answer.matches.length} found${answer.complete ? '' : ` (stopped after ${answer.scanned.toLocaleString('en-US')} atoms: narrow the search)`}`;
    ui.searchResults.replaceChildren(
      ...answer.matches.map((m) => {
        const li = document.createElement('li');
        li.innerHTML = '<strong></strong><div class="meta"></div>';
        (li.querySelector('strong') as HTMLElement).textContent = `${m.atom.type} ${shortUid(m.atom.uid)}`;
        (li.querySelector('.meta') as HTMLElement).textContent = `${m.field.type}: ${valueText(m.field.value)}`;
        li.dataset['uid'] = m.atom.uid;
        li.addEventListener('click', () => {
          const { type: _type, ...rest } = state;
          state = { ...rest, from: [m.atom.uid], expanded: [] };
          selected = m.atom.uid;
          setState({}, { draw: true, relayout: true });
        });
        return li;
      }),
    );
  } catch (error) {
    showError(error);
  }
}

ui.startHere.addEventListener('click', () => {
  if (selected === undefined || shown?.nodes.get(selected) === undefined) return;
  const { type: _type, ...rest } = state;
  state = { ...rest, from: [selected], expanded: [] };
  setState({}, { draw: true, relayout: true });
});
ui.focus.addEventListener('click', () => {
  if (selected !== undefined) drawing.focus(selected);
});

let sliderTimer: ReturnType<typeof setTimeout> | undefined;
ui.slider.addEventListener('input', () => {
  const slice = Number(ui.slider.value);
  sliceLabel(slice);
  clearTimeout(sliderTimer);
  sliderTimer = setTimeout(() => moveTo(slice), 120);
});
ui.slider.addEventListener('change', () => {
  clearTimeout(sliderTimer);
  moveTo(Number(ui.slider.value));
});

function moveTo(slice: number): void {
  const atHead = slice >= head;
  if (!atHead && state.live) stopLiveMode();
  const diffFrom = state.diffFrom !== undefined && state.diffFrom < slice ? state.diffFrom : undefined;
  if ((state.slice ?? head) === slice && state.diffFrom === diffFrom) return;
  const { slice: _slice, diffFrom: _diff, ...rest } = state;
  state = { ...rest, ...(atHead ? {} : { slice }), ...(diffFrom === undefined ? {} : { diffFrom }) };
  setState({}, { draw: true });
}

ui.asOfTime.addEventListener('change', () => void goToTime());

async function goToTime(): Promise<void> {
  const micros = microsOfInput(ui.asOfTime.value);
  if (micros === undefined || state.graph === undefined) return;
  try {
    const answer = await api.get<GraphInfo>(graphPath(), { asOfTime: String(micros), ...processorParam() });
    sliceTimes.set(answer.slice, answer.time);
    moveTo(answer.slice);
  } catch (error) {
    showError(error);
  }
}

ui.diffButton.addEventListener('click', () => {
  const from = Number(ui.diffFrom.value);
  const slice = state.slice ?? head;
  if (ui.diffFrom.value === '' || !Number.isInteger(from) || from < 0 || from >= slice) {
    note(`Compare with an earlier slice: 0 to ${slice - 1}.`);
    return;
  }
  setState({ diffFrom: from }, { draw: true });
});
ui.diffClear.addEventListener('click', () => {
  const { diffFrom: _diff, ...rest } = state;
  state = rest;
  ui.diffFrom.value = '';
  setState({}, { draw: true });
});

function stopLiveMode(): void {
  stopLive();
  state = { ...state, live: false };
}

ui.live.addEventListener('click', () => {
  if (state.live) {
    stopLiveMode();
    setState({});
    return;
  }
  const { slice: _slice, diffFrom: _diff, ...rest } = state;
  state = { ...rest, live: true };
  setState({});
  void (async () => {
    // Catch up with the head first, then follow from there.
    if (state.graph !== undefined) {
      try {
        info = await api.get<GraphInfo>(graphPath(), processorParam());
        head = info.head;
        probe.head = head;
      } catch (error) {
        showError(error);
        return;
      }
    }
    await draw();
    startLive();
  })();
});

ui.tabSlices.addEventListener('click', () => tab('slices'));
ui.tabRejections.addEventListener('click', () => tab('rejections'));
function tab(which: 'slices' | 'rejections'): void {
  ui.tabSlices.setAttribute('aria-pressed', String(which === 'slices'));
  ui.tabRejections.setAttribute('aria-pressed', String(which === 'rejections'));
  ui.slicesPanel.hidden = which !== 'slices';
  ui.rejectionsPanel.hidden = which !== 'rejections';
}
ui.olderSlices.addEventListener('click', () => void loadSlices(false));

ui.tokenButton.addEventListener('click', () => {
  ui.tokenWhy.textContent = api.hasToken ? 'Replace the bearer token this tab sends.' : 'The bearer token of this query server (its topology\'s query.token).';
  ui.tokenDialog.showModal();
});
ui.tokenForm.addEventListener('submit', (event) => {
  if ((event.submitter as HTMLButtonElement | null)?.value === 'save') api.setToken(ui.token.value.trim());
  ui.token.value = '';
});

window.addEventListener('hashchange', () => {
  const next = parseState(location.hash);
  if (formatState(next) === formatState(state)) return;
  const graphChanged = next.graph !== state.graph || next.processor !== state.processor;
  state = next;
  if (graphChanged) void openGraph();
  else setState({}, { draw: true });
});

// --- start ---------------------------------------------------------------------------------

function start(): void {
  const initial = parseState(location.hash);
  if (initial.token !== undefined) api.setToken(initial.token);
  const { token: _token, ...rest } = initial;
  state = rest;
  history.replaceState(null, '', formatState(state));
  syncControls();
  // The graph list waits for the first drawing (it asks every instance).
  void openGraph().finally(() => void listGraphs());
}

start();
