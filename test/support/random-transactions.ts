import fc from 'fast-check';
import type { GraphTransaction, Instruction, Ref, Uid, Value } from '../../processors/engine/model';
import type { GraphSchema } from '../../processors/engine/schema';
import type { ReferenceGraph } from './reference-model';

/**
 * Random transaction sequences for property tests, valid and invalid. fast-check generates an
 * abstract script (which atom to pick, whether a value fits); `concretize` turns each step into a
 * real transaction against the model's current graph, so most references hit real atoms and most
 * values fit, while the rest exercise every refusal.
 */
type ARef = { readonly k: 'known'; readonly i: number } | { readonly k: 'local'; readonly i: number } | { readonly k: 'unknown' } | { readonly k: 'bad' };
type AValue = { readonly fit: boolean; readonly pick: number };
type Named = 'no' | 'yes' | 'again';
type AInstruction =
  | { readonly op: 'CreateEntity'; readonly named: Named; readonly uid: 'none' | 'fresh' | 'existing'; readonly type: number }
  | { readonly op: 'CreateAttribute'; readonly named: Named; readonly valueType: number; readonly value: AValue | null }
  | { readonly op: 'CreateRelation'; readonly named: Named; readonly type: number; readonly source: ARef; readonly target: ARef }
  | { readonly op: 'Assign'; readonly target: ARef; readonly value: AValue }
  | { readonly op: 'SetField'; readonly subject: ARef; readonly relation: number; readonly value: AValue }
  | { readonly op: 'Terminate'; readonly target: ARef }
  | { readonly op: 'Merge'; readonly existing: ARef | null; readonly kind: number; readonly type: number; readonly source: ARef; readonly target: ARef; readonly value: AValue | null };
export interface ATransaction {
  readonly txId: 'fresh' | { readonly reuse: number };
  readonly expect: 'none' | 'current' | 'stale';
  readonly time: number | null;
  readonly instructions: readonly AInstruction[];
}

export const entityTypes = ['Person', 'Company', 'Robot', '9lives'];
export const relationTypes = ['Knows', 'WorksAt', 'name', 'owns'];
export const fieldRelations = ['name', 'age', 'color'];
export const valueTypes = ['String', 'Int', 'Float', 'Bool', 'Time', 'Bytes', 'Enum:Color', 'Quantity:kg', 'Nope'];

export const testSchema: GraphSchema = {
  entities: ['Person', 'Company'],
  relations: {
    Knows: { source: ['Person'], target: ['Person'] },
    WorksAt: { source: ['Person'], target: ['Company'] },
    name: { cardinality: 'one' },
    owns: {},
    age: { cardinality: 'one' },
    color: { target: ['Enum:Color'] },
  },
  enums: { Color: ['red', 'green', 'blue'] },
};

const aRef: fc.Arbitrary<ARef> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ k: fc.constant('known' as const), i: fc.nat(40) }) },
  { weight: 5, arbitrary: fc.record({ k: fc.constant('local' as const), i: fc.nat(6) }) },
  { weight: 1, arbitrary: fc.constant({ k: 'unknown' as const }) },
  { weight: 1, arbitrary: fc.constant({ k: 'bad' as const }) },
);
const aValue: fc.Arbitrary<AValue> = fc.record({
  fit: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  pick: fc.nat(7),
});
/** Whether a created atom gets a local name: none, a new one, or (rarely) one already bound. */
const aNamed = fc.oneof({ weight: 10, arbitrary: fc.constantFrom('no' as const, 'yes' as const) }, { weight: 1, arbitrary: fc.constant('again' as const) });
const small = (n: number): fc.Arbitrary<number> => fc.nat(n - 1);

const aInstruction: fc.Arbitrary<AInstruction> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant('CreateEntity' as const), named: aNamed, uid: fc.constantFrom('none' as const, 'none' as const, 'fresh' as const, 'existing' as const), type: fc.oneof({ weight: 8, arbitrary: small(2) }, { weight: 1, arbitrary: small(4) }) }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('CreateAttribute' as const), named: aNamed, valueType: fc.oneof({ weight: 20, arbitrary: small(8) }, { weight: 1, arbitrary: fc.constant(8) }), value: fc.option(aValue, { nil: null }) }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('CreateRelation' as const), named: aNamed, type: small(4), source: aRef, target: aRef }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('Assign' as const), target: aRef, value: aValue }) },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('SetField' as const), subject: aRef, relation: small(3), value: aValue }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('Terminate' as const), target: aRef }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('Merge' as const), existing: fc.option(aRef, { nil: null }), kind: small(3), type: small(4), source: aRef, target: aRef, value: fc.option(aValue, { nil: null }) }) },
);

export const aTransaction: fc.Arbitrary<ATransaction> = fc.record({
  txId: fc.oneof({ weight: 8, arbitrary: fc.constant('fresh' as const) }, { weight: 1, arbitrary: fc.record({ reuse: fc.nat(50) }) }),
  expect: fc.constantFrom('none' as const, 'none' as const, 'none' as const, 'current' as const, 'stale' as const),
  time: fc.option(fc.integer({ min: 0, max: 2_000_000_000_000_000 }), { nil: null }),
  instructions: fc.array(aInstruction, { minLength: 0, maxLength: 6 }),
});

