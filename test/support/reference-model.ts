import { createHash } from 'node:crypto';
import type { RejectionCode } from '../../processors/errors';
import type { AtomKind, Change, GraphTransaction, Ref, Uid, Value } from '../../processors/engine/model';
import type { GraphSchema } from '../../processors/engine/schema';

/**
 * An independent, deliberately naive model of the graph model (schemas/README.md) for tests: every slice is a full
 * copy of the graph, and a transaction is applied to a fresh copy instruction by instruction. It
 * shares no code with the engine (not even value equality or uid derivation), so the property
 * tests compare two implementations of the same rules.
 */
export interface ModelAtom {
  readonly uid: Uid;
  readonly kind: AtomKind;
  readonly type: string;
  readonly created: number;
  readonly source?: Uid;
  readonly target?: Uid;
  readonly value?: Value;
}

/** The live atoms of one slice. */
export type ModelSlice = ReadonlyMap<Uid, ModelAtom>;

export type ModelOutcome =
  | { readonly outcome: 'applied'; readonly slice: number; readonly time: number; readonly changes: readonly Change[] }
  | { readonly outcome: 'unchanged' }
  | { readonly outcome: 'duplicate'; readonly slice: number | null }
  | { readonly outcome: 'refused'; readonly code: RejectionCode; readonly instructionIndex?: number };

class Refused extends Error {
  constructor(
    readonly code: RejectionCode,
    readonly instructionIndex: number | undefined,
  ) {
    super(code);
  }
}

interface Draft {
  uid: Uid;
  kind: AtomKind;
  type: string;
  created: number;
  source?: Uid;
  target?: Uid;
  value?: Value;
  alive: boolean;
  /** Some instruction other than Terminate referred to it in this transaction. */
  used: boolean;
  /** Ended in this transaction. */
  ended: boolean;
  createdNow: boolean;
  assignedNow?: Value;
  valueBefore?: Value;
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const plainTypes = ['String', 'Int', 'Float', 'Bool', 'Time', 'Bytes'];

function modelUid(graph: string, txId: string, local: string): Uid {
  return createHash('sha256').update(`graphfold/uid/v1\0${graph}\0${txId}\0${local}`).digest('hex').slice(0, 32);
}

function typeOfValue(v: Value): string {
  return v.type === 'Enum' ? `Enum:${v.enum}` : v.type === 'Quantity' ? `Quantity:${v.unit}` : v.type;
}

function equalValues(a: Value | undefined, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return JSON.stringify(encodeForCompare(a)) === JSON.stringify(encodeForCompare(b));
}

function encodeForCompare(v: Value): unknown {
  switch (v.type) {
    case 'Int':
    case 'Time':
      return [v.type, v.value.toString()];
    case 'Bytes':
      return [v.type, Buffer.from(v.value).toString('hex')];
    case 'Float':
      return [v.type, Object.is(v.value, -0) ? '-0' : String(v.value)];
    case 'Quantity':
      return [v.type, v.unit, Object.is(v.value, -0) ? '-0' : String(v.value)];
    case 'Enum':
      return [v.type, v.enum, v.value];
    default:
      return [v.type, v.value];
  }
}

function isValueTypeName(t: string): boolean {
  if (plainTypes.includes(t)) return true;
  const m = /^(Enum|Quantity):(.+)$/.exec(t);
  return m !== null && /^[A-Za-z_][A-Za-z0-9_./-]*$/.test(m[2] as string);
}

export class ReferenceGraph {
  /** slices[s] is the graph at slice s; slices[0] is empty. */
  readonly slices: ModelSlice[] = [new Map()];
  /** times[s] is the time of slice s (microseconds); times[0] is 0. */
  readonly times: number[] = [0];
  /** Every atom ever created, with its lifetime. */
  readonly lifetimes = new Map<Uid, { created: number; terminated?: number; kind: AtomKind; type: string }>();
  private readonly txs = new Map<string, number | null>();

  constructor(
    readonly graph: string,
    private readonly schema?: GraphSchema,
    private readonly maxInstructions = 1000,
  ) {}

  get head(): number {
    return this.slices.length - 1;
  }

