import cytoscape, { type Core, type ElementDefinition, type LayoutOptions, type NodeSingular, type Position } from 'cytoscape';
import fcose from 'cytoscape-fcose';
import { colourOf, highlight } from '../model/palette';
import { edgeLabel, hoverText, nodeLabel, type Scene, type SceneEdge, type SceneNode } from '../model/scene';

cytoscape.use(fcose);

/** Up to this many nodes a force-directed layout (fcose) runs; beyond, nodes go in rings by distance (fast). */
const forceLayoutMax = 250;
/** Beyond this many nodes, labels show the name only. */
const detailedLabelsMax = 400;

export interface DrawingEvents {
  readonly onNode: (uid: string) => void;
  readonly onEdge: (uid: string) => void;
  readonly onBackground: () => void;
}

/** What one `show` did, for the status line (and the browser test's load measure). */
export interface DrawStats {
  readonly nodes: number;
  readonly edges: number;
  readonly added: number;
  readonly removed: number;
  readonly layout: 'none' | 'fcose' | 'concentric' | 'placed';
  readonly ms: number;
}

/**
 * The graph drawing (Cytoscape.js): a scene's nodes coloured by type and labelled with their
 * attribute values, edges labelled with their relation type, highlights by status. Elements
 * already drawn keep their place from one scene to the next (scrubbing through slices shows what
 * changed, not a new layout), and an element that comes back gets its old place; new elements are
 * placed beside a neighbour, or laid out when most of the view is new.
 */
export class Drawing {
  private readonly cy: Core;
  private readonly tooltip: HTMLElement;
  /** Every place a uid has been drawn at, kept while it is off the view. */
  private readonly places = new Map<string, Position>();
  /** What each drawn element was last given (its data and classes), to skip the unchanged. */
  private readonly signatures = new Map<string, string>();
  private scene: Scene | undefined;

  constructor(container: HTMLElement, tooltip: HTMLElement, events: DrawingEvents) {
    this.tooltip = tooltip;
    this.cy = cytoscape({
      container,
      pixelRatio: 1,
      hideEdgesOnViewport: true,
      textureOnViewport: true,
      minZoom: 0.05,
      maxZoom: 4,
      style: styles(),
    });
    this.cy.on('tap', 'node', (event) => events.onNode(event.target.id() as string));
    this.cy.on('tap', 'edge', (event) => events.onEdge(event.target.id() as string));
    this.cy.on('tap', (event) => {
      if (event.target === this.cy) events.onBackground();
    });
    this.cy.on('mouseover', 'node, edge', (event) => this.hover(event.target.id() as string, event.renderedPosition ?? event.target.renderedPosition?.()));
    this.cy.on('mouseout', 'node, edge', () => this.hover(undefined, undefined));
    window.addEventListener('resize', () => this.cy.resize());
    this.cy.on('dragfree', 'node', (event) => this.places.set(event.target.id() as string, { ...(event.target as NodeSingular).position() }));
  }

  /** Draws a scene: removes what left, adds what came, updates the rest; `relayout` lays everything out afresh. */
  async show(scene: Scene, options: { readonly relayout?: boolean; readonly animate?: boolean } = {}): Promise<DrawStats> {
    const started = performance.now();
    const cy = this.cy;
    cy.resize();
    const detailed = scene.nodes.size <= detailedLabelsMax;
    const wanted = new Set<string>([...scene.nodes.keys(), ...scene.edges.keys()]);
    const before = cy.elements();
    const drawnBefore = before.nodes().length;
    let removed = 0;
    const added: ElementDefinition[] = [];
    let fresh = cy.collection();
    cy.batch(() => {
      const drawn = new Map<string, cytoscape.SingularElementReturnValue>();
      const gone: string[] = [];
      before.forEach((element) => {
        if (wanted.has(element.id())) drawn.set(element.id(), element);
        else gone.push(element.id());
      });
      if (gone.length > 0) {
        const leaving = before.filter((element) => !wanted.has(element.id()));
        leaving.nodes().forEach((node) => void this.places.set(node.id(), { ...node.position() }));
        for (const id of gone) this.signatures.delete(id);
        cy.remove(leaving);
        removed = gone.length;
      }
      const put = (group: 'nodes' | 'edges', data: { readonly id: string }, classes: string[], place: Position | undefined): void => {
        // An element whose label and status did not change is left alone (restyling thousands costs more than the rest).
        const signature = `${JSON.stringify(data)}|${classes.join(' ')}`;
        const existing = drawn.get(data.id);
        if (existing !== undefined) {
          if (this.signatures.get(data.id) !== signature) {
            existing.data(data);
            existing.classes(classes);
          }
        } else {
          added.push({ group, data, classes, ...(place === undefined ? {} : { position: { ...place } }) });
        }
        this.signatures.set(data.id, signature);
      };
      for (const node of scene.nodes.values()) put('nodes', nodeData(node, detailed), classesOf(node, !detailed), this.places.get(node.uid));
      for (const edge of scene.edges.values()) put('edges', edgeData(edge, detailed), classesOf(edge, !detailed), undefined);
      if (added.length > 0) fresh = cy.add(added);
    });
    const unplaced = new Set(added.filter((a) => a.group === 'nodes' && a.position === undefined).map((a) => a.data.id as string));
    const newNodes = fresh.nodes().filter((node) => unplaced.has(node.id()));
    const nodes = cy.nodes();
    let layout: DrawStats['layout'] = 'none';
    const relayout = options.relayout === true || drawnBefore === 0 || newNodes.length > Math.max(20, nodes.length / 2);
    if (relayout && nodes.length > 0) {
      layout = await this.layoutAll(scene, nodes);
      this.fit(nodes);
    } else if (newNodes.length > 0) {
      layout = 'placed';
      this.placeBesideNeighbours(newNodes);
      if (options.animate === true) {
        newNodes.forEach((node) => {
          node.style('opacity', 0);
          node.animate({ style: { opacity: 1 } }, { duration: 600, complete: () => void node.removeStyle('opacity') });
        });
      }
    }
    nodes.forEach((node) => void this.places.set(node.id(), { ...node.position() }));
    this.scene = scene;
    await nextFrame();
    return { nodes: nodes.length, edges: scene.edges.size, added: added.length, removed, layout, ms: performance.now() - started };
  }

