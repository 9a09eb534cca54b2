import type { Uid } from '../../../processors/engine/model';
import { jsonReplacer } from '../../../processors/codec/json';
import type { Change, Subgraph } from '../../../processors/page/model/api-types';
import { compareScenes, edgeLabel, hoverText, nameOf, nodeLabel, sceneOf, type Scene } from '../../../processors/page/model/scene';
import { ExploreReads } from '../../../processors/query/explore/reads';
import { foldDemoGraph } from '../../support/demo-store';
import { json } from '../../support/model-subgraph';
import type { ReferenceGraph } from '../../support/reference-model';
import { openTempStore, type TempStore } from '../../support/temp-store';

/**
 * The page's scenes: subgraph answers merged, and two slices compared through the compacted diff
 * between them: for every pair of slices of the demo graph, what is marked created, terminated
 * and changed (with its earlier value) is what the reference model says happened between them.
 */
describe('scenes of the demo graph, compared across slices', () => {
  let temp: TempStore;
  let graph: string;
  let model: ReferenceGraph;
  let reads: ExploreReads;

  beforeAll(async () => {
    temp = await openTempStore();
    ({ graph, model } = await foldDemoGraph(temp));
    reads = new ExploreReads(temp.store);
  }, 60_000);

  afterAll(async () => {
    await temp.close();
  });

  /** A subgraph as the page receives it: through JSON, values in the codec's form. */
  const subgraph = async (s: number, options: { type?: string; from?: Uid[]; hops: number }): Promise<Subgraph> => {
    const view = await reads.subgraph(graph, { slice: s, head: model.head }, { ...options, limit: 5_000, attributes: 'labels' });
    return JSON.parse(JSON.stringify({ graph, slice: s, head: model.head, ...view }, jsonReplacer)) as Subgraph;
  };
  const changesBetween = async (from: number, to: number): Promise<Change[]> => JSON.parse(JSON.stringify((await temp.store.diff(graph, from, to)).changes, jsonReplacer)) as Change[];
  const lifetime = (uid: Uid) => model.lifetimes.get(uid) as { created: number; terminated?: number };

  test('sceneOf merges answers: each node once, at its least distance, edges by uid', async () => {
    const person = model.atomsOfType('Person', model.head)[0] as Uid;
    const [people, around] = await Promise.all([subgraph(model.head, { type: 'Person', hops: 0 }), subgraph(model.head, { from: [person], hops: 2 })]);
    const scene = sceneOf([around, people]);
    const uids = new Set([...people.nodes, ...around.nodes].map((n) => n.uid));
    expect(new Set(scene.nodes.keys())).toEqual(uids);
    for (const node of people.nodes) expect(scene.nodes.get(node.uid)?.distance).toBe(0);
    expect(new Set(scene.edges.keys())).toEqual(new Set([...people.edges, ...around.edges].map((e) => e.uid)));
    expect([...scene.nodes.values()].every((n) => n.status === 'same')).toBe(true);
    expect(() => sceneOf([people, { ...around, slice: 3 }])).toThrow(/slices/);
  });

  test('compareScenes marks what the reference model says changed between any two slices', async () => {
    const slices = Array.from({ length: 12 }, (_, i) => Math.round((i * model.head) / 11));
    const marked = { created: 0, terminated: 0, changed: 0 };
    for (const a of slices) {
      for (const b of slices) {
        if (a >= b) continue;
        const [before, after, changes] = await Promise.all([subgraph(a, { type: 'Person', hops: 1 }), subgraph(b, { type: 'Person', hops: 1 }), changesBetween(a, b)]);
        const scene: Scene = compareScenes(sceneOf([before]), sceneOf([after]), changes);
        expect(scene.comparedWith).toBe(a);
        const at = model.slices[a] as ReadonlyMap<Uid, { value?: unknown }>;
        const now = model.slices[b] as ReadonlyMap<Uid, { value?: unknown }>;
        for (const node of [...scene.nodes.values(), ...scene.edges.values()]) {
          const life = lifetime(node.uid);
          const created = life.created > a;
          const terminated = life.terminated !== undefined && life.terminated > a && life.terminated <= b;
          if (created) expect(node.status).toBe('created');
          else if (terminated) expect(node.status).toBe('terminated');
          else expect(['same', 'changed', 'faded']).toContain(node.status);
          if (node.status === 'faded') expect(after.nodes.some((n) => n.uid === node.uid)).toBe(false);
          for (const field of node.fields) {
            const fieldLife = lifetime(field.uid);
            if (node.status === 'created' || node.status === 'terminated' || node.status === 'faded') {
              // Drawn whole: created, or as it was before (terminated, or an end of a terminated relation that left the view).
              expect(field.status).toBe('same');
            } else if (fieldLife.created > a) {
              expect(field.status).toBe('created');
            } else if (fieldLife.terminated !== undefined && fieldLife.terminated <= b) {
              expect(field.status).toBe('terminated');
            } else if (JSON.stringify(json(at.get(field.attribute)?.value as never)) !== JSON.stringify(json(now.get(field.attribute)?.value as never))) {
              expect(field.status).toBe('changed');
              expect(field.previous).toEqual(json(at.get(field.attribute)?.value as never) ?? null);
            } else {
              expect(field.status).toBe('same');
            }
          }
          if (node.status === 'created') marked.created += 1;
          if (node.status === 'terminated') marked.terminated += 1;
          if (node.status === 'changed') marked.changed += 1;
        }
        // Every atom the diff terminated that the earlier view drew is drawn, red.
        for (const change of changes) {
          if (change.op !== 'Terminated') continue;
          const drawnBefore = before.nodes.some((n) => n.uid === change.uid) || before.edges.some((e) => e.uid === change.uid);
          if (drawnBefore) expect(scene.nodes.get(change.uid)?.status ?? scene.edges.get(change.uid)?.status).toBe('terminated');
        }
      }
    }
    // The pairs exercised every kind of mark.
    expect(marked.created).toBeGreaterThan(0);
    expect(marked.terminated).toBeGreaterThan(0);
    expect(marked.changed).toBeGreaterThan(0);
  });

  test('labels: a node by its name and fields, marked when changed; the previous value on hover', async () => {
    const deal = model.atomsOfType('Deal', model.head)[0] as Uid;
    const stageChanged = [...Array(model.head).keys()].map((s) => s + 1).find((s) => {
      const before = model.relationsAt(deal, 'out', s - 1).find((r) => r.type === 'Stage');
      const after = model.relationsAt(deal, 'out', s).find((r) => r.type === 'Stage');
      return before !== undefined && after !== undefined && JSON.stringify(json(model.atomAt(before.other, s - 1)?.value)) !== JSON.stringify(json(model.atomAt(after.other, s)?.value));
    }) as number;
    const [before, after, changes] = await Promise.all([subgraph(stageChanged - 1, { from: [deal], hops: 1 }), subgraph(stageChanged, { from: [deal], hops: 1 }), changesBetween(stageChanged - 1, stageChanged)]);
    const node = compareScenes(sceneOf([before]), sceneOf([after]), changes).nodes.get(deal);
    expect(node?.status).toBe('changed');
    const stage = node?.fields.find((f) => f.type === 'Stage');
    const old = before.nodes.find((n) => n.uid === deal)?.fields.find((f) => f.type === 'Stage')?.value?.value as string;
    expect(nameOf(node as NonNullable<typeof node>)).toMatch(/^Deal \d for acme/);
    expect(nodeLabel(node as NonNullable<typeof node>)).toContain(`✱ Stage: ${String(stage?.value?.value)}`);
    expect(hoverText(node as NonNullable<typeof node>)).toContain(`Stage: ${String(stage?.value?.value)} (was ${old})`);
    const job = sceneOf([await subgraph(model.head, { type: 'Person', hops: 1 })]).edges.values();
    expect([...job].some((e) => /^WorksAt \((junior|senior|principal)\)$/.test(edgeLabel(e)))).toBe(true);
  });
});
