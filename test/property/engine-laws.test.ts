import fc from 'fast-check';
import { diffToAvro } from '../../processors/codec/diff';
import { rejectionCodes } from '../../processors/errors';
import { avroTypes } from '../../processors/codec/avro';
import type { FoldOptions, FoldResult } from '../../processors/engine/fold';
import { diffAsTransaction } from '../../processors/engine/mirror';
import type { GraphDiff, GraphTransaction, Uid } from '../../processors/engine/model';
import type { GraphSchema } from '../../processors/engine/schema';
import type { GraphStore, Layout } from '../../processors/store/graph-store';
import { canonical } from '../support/canonical';
import { aTransaction, Concretizer, testSchema, type ATransaction } from '../support/random-transactions';
import { ReferenceGraph, type ModelOutcome } from '../support/reference-model';
import { liveState } from '../support/store-dump';
import { openTempStore, smallLayout, type TempStore } from '../support/temp-store';
import { foldInto } from '../support/fold-loop';

const graph = 'g';
const maxInstructions = 5;
const options = (offset: number, schema: GraphSchema | undefined): FoldOptions => ({
  source: { topic: 'instructions', partition: 0, offset },
  recordTime: 1_700_000_000_000_000 + offset,
  maxInstructions,
  ...(schema === undefined ? {} : { schema }),
});

function summary(result: FoldResult): ModelOutcome {
  switch (result.outcome) {
    case 'applied':
      return { outcome: 'applied', slice: result.diff.slice, time: result.diff.time, changes: result.diff.changes };
    case 'refused':
      return result.error.instructionIndex === undefined
        ? { outcome: 'refused', code: result.error.code }
        : { outcome: 'refused', code: result.error.code, instructionIndex: result.error.instructionIndex };
    default:
      return result;
  }
}

const diffBytes = (diff: GraphDiff): string => avroTypes().diff.toBuffer(diffToAvro(diff)).toString('hex');

async function allDiffs(store: GraphStore, g: string): Promise<GraphDiff[]> {
  const diffs: GraphDiff[] = [];
  for await (const diff of store.diffs(g, 1, await store.head(g))) diffs.push(diff);
  return diffs;
}

/** The dump a store rebuilt from diffs must equal: without the checkpoint and no-op txId markers. */
function comparable(dump: [string, string][]): [string, string][] {
  return dump.filter(([key, value]) => !key.startsWith('01') && !(key.startsWith('17') && value === '00'));
}

/**
 * Store layouts: relations spilled from the first one, after one or two, or kept in the record;
 * buckets of one slice, a few, or the default.
 */
const layouts: readonly Layout[] = [
  { sliceBucket: 1, typeBucket: 1 },
  { sliceBucket: 2, typeBucket: 3 },
  smallLayout,
  { sliceBucket: 16, typeBucket: 64 },
];

/** A script: transactions, plus where batches end (0 = go on, 1 = commit, 2 = abort, fold again, commit, 3 = commit, reopen). */
const script = fc.record({
  txs: fc.array(aTransaction, { minLength: 1, maxLength: 30, size: 'max' }),
  cuts: fc.array(fc.constantFrom(0, 0, 1, 1, 2, 3), { minLength: 30, maxLength: 30 }),
  withSchema: fc.boolean(),
  layout: fc.constantFrom(...layouts),
});

/** Outcomes and refusal codes seen across runs, to check the scripts exercise all of them. */
const seen = new Set<string>();

interface Run {
  readonly model: ReferenceGraph;
  readonly txs: GraphTransaction[];
  readonly results: FoldResult[];
}

/**
 * Folds a script into `temp` (tiny cache: most reads miss and go through NotLoaded) in random
 * batches, some aborted and folded again, some followed by a reopen (caches, key filter and open
 * buckets start over), and into `reference` (big cache, one commit per transaction), checking
 * every outcome against the model and the two stores' diffs byte for byte.
 */