const pools: Record<string, readonly Value[]> = {
  String: ['a', 'b', '', 'ünïcødé'].map((value) => ({ type: 'String', value })),
  Int: [0n, 1n, -1n, 2n ** 60n, -(2n ** 63n), 2n ** 63n - 1n].map((value) => ({ type: 'Int', value })),
  Float: [0.5, -0, 0, Number.NaN, 1e300].map((value) => ({ type: 'Float', value })),
  Bool: [true, false].map((value) => ({ type: 'Bool', value })),
  Time: [0n, 1_700_000_000_000_000n, 2n ** 62n].map((value) => ({ type: 'Time', value })),
  Bytes: [[], [1, 2, 3], [255]].map((b) => ({ type: 'Bytes', value: Uint8Array.from(b) })),
  'Enum:Color': ['red', 'green', 'blue', 'mauve'].map((value) => ({ type: 'Enum', enum: 'Color', value })),
  'Quantity:kg': [1.5, 2, -3].map((value) => ({ type: 'Quantity', unit: 'kg', value })),
};
const anyValues = Object.values(pools).flat();
const outOfRange: Value = { type: 'Int', value: 2n ** 64n };

function freshUid(counter: number): Uid {
  return (counter * 2654435761 + 0x9e3779b9).toString(16).padStart(32, 'f').slice(-32);
}

/** Turns abstract transactions into real ones, against the model's graph as it is now. */
export class Concretizer {
  private fresh = 0;
  private readonly txIds: string[] = [];

  constructor(private readonly model: ReferenceGraph) {}

  next(a: ATransaction): GraphTransaction {
    const known = [...this.model.lifetimes.keys()];
    const locals: { name: string; type: string }[] = [];
    const reuse = typeof a.txId === 'object' && this.txIds.length > 0 ? this.txIds[a.txId.reuse % this.txIds.length] : undefined;
    const txId = reuse ?? `tx-${this.txIds.length}-${this.fresh++}`;
    if (reuse === undefined) this.txIds.push(txId);

    const ref = (r: ARef): Ref => {
      switch (r.k) {
        case 'known':
          return known.length === 0 ? { uid: freshUid(this.fresh++) } : { uid: known[r.i % known.length] as Uid };
        case 'local':
          return locals.length === 0 ? { ref: 'unbound' } : { ref: (locals[r.i % locals.length] as { name: string }).name };
        case 'unknown':
          return { uid: freshUid(this.fresh++) };
        case 'bad':
          return { uid: 'not-a-uid' };
      }
    };
    const typeOf = (r: Ref): string | undefined => {
      if ('ref' in r) return locals.find((l) => l.name === r.ref)?.type;
      return this.model.lifetimes.get(r.uid)?.type;
    };
    const value = (v: AValue, targetType: string | undefined): Value => {
      const pool = targetType === undefined ? undefined : pools[targetType];
      if (!v.fit || pool === undefined) return v.pick === 7 ? outOfRange : (anyValues[(v.pick * 7) % anyValues.length] as Value);
      return pool[v.pick % pool.length] as Value;
    };
    const name = (named: Named, type: string): string | undefined => {
      if (named === 'no') return undefined;
      const n = named === 'again' && locals.length > 0 ? (locals[0] as { name: string }).name : `n${locals.length}`;
      locals.push({ name: n, type });
      return n;
    };

    const instructions: Instruction[] = a.instructions.map((ai): Instruction => {
      switch (ai.op) {
        case 'CreateEntity': {
          const type = entityTypes[ai.type] as string;
          const uid = ai.uid === 'fresh' ? freshUid(this.fresh++) : ai.uid === 'existing' && known.length > 0 ? (known[0] as Uid) : undefined;
          const r = name(ai.named, type);
          return { op: 'CreateEntity', type, ...(r === undefined ? {} : { ref: r }), ...(uid === undefined ? {} : { uid }) };
        }
        case 'CreateAttribute': {
          const valueType = valueTypes[ai.valueType] as string;
          const r = name(ai.named, valueType);
          return { op: 'CreateAttribute', valueType, ...(r === undefined ? {} : { ref: r }), ...(ai.value === null ? {} : { value: value(ai.value, valueType) }) };
        }
        case 'CreateRelation': {
          const source = ref(ai.source);
          const target = ref(ai.target);
          const type = relationTypes[ai.type] as string;
          const r = name(ai.named, type);
          return { op: 'CreateRelation', type, source, target, ...(r === undefined ? {} : { ref: r }) };
        }
        case 'Assign': {
          const target = ref(ai.target);
          return { op: 'Assign', target, value: value(ai.value, typeOf(target)) };
        }
        case 'SetField': {
          const relation = fieldRelations[ai.relation] as string;
          const fieldType = relation === 'color' ? 'Enum:Color' : relation === 'age' ? 'Int' : 'String';
          return { op: 'SetField', subject: ref(ai.subject), relation, value: value(ai.value, fieldType) };
        }
        case 'Terminate':
          return { op: 'Terminate', target: ref(ai.target) };
        case 'Merge': {
          const existing = ai.existing === null ? undefined : ref(ai.existing);
          const life = existing !== undefined && 'uid' in existing ? this.model.lifetimes.get(existing.uid) : undefined;
          const kind = life?.kind ?? (['entity', 'attribute', 'relation'] as const)[ai.kind] ?? 'entity';
          const type = life?.type ?? (kind === 'attribute' ? (valueTypes[ai.type] as string) : kind === 'relation' ? (relationTypes[ai.type] as string) : (entityTypes[ai.type % 2] as string));
          const uid = existing !== undefined && 'uid' in existing ? existing.uid : freshUid(this.fresh++);
          const ends = kind === 'relation' ? { source: ref(ai.source), target: ref(ai.target) } : {};
          const v = kind === 'attribute' && ai.value !== null ? { value: value(ai.value, type) } : {};
          return { op: 'Merge', uid, kind, type, ...ends, ...v };
        }
      }
    });
    const head = this.model.head;
    return {
      graph: this.model.graph,
      txId,
      instructions,
      ...(a.time === null ? {} : { time: a.time }),
      ...(a.expect === 'none' ? {} : { expectSlice: a.expect === 'current' ? head : head + 1 }),
    };
  }
}