  /** The drawn elements (for the page's own checks and the browser tests). */
  elements(): { readonly id: string; readonly group: 'nodes' | 'edges'; readonly status: string; readonly label: string; readonly type: string }[] {
    return this.cy.elements().map((e) => ({ id: e.id(), group: e.isNode() ? 'nodes' : 'edges', status: String(e.data('status')), label: String(e.data('label')), type: String(e.data('type')) }));
  }

  /** Where an element is drawn, in the page's coordinates (for the browser tests' pointer). */
  pointOf(uid: string): Position | undefined {
    const element = this.cy.getElementById(uid);
    if (element.empty()) return undefined;
    const at = element.isNode() ? (element as NodeSingular).renderedPosition() : (element as cytoscape.EdgeSingular).renderedMidpoint();
    const box = this.cy.container()?.getBoundingClientRect();
    return box === undefined ? undefined : { x: box.left + at.x, y: box.top + at.y };
  }

  /** Centres the view on a node and selects it. */
  focus(uid: string): void {
    const node = this.cy.getElementById(uid);
    if (node.empty()) return;
    this.cy.elements().unselect();
    node.select();
    this.cy.animate({ center: { eles: node } }, { duration: 300 });
  }

  /** Fits the nodes in the view, by their positions (a bounding box would measure thousands of labels). */
  fit(nodes = this.cy.nodes()): void {
    const cy = this.cy;
    if (nodes.empty()) return;
    let [x1, y1, x2, y2] = [Infinity, Infinity, -Infinity, -Infinity];
    nodes.forEach((node) => {
      const { x, y } = node.position();
      x1 = Math.min(x1, x);
      y1 = Math.min(y1, y);
      x2 = Math.max(x2, x);
      y2 = Math.max(y2, y);
    });
    const pad = 50;
    const zoom = Math.max(cy.minZoom(), Math.min(1.5, (cy.width() - 2 * pad) / Math.max(x2 - x1, 1), (cy.height() - 2 * pad) / Math.max(y2 - y1, 1)));
    cy.viewport({ zoom, pan: { x: cy.width() / 2 - (zoom * (x1 + x2)) / 2, y: cy.height() / 2 - (zoom * (y1 + y2)) / 2 } });
  }

  /**
   * Lays out every node: a force-directed layout (fcose) for a small view; for a large one,
   * Cytoscape's concentric layout with the nearest nodes in the middle, each distance on rings of
   * its own, a ring holding as many nodes as fit around it (one ring per distance would be a
   * circle thousands of nodes round).
   */
  private async layoutAll(scene: Scene, nodes: cytoscape.NodeCollection): Promise<DrawStats['layout']> {
    let options: LayoutOptions;
    let name: DrawStats['layout'];
    if (nodes.length <= forceLayoutMax) {
      name = 'fcose';
      options = { name: 'fcose', quality: 'default', randomize: true, animate: false, fit: false, nodeRepulsion: 6000, idealEdgeLength: 90, packComponents: true } as unknown as LayoutOptions;
    } else {
      name = 'concentric';
      const rings = ringsOf([...scene.nodes.values()]);
      options = { name: 'concentric', animate: false, fit: false, concentric: (node: NodeSingular) => 1_000_000 - (rings.get(node.id()) ?? 0), levelWidth: () => 1, minNodeSpacing: 8, avoidOverlap: false };
    }
    const layout = this.cy.layout(options);
    const done = new Promise<void>((resolve) => layout.one('layoutstop', () => resolve()));
    layout.run();
    await done;
    return name;
  }