async function fold(temp: TempStore, reference: GraphStore, s: { txs: readonly ATransaction[]; cuts: readonly number[]; withSchema: boolean }): Promise<Run> {
  const schema = s.withSchema ? testSchema : undefined;
  const model = new ReferenceGraph(graph, schema, maxInstructions);
  const concretizer = new Concretizer(model);
  const txs: GraphTransaction[] = [];
  const results: FoldResult[] = [];
  let batchStart = 0;
  for (const [i, atx] of s.txs.entries()) {
    const tx = concretizer.next(atx);
    txs.push(tx);
    const expected = model.apply(tx, options(i, schema).recordTime);
    const result = await foldInto(temp.store, tx, options(i, schema));
    results.push(result);
    seen.add(result.outcome === 'refused' ? result.error.code : result.outcome);
    expect(canonical(summary(result))).toBe(canonical(expected));

    const other = await foldInto(reference, tx, options(i, schema));
    await reference.commit({ inputs: { instructions: i + 1 } });
    expect(other.outcome).toBe(result.outcome);
    if (result.outcome === 'applied' && other.outcome === 'applied') expect(diffBytes(other.diff)).toBe(diffBytes(result.diff));

    const cut = s.cuts[i] ?? 1;
    if (cut === 2) {
      temp.store.discard();
      for (let j = batchStart; j <= i; j += 1) {
        const again = await foldInto(temp.store, txs[j] as GraphTransaction, options(j, schema));
        expect(canonical(again)).toBe(canonical(results[j]));
      }
    }
    if (cut > 0) {
      await temp.store.commit({ inputs: { instructions: i + 1 } });
      batchStart = i + 1;
    }
    if (cut === 3) await temp.reopen();
  }
  await temp.store.commit({ inputs: { instructions: s.txs.length } });
  return { model, txs, results };
}

/** The atoms within `hops` relations of `start` at slice `s`, either direction, by the model: sorted. */
function modelNeighbourhood(model: ReferenceGraph, start: Uid, hops: number, s: number): Uid[] {
  if (model.atomAt(start, s) === undefined) return [];
  const reached = new Set<Uid>([start]);
  let frontier = [start];
  for (let hop = 0; hop < hops; hop += 1) {
    const next: Uid[] = [];
    for (const uid of frontier) {
      for (const edge of [...model.relationsAt(uid, 'out', s), ...model.relationsAt(uid, 'in', s)]) {
        if (reached.has(edge.other)) continue;
        reached.add(edge.other);
        next.push(edge.other);
      }
    }
    frontier = next;
  }
  return [...reached].sort();
}