  /** Applies a transaction read from a record stamped `recordTime` (the slice time when the transaction has none). */
  apply(tx: GraphTransaction, recordTime = 0): ModelOutcome {
    try {
      return this.tryApply(tx, recordTime);
    } catch (e) {
      if (e instanceof Refused) return e.instructionIndex === undefined ? { outcome: 'refused', code: e.code } : { outcome: 'refused', code: e.code, instructionIndex: e.instructionIndex };
      throw e;
    }
  }

  private tryApply(tx: GraphTransaction, recordTime: number): ModelOutcome {
    let at: number | undefined;
    const fail = (code: RejectionCode): never => {
      throw new Refused(code, at);
    };
    if (tx.graph !== this.graph || tx.txId === '') fail('INVALID_INSTRUCTION');
    if (tx.instructions.length > this.maxInstructions) fail('TOO_LARGE');
    if (tx.time !== undefined && !(Number.isSafeInteger(tx.time) && tx.time >= 0)) fail('INVALID_INSTRUCTION');
    if (this.txs.has(tx.txId)) return { outcome: 'duplicate', slice: this.txs.get(tx.txId) as number | null };
    if (tx.expectSlice !== undefined && tx.expectSlice !== this.head) fail('STALE_SLICE');

    const next = this.head + 1;
    const drafts = new Map<Uid, Draft>();
    for (const a of (this.slices[this.head] as ModelSlice).values()) drafts.set(a.uid, { ...a, alive: true, used: false, ended: false, createdNow: false, valueBefore: a.value });
    for (const [uid, life] of this.lifetimes) {
      if (life.terminated !== undefined) drafts.set(uid, { uid, kind: life.kind, type: life.type, created: life.created, alive: false, used: false, ended: false, createdNow: false });
    }
    const names = new Map<string, Uid>();
    const created: Change[] = [];
    const assignOrder: Uid[] = [];
    const ended: Change[] = [];

    const checkUid = (u: string): void => {
      if (!/^[0-9a-f]{32}$/.test(u)) fail('INVALID_INSTRUCTION');
    };
    const lookup = (ref: Ref): Draft => {
      let uid: Uid;
      if ('ref' in ref) {
        const bound = names.get(ref.ref);
        if (bound === undefined) return fail('NOT_FOUND');
        uid = bound;
      } else {
        checkUid(ref.uid);
        uid = ref.uid;
      }
      return drafts.get(uid) ?? fail('NOT_FOUND');
    };
    const use = (ref: Ref): Draft => {
      const d = lookup(ref);
      if (d.ended) fail('CONFLICT');
      if (!d.alive) fail('NOT_FOUND');
      d.used = true;
      return d;
    };
    const liveOut = (uid: Uid): Draft[] =>
      [...drafts.values()].filter((d) => d.alive && d.kind === 'relation' && d.source === uid);
    const liveIn = (uid: Uid): Draft[] =>
      [...drafts.values()].filter((d) => d.alive && d.kind === 'relation' && d.target === uid);
    const sorted = (ds: Draft[]): Draft[] => ds.sort((a, b) => (a.type === b.type ? (a.uid < b.uid ? -1 : 1) : a.type < b.type ? -1 : 1));
    const schemaFail = (bad: boolean): void => {
      if (bad) fail('SCHEMA_VIOLATION');
    };
    const typeName = (t: string): void => {
      if (!namePattern.test(t)) fail('INVALID_INSTRUCTION');
    };
    const newAtom = (uid: Uid, kind: AtomKind, type: string, ref: string | undefined, ends?: { source: Uid; target: Uid }): Draft => {
      if (ref !== undefined && (ref === '' || names.has(ref))) fail('INVALID_INSTRUCTION');
      if (drafts.has(uid)) fail('CONFLICT');
      const d: Draft = { uid, kind, type, created: next, alive: true, used: true, ended: false, createdNow: true, ...ends };
      drafts.set(uid, d);
      if (ref !== undefined) names.set(ref, uid);
      created.push(ends ? { op: 'Created', uid, kind, type, source: ends.source, target: ends.target } : { op: 'Created', uid, kind, type });
      return d;
    };
    const relate = (uid: Uid, type: string, s: Draft, t: Draft, ref: string | undefined): Draft => {
      const rules = this.schema?.relations;
      if (rules !== undefined) {
        const rule = rules[type];
        schemaFail(rule === undefined);
        schemaFail(rule?.source !== undefined && !rule.source.includes(s.type));
        schemaFail(rule?.target !== undefined && !rule.target.includes(t.type));
        schemaFail(rule?.cardinality === 'one' && liveOut(s.uid).some((r) => r.type === type));
      }
      return newAtom(uid, 'relation', type, ref, { source: s.uid, target: t.uid });
    };
    const assign = (d: Draft, v: Value): void => {
      if (d.kind !== 'attribute') fail('TYPE_MISMATCH');
      if ((v.type === 'Int' || v.type === 'Time') && (v.value < -(2n ** 63n) || v.value >= 2n ** 63n)) fail('INVALID_INSTRUCTION');
      if (v.type === 'Enum' && (!/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(v.enum) || v.value === '')) fail('INVALID_INSTRUCTION');
      if (v.type === 'Quantity' && !/^[A-Za-z_][A-Za-z0-9_./-]*$/.test(v.unit)) fail('INVALID_INSTRUCTION');
      if (typeOfValue(v) !== d.type) fail('TYPE_MISMATCH');
      if (v.type === 'Enum' && this.schema?.enums !== undefined) {
        const symbols = this.schema.enums[v.enum];
        schemaFail(symbols === undefined || !symbols.includes(v.value));
      }
      if (d.assignedNow !== undefined) {
        if (!equalValues(d.assignedNow, v)) fail('CONFLICT');
        return;
      }
      d.assignedNow = v;
      d.value = v;
      assignOrder.push(d.uid);
    };
    const uidFor = (given: string | undefined, ref: string | undefined, index: number): Uid => {
      if (given !== undefined) {
        checkUid(given);
        return given;
      }
      return modelUid(this.graph, tx.txId, ref === undefined ? `index:${index}` : `ref:${ref}`);
    };

    tx.instructions.forEach((ins, index) => {
      at = index;
      switch (ins.op) {
        case 'CreateEntity':
          typeName(ins.type);
          schemaFail(this.schema?.entities !== undefined && !this.schema.entities.includes(ins.type));
          newAtom(uidFor(ins.uid, ins.ref, index), 'entity', ins.type, ins.ref);
          break;
        case 'CreateAttribute': {
          if (!isValueTypeName(ins.valueType)) fail('INVALID_INSTRUCTION');
          const d = newAtom(uidFor(ins.uid, ins.ref, index), 'attribute', ins.valueType, ins.ref);
          if (ins.value !== undefined) assign(d, ins.value);
          break;
        }
        case 'CreateRelation': {
          typeName(ins.type);
          const uid = uidFor(ins.uid, ins.ref, index);
          relate(uid, ins.type, use(ins.source), use(ins.target), ins.ref);
          break;
        }
        case 'Assign':
          assign(use(ins.target), ins.value);
          break;
        case 'SetField': {
          typeName(ins.relation);
          const s = use(ins.subject);
          const fields = liveOut(s.uid).filter((r) => r.type === ins.relation);
          if (fields.length > 1) fail('CONFLICT');
          const field = fields[0];
          if (field === undefined) {
            const attr = newAtom(modelUid(this.graph, tx.txId, `index:${index}/attribute`), 'attribute', typeOfValue(ins.value), undefined);
            relate(modelUid(this.graph, tx.txId, `index:${index}/relation`), ins.relation, s, attr, undefined);
            assign(attr, ins.value);
          } else {
            assign(use({ uid: field.target as Uid }), ins.value);
          }
          break;
        }
        case 'Terminate': {
          const d = lookup(ins.target);
          if (d.ended || !d.alive) break;
          if (d.used) fail('CONFLICT');
          const end = (x: Draft, cascade: boolean): void => {
            x.alive = false;
            x.ended = true;
            ended.push({ op: 'Terminated', uid: x.uid, cascade, kind: x.kind, type: x.type });
          };
          end(d, false);
          const queue = [d];
          while (queue.length > 0) {
            const x = queue.shift() as Draft;
            for (const r of [...sorted(liveOut(x.uid)), ...sorted(liveIn(x.uid))]) {
              if (!r.alive) continue;
              if (r.used) fail('CONFLICT');
              end(r, true);
              queue.push(r);
            }
          }
          break;
        }
        case 'Merge': {
          checkUid(ins.uid);
          if (ins.kind === 'attribute') {
            if (!isValueTypeName(ins.type)) fail('INVALID_INSTRUCTION');
          } else typeName(ins.type);
          const ends = ins.source !== undefined || ins.target !== undefined;
          if (ins.kind === 'relation' ? ins.source === undefined || ins.target === undefined : ends) fail('INVALID_INSTRUCTION');
          if (ins.value !== undefined && ins.kind !== 'attribute') fail('INVALID_INSTRUCTION');
          const existing = drafts.get(ins.uid);
          if (existing !== undefined) {
            if (existing.kind !== ins.kind || existing.type !== ins.type) fail('CONFLICT');
            if (ins.source !== undefined && lookup(ins.source).uid !== existing.source) fail('CONFLICT');
            if (ins.target !== undefined && lookup(ins.target).uid !== existing.target) fail('CONFLICT');
            break;
          }
          if (ins.kind === 'relation') {
            relate(ins.uid, ins.type, use(ins.source as Ref), use(ins.target as Ref), undefined);
            break;
          }
          if (ins.kind === 'entity') schemaFail(this.schema?.entities !== undefined && !this.schema.entities.includes(ins.type));
          const d = newAtom(ins.uid, ins.kind, ins.type, undefined);
          if (ins.value !== undefined) assign(d, ins.value);
          break;
        }
      }
    });

    const assigned: Change[] = [];
    for (const uid of assignOrder) {
      const d = drafts.get(uid) as Draft;
      const value = d.assignedNow as Value;
      if (d.valueBefore !== undefined && equalValues(d.valueBefore, value)) continue;
      assigned.push(d.valueBefore === undefined ? { op: 'Assigned', uid, value } : { op: 'Assigned', uid, previous: d.valueBefore, value });
    }
    const changes = [...created, ...assigned, ...ended];
    if (changes.length === 0) {
      this.txs.set(tx.txId, null);
      return { outcome: 'unchanged' };
    }
    const slice = new Map<Uid, ModelAtom>();
    for (const d of drafts.values()) {
      if (!d.alive) continue;
      const atom: { -readonly [K in keyof ModelAtom]: ModelAtom[K] } = { uid: d.uid, kind: d.kind, type: d.type, created: d.created };
      if (d.source !== undefined) atom.source = d.source;
      if (d.target !== undefined) atom.target = d.target;
      if (d.value !== undefined) atom.value = d.value;
      slice.set(d.uid, atom);
    }
    for (const c of created) this.lifetimes.set(c.uid, { created: next, kind: (c as { kind: AtomKind }).kind, type: (c as { type: string }).type });
    for (const c of ended) (this.lifetimes.get(c.uid) as { terminated?: number }).terminated = next;
    this.slices.push(slice);
    // Slice times never decrease: a time earlier than the previous slice's is raised to it.
    const time = Math.max(tx.time ?? recordTime, this.times[this.times.length - 1] as number);
    this.times.push(time);
    this.txs.set(tx.txId, next);
    return { outcome: 'applied', slice: next, time, changes };
  }