  /** Puts each new node on a small ring around a drawn neighbour (or beside the drawing when it has none). */
  private placeBesideNeighbours(nodes: cytoscape.NodeCollection): void {
    const box = this.cy.elements().difference(nodes).boundingBox();
    let loose = 0;
    const around = new Map<string, number>();
    for (const node of nodes) {
      const anchor = node.neighborhood().nodes().difference(nodes).first() as NodeSingular;
      if (anchor.nonempty()) {
        const k = around.get(anchor.id()) ?? 0;
        around.set(anchor.id(), k + 1);
        const angle = k * 2.399963 + Math.random() * 0.3;
        const radius = 60 + 12 * Math.sqrt(k);
        const at = anchor.position();
        node.position({ x: at.x + radius * Math.cos(angle), y: at.y + radius * Math.sin(angle) });
      } else {
        const x = Number.isFinite(box.x2) ? box.x2 + 60 : 0;
        const y = Number.isFinite(box.y1) ? box.y1 + 40 * loose : 40 * loose;
        node.position({ x, y });
        loose += 1;
      }
    }
  }

  private hover(uid: string | undefined, at: Position | undefined): void {
    const element = uid === undefined ? undefined : (this.scene?.nodes.get(uid) ?? this.scene?.edges.get(uid));
    if (element === undefined || at === undefined) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = hoverText(element);
    this.tooltip.style.left = `${Math.round(at.x + 14)}px`;
    this.tooltip.style.top = `${Math.round(at.y + 14)}px`;
    this.tooltip.hidden = false;
  }
}

/**
 * The ring of each node for the concentric layout: by distance, then type, then uid; ring r holds
 * about 2πr nodes (as many as its circumference has room for), and each distance starts a ring.
 */
function ringsOf(nodes: readonly SceneNode[]): Map<string, number> {
  const sorted = [...nodes].sort((a, b) => a.distance - b.distance || (a.type < b.type ? -1 : a.type > b.type ? 1 : a.uid < b.uid ? -1 : 1));
  const rings = new Map<string, number>();
  let ring = 0;
  let room = 1;
  let distance = sorted[0]?.distance ?? 0;
  for (const node of sorted) {
    if (node.distance !== distance || room === 0) {
      ring += 1;
      room = Math.max(1, Math.floor(2 * Math.PI * ring));
      distance = node.distance;
    }
    rings.set(node.uid, ring);
    room -= 1;
  }
  return rings;
}

function nodeData(node: SceneNode, detailed: boolean) {
  return { id: node.uid, label: nodeLabel(node, detailed ? 3 : 0), colour: colourOf(node.type), status: node.status, type: node.type, kind: node.kind, distance: node.distance };
}

/** Edge labels only in a view small enough to read them (a large one shows them on hover). */
function edgeData(edge: SceneEdge, detailed: boolean) {
  return { id: edge.uid, source: edge.source, target: edge.target, label: detailed || edge.status !== 'same' ? edgeLabel(edge) : '', status: edge.status, type: edge.type };
}

function classesOf(element: SceneNode | SceneEdge, large: boolean): string[] {
  const classes: string[] = [element.status];
  if ('kind' in element) classes.push(element.kind);
  if (large) classes.push('large');
  return classes;
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function styles(): cytoscape.StylesheetJson {
  return [
    {
      selector: 'node',
      style: {
        'background-color': 'data(colour)',
        label: 'data(label)',
        'text-wrap': 'wrap',
        'text-max-width': '180px',
        'font-size': 9,
        'min-zoomed-font-size': 7,
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 3,
        color: '#1f2328',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.75,
        'text-background-padding': '1px',
        width: 18,
        height: 18,
        'border-width': 1,
        'border-color': '#57606a',
      },
    },
    // A large view draws labels only once zoomed in far enough to read them.
    { selector: 'node.large', style: { 'min-zoomed-font-size': 12, 'text-background-opacity': 0 } },
    { selector: 'node.attribute', style: { shape: 'round-rectangle', width: 12, height: 12, 'background-color': '#f6f8fa' } },
    { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#0969da', 'overlay-opacity': 0 } },
    {
      selector: 'edge',
      style: {
        width: 1.2,
        'line-color': '#8c959f',
        'target-arrow-color': '#8c959f',
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.7,
        'curve-style': 'straight',
        label: 'data(label)',
        'font-size': 7,
        'min-zoomed-font-size': 8,
        color: '#57606a',
        'text-rotation': 'autorotate',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.7,
      },
    },
    { selector: 'node.created', style: { 'border-width': 4, 'border-color': highlight.created, width: 22, height: 22 } },
    { selector: 'edge.created', style: { 'line-color': highlight.created, 'target-arrow-color': highlight.created, width: 3 } },
    { selector: 'node.changed', style: { 'border-width': 4, 'border-color': highlight.changed } },
    { selector: 'edge.changed', style: { 'line-color': highlight.changed, 'target-arrow-color': highlight.changed, width: 3 } },
    { selector: 'node.terminated', style: { 'border-width': 4, 'border-color': highlight.terminated, 'border-style': 'dashed', opacity: 0.75 } },
    { selector: 'edge.terminated', style: { 'line-color': highlight.terminated, 'line-style': 'dashed', 'target-arrow-color': highlight.terminated, width: 2, opacity: 0.75 } },
    { selector: '.faded', style: { opacity: 0.35 } },
  ];
}