describe('engine and store, against the reference model', () => {
  test('outcomes, diffs and time-travel reads match the model; laws 1, 2, 3, 5 hold', async () => {
    await fc.assert(
      fc.asyncProperty(script, fc.array(fc.tuple(fc.nat(), fc.nat()), { minLength: 3, maxLength: 3 }), async (s, ranges) => {
        const a = await openTempStore(3, s.layout);
        const b = await openTempStore(10_000, s.layout);
        const c = await openTempStore(10_000, s.layout);
        try {
          const { model } = await fold(a, b.store, s);
          const head = model.head;
          expect(await a.store.head(graph)).toBe(head);

          // Time travel: every atom, its relations and the type index, as of every slice.
          const types = new Set([...model.lifetimes.values()].map((l) => l.type));
          for (let slice = 0; slice <= head; slice += 1) {
            for (const uid of model.lifetimes.keys()) {
              expect(canonical(await a.store.atomAt(graph, uid, slice))).toBe(canonical(model.atomAt(uid, slice)));
              for (const direction of ['out', 'in'] as const) {
                expect(canonical(await a.store.relationsAt(graph, uid, direction, { slice }))).toBe(canonical(model.relationsAt(uid, direction, slice)));
              }
              expect((await a.store.neighbourhood(graph, uid, 2, slice)).sort()).toEqual(modelNeighbourhood(model, uid, 2, slice));
            }
            for (const type of types) {
              const uids: string[] = [];
              for await (const uid of a.store.atomsOfType(graph, type, slice)) uids.push(uid);
              expect(uids.sort()).toEqual(model.atomsOfType(type, slice));
            }
          }

          // Law 1, replay: the diffs folded onto an empty store give the same store, key for key.
          const diffs = await allDiffs(a.store, graph);
          expect(diffs.map((d) => d.slice)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
          for (let i = 0; i < diffs.length; i += 4) await c.store.replay(diffs.slice(i, i + 4));
          await c.store.commit({ changelog: diffs.length });

          // Law 5, diffs are instructions: each diff folded into another graph mirrors every slice.
          for (const diff of diffs) {
            const mirrored = await foldInto(b.store, diffAsTransaction(diff, 'mirror'), { ...options(0, undefined), maxInstructions: 10_000 });
            expect(mirrored.outcome === 'refused' ? mirrored.error.message : mirrored.outcome).toBe('applied');
            await b.store.commit({});
          }
          for (let slice = 1; slice <= head; slice += 1) {
            expect(canonical(await liveState(b.store, 'mirror', slice))).toBe(canonical(await liveState(a.store, graph, slice)));
          }

          // Law 2, diff: diff(from, to) applied to slice `from` gives slice `to`.
          for (const [x, y] of ranges) {
            const from = head === 0 ? 0 : x % (head + 1);
            const to = from + (head === from ? 0 : y % (head - from + 1));
            const range = await a.store.diff(graph, from, to);
            const d = await openTempStore(10_000, s.layout);
            try {
              await d.store.replay(diffs.slice(0, from));
              if (range.changes.length > 0) {
                await d.store.replay([{ graph, slice: from + 1, txId: 'range', time: 0, source: { topic: 'x', partition: 0, offset: 0 }, changes: range.changes }]);
              }
              await d.store.commit({});
              expect(canonical(await liveState(d.store, graph))).toBe(canonical(await liveState(a.store, graph, to)));
            } finally {
              await d.close();
            }
          }

          expect(comparable(await c.dump())).toEqual(comparable(await a.dump()));
        } finally {
          await Promise.all([a.close(), b.close(), c.close()]);
        }
      }),
      { numRuns: 40 },
    );
    const engineCodes = rejectionCodes.filter((code) => code !== 'DECODE_ERROR' && code !== 'UNKNOWN_SCHEMA' && code !== 'WRONG_PARTITION');
    expect([...seen].sort()).toEqual([...engineCodes, 'applied', 'duplicate', 'unchanged'].sort());
  }, 300_000);

  test('a refused transaction leaves the store byte for byte unchanged; an applied txId again is a no-op', async () => {
    await fc.assert(
      fc.asyncProperty(script, fc.array(aTransaction, { minLength: 5, maxLength: 15 }), async (s, probes) => {
        const a = await openTempStore(3, s.layout);
        const b = await openTempStore(10_000, s.layout);
        try {
          const run = await fold(a, b.store, s);
          const checkpoint = { inputs: { instructions: s.txs.length } };
          const concretizer = new Concretizer(run.model);
          for (const probe of probes) {
            const tx = concretizer.next(probe);
            const expected = run.model.apply(tx, options(0, s.withSchema ? testSchema : undefined).recordTime);
            if (expected.outcome !== 'refused') {
              await foldInto(a.store, tx, options(0, s.withSchema ? testSchema : undefined));
              await a.store.commit(checkpoint);
              continue;
            }
            const before = await a.dump();
            const result = await foldInto(a.store, tx, options(0, s.withSchema ? testSchema : undefined));
            expect(result.outcome).toBe('refused');
            await a.store.commit(checkpoint);
            expect(await a.dump()).toEqual(before);
          }
          const before = await a.dump();
          for (const [i, tx] of run.txs.entries()) {
            const first = run.results[i] as FoldResult;
            if (first.outcome !== 'applied' && first.outcome !== 'unchanged') continue;
            const again = await foldInto(a.store, tx, options(i, s.withSchema ? testSchema : undefined));
            expect(again).toEqual({ outcome: 'duplicate', slice: first.outcome === 'applied' ? first.diff.slice : null });
          }
          await a.store.commit(checkpoint);
          expect(await a.dump()).toEqual(before);
        } finally {
          await Promise.all([a.close(), b.close()]);
        }
      }),
      { numRuns: 25 },
    );
  }, 300_000);
});