  /** The slice a graph was at at time t: the last one stamped at or before t (0 when none was). */
  sliceAt(time: number): number {
    let slice = 0;
    for (let s = 1; s < this.times.length; s += 1) if ((this.times[s] as number) <= time) slice = s;
    return slice;
  }

  /** The slice a txId made (null: it changed nothing), or undefined when never applied. */
  sliceOfTx(txId: string): number | null | undefined {
    return this.txs.get(txId);
  }

  /** The atom at slice s, or undefined. */
  atomAt(uid: Uid, s: number): ModelAtom | undefined {
    return this.slices[s]?.get(uid);
  }

  /** Relations of an atom at slice s, ordered by type then uid. */
  relationsAt(uid: Uid, direction: 'out' | 'in', s: number): { uid: Uid; type: string; other: Uid }[] {
    const all = [...(this.slices[s]?.values() ?? [])].filter((a) => a.kind === 'relation' && (direction === 'out' ? a.source === uid : a.target === uid));
    return all
      .map((r) => ({ uid: r.uid, type: r.type, other: (direction === 'out' ? r.target : r.source) as Uid }))
      .sort((a, b) => (a.type === b.type ? (a.uid < b.uid ? -1 : 1) : a.type < b.type ? -1 : 1));
  }

  /** Uids of the entities or relations of a type alive at slice s, ordered by uid (attributes are not indexed by type). */
  atomsOfType(type: string, s: number): Uid[] {
    return [...(this.slices[s]?.values() ?? [])].filter((a) => a.type === type && a.kind !== 'attribute').map((a) => a.uid).sort();
  }
}
