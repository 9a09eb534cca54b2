import { TerminalError, type RejectionCode } from '../errors';
import type { AtomKind, Change, GraphDiff, GraphTransaction, Instruction, Ref, SourcePosition, Uid, Value } from './model';
import { entityViolation, isSingular, relationViolation, valueViolation, type GraphSchema } from './schema';
import type { AtomRecord, Direction, GraphState, RelationEdge } from './state';
import { deriveUid, isUid } from './uid';
import { isValueType, sameValue, showValue, valueProblem, valueTypeOf } from './value';

export interface FoldOptions {
  /** The record the transaction came from; copied into the diff and into refusals. */
  readonly source: SourcePosition;
  /**
   * Microseconds since the epoch: the slice time when the transaction carries none. Either way a
   * slice is stamped no earlier than the slice before it (see {@link sliceTime}).
   */
  readonly recordTime: number;
  /** Checked when present. */
  readonly schema?: GraphSchema;
  /** More instructions than this refuses the transaction as TOO_LARGE. */
  readonly maxInstructions: number;
}

export type FoldResult =
  /** A new slice: persist the diff and publish it. */
  | { readonly outcome: 'applied'; readonly diff: GraphDiff }
  /** Every instruction was a no-op: no slice, but the txId is remembered. */
  | { readonly outcome: 'unchanged' }
  /** The txId was seen before (at `slice`, or null when it changed nothing): skipped. */
  | { readonly outcome: 'duplicate'; readonly slice: number | null }
  /** Refused as a whole: nothing of it is applied. */
  | { readonly outcome: 'refused'; readonly error: TerminalError };

/**
 * Validates a transaction against a graph's latest state and, when valid, returns the diff that
 * makes the next slice (schemas/README.md). All or nothing: any refusal returns `refused` and the
 * caller persists nothing. Pure: `state` is only read, and may throw `NotLoaded` (see GraphState).
 */
export function fold(state: GraphState, tx: GraphTransaction, options: FoldOptions): FoldResult {
  try {
    return new Fold(state, tx, options).run();
  } catch (error) {
    if (error instanceof TerminalError) return { outcome: 'refused', error };
    throw error;
  }
}

const namePattern = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** One atom as this transaction sees it: its state before, and what the transaction did to it. */
interface Working {
  readonly uid: Uid;
  readonly kind: AtomKind;
  readonly type: string;
  readonly source?: Uid;
  readonly target?: Uid;
  /** The atom before this transaction; undefined when this transaction creates it. */
  readonly before: AtomRecord | undefined;
  /** Index of the first instruction, other than Terminate, that used this atom. */
  usedBy?: number;
  /** The value this transaction assigns, and the instruction that first assigned it. */
  assigned?: { readonly value: Value; readonly index: number };
  /** How this transaction ended the atom. */
  ended?: { readonly index: number; readonly cascadeOf?: Uid };
}

class Fold {
  private readonly graph: string;
  private readonly names = new Map<string, Uid>();
  private readonly atoms = new Map<Uid, Working>();
  /** Relations created by this transaction, by end: `out:<uid>` / `in:<uid>`. */
  private readonly newEdges = new Map<string, RelationEdge[]>();
  private readonly created: Change[] = [];
  private readonly assignOrder: Working[] = [];
  private readonly terminated: Change[] = [];
  private head = 0;
  private index = -1;

  constructor(
    private readonly state: GraphState,
    private readonly tx: GraphTransaction,
    private readonly options: FoldOptions,
  ) {
    this.graph = state.graph;
  }

  run(): FoldResult {
    const { tx } = this;
    this.head = this.state.head();
    if (tx.graph !== this.graph) this.refuse('INVALID_INSTRUCTION', `transaction names graph '${tx.graph}' but was folded into graph '${this.graph}'`);
    if (this.graph.length === 0 || this.graph.includes('\0')) this.refuse('INVALID_INSTRUCTION', 'graph id must be non-empty and free of NUL characters');
    if (tx.txId.length === 0) this.refuse('INVALID_INSTRUCTION', 'txId must be non-empty');
    if (tx.instructions.length > this.options.maxInstructions) {
      this.refuse('TOO_LARGE', `transaction holds ${tx.instructions.length} instructions; the limit is ${this.options.maxInstructions}: split it`);
    }
    if (tx.time !== undefined && !(Number.isSafeInteger(tx.time) && tx.time >= 0)) {
      this.refuse('INVALID_INSTRUCTION', `time ${tx.time} is not a non-negative integer count of microseconds`);
    }

    const seen = this.state.txSlice(tx.txId);
    if (seen !== undefined) return { outcome: 'duplicate', slice: seen };

    if (tx.expectSlice !== undefined && tx.expectSlice !== this.head) {
      this.refuse('STALE_SLICE', `transaction expects graph '${this.graph}' at slice ${tx.expectSlice}, but it is at slice ${this.head}`);
    }

    tx.instructions.forEach((instruction, index) => {
      this.index = index;
      this.apply(instruction);
    });
    this.index = -1;
    return this.result();
  }

  private apply(instruction: Instruction): void {
    switch (instruction.op) {
      case 'CreateEntity':
        this.checkName(instruction.type, 'entity type');
        this.schemaCheck(this.options.schema && entityViolation(this.options.schema, instruction.type));
        this.create(this.newUid(instruction), 'entity', instruction.type, instruction.ref);
        return;
      case 'CreateAttribute': {
        this.checkValueType(instruction.valueType);
        const atom = this.create(this.newUid(instruction), 'attribute', instruction.valueType, instruction.ref);
        if (instruction.value !== undefined) this.assign(atom, instruction.value);
        return;
      }
      case 'CreateRelation': {
        this.checkName(instruction.type, 'relation type');
        const uid = this.newUid(instruction);
        const source = this.live(instruction.source, 'source');
        const target = this.live(instruction.target, 'target');
        this.createRelation(uid, instruction.type, source, target, instruction.ref);
        return;
      }
      case 'Assign': {
        const target = this.live(instruction.target, 'target');
        this.assign(target, instruction.value);
        return;
      }
      case 'SetField':
        this.setField(instruction.subject, instruction.relation, instruction.value);
        return;
      case 'Terminate':
        this.terminate(instruction.target);
        return;
      case 'Merge':
        this.merge(instruction);
        return;
    }
  }

  // --- instructions -------------------------------------------------------------------------

  private create(uid: Uid, kind: AtomKind, type: string, ref: string | undefined, ends?: { source: Uid; target: Uid }): Working {
    if (ref !== undefined) this.checkUnbound(ref);
    const existing = this.find(uid);
    if (existing !== undefined) {
      const when = existing.before === undefined ? 'earlier in this transaction' : `at slice ${existing.before.created}`;
      this.refuse('CONFLICT', `uid ${uid} already exists (${article(existing.kind)} ${existing.kind} created ${when}); a uid cannot be created twice`);
    }
    const atom: Working = { uid, kind, type, before: undefined, usedBy: this.index, ...ends };
    this.atoms.set(uid, atom);
    if (ref !== undefined) this.names.set(ref, uid);
    this.created.push(ends === undefined ? { op: 'Created', uid, kind, type } : { op: 'Created', uid, kind, type, ...ends });
    if (ends !== undefined) {
      this.addEdge('out', ends.source, { uid, type, other: ends.target });
      this.addEdge('in', ends.target, { uid, type, other: ends.source });
    }
    return atom;
  }

  private createRelation(uid: Uid, type: string, source: Working, target: Working, ref: string | undefined): Working {
    const schema = this.options.schema;
    if (schema !== undefined) {
      this.schemaCheck(relationViolation(schema, type, source.type, target.type));
      if (isSingular(schema, type) && this.edgesOf(source.uid, 'out').some((edge) => edge.type === type)) {
        this.refuse('SCHEMA_VIOLATION', `atom ${source.uid} already has a live '${type}' relation, and the graph schema allows one`);
      }
    }
    return this.create(uid, 'relation', type, ref, { source: source.uid, target: target.uid });
  }

  private assign(atom: Working, value: Value): void {
    if (atom.kind !== 'attribute') this.refuse('TYPE_MISMATCH', `cannot assign a value to ${atom.uid}: it is ${article(atom.kind)} ${atom.kind} (${atom.type}), not an attribute`);
    const problem = valueProblem(value);
    if (problem !== undefined) this.refuse('INVALID_INSTRUCTION', problem);
    const valueType = valueTypeOf(value);
    if (valueType !== atom.type) this.refuse('TYPE_MISMATCH', `attribute ${atom.uid} holds ${atom.type} values; got a ${valueType} value ${showValue(value)}`);
    this.schemaCheck(this.options.schema && valueViolation(this.options.schema, value));
    if (atom.assigned !== undefined) {
      if (!sameValue(atom.assigned.value, value)) {
        this.refuse(
          'CONFLICT',
          `attribute ${atom.uid} is assigned twice with different values (${showValue(atom.assigned.value)} by instruction ${atom.assigned.index}, ${showValue(value)} here)`,
        );
      }
      return;
    }
    atom.assigned = { value, index: this.index };
    this.assignOrder.push(atom);
  }

  private setField(subjectRef: Ref, relation: string, value: Value): void {
    this.checkName(relation, 'relation type');
    const subject = this.live(subjectRef, 'subject');
    const fields = this.edgesOf(subject.uid, 'out').filter((edge) => edge.type === relation);
    const field = fields[0];
    if (fields.length > 1) {
      this.refuse('CONFLICT', `atom ${subject.uid} has ${fields.length} live '${relation}' relations; SetField needs at most one (use Assign on the attribute)`);
    }
    if (field === undefined) {
      const attribute = this.create(deriveUid(this.graph, this.tx.txId, { index: this.index, part: 'attribute' }), 'attribute', valueTypeOf(value), undefined);
      this.createRelation(deriveUid(this.graph, this.tx.txId, { index: this.index, part: 'relation' }), relation, subject, attribute, undefined);
      this.assign(attribute, value);
      return;
    }
    this.assign(this.live({ uid: field.other }, 'field attribute'), value);
  }

  private terminate(ref: Ref): void {
    const atom = this.resolve(ref, 'target');
    if (atom.ended !== undefined) return;
    if (!this.isAlive(atom)) return;
    if (atom.usedBy !== undefined) {
      this.refuse('CONFLICT', `cannot terminate ${atom.uid}: instruction ${atom.usedBy} of this transaction uses it`);
    }
    this.end(atom, undefined);
    const queue: Working[] = [atom];
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) {
      for (const direction of ['out', 'in'] as const) {
        for (const edge of this.edgesOf(next.uid, direction)) {
          const relation = this.resolve({ uid: edge.uid }, 'relation');
          if (relation.ended !== undefined) continue;
          if (relation.usedBy !== undefined) {
            this.refuse('CONFLICT', `terminating ${atom.uid} would also end relation ${relation.uid}, which instruction ${relation.usedBy} of this transaction uses`);
          }
          this.end(relation, atom.uid);
          queue.push(relation);
        }
      }
    }
  }

  private merge(instruction: Extract<Instruction, { op: 'Merge' }>): void {
    const { uid, kind, type } = instruction;
    this.checkUid(uid);
    if (kind === 'attribute') this.checkValueType(type);
    else this.checkName(type, `${kind} type`);
    const hasEnds = instruction.source !== undefined || instruction.target !== undefined;
    if (kind === 'relation' ? instruction.source === undefined || instruction.target === undefined : hasEnds) {
      this.refuse('INVALID_INSTRUCTION', kind === 'relation' ? 'Merge of a relation needs both source and target' : `Merge of ${article(kind)} ${kind} takes no source or target`);
    }
    if (instruction.value !== undefined && kind !== 'attribute') this.refuse('INVALID_INSTRUCTION', `Merge of ${article(kind)} ${kind} takes no value`);

    const existing = this.find(uid);
    if (existing !== undefined) {
      this.checkMergeMatches(existing, instruction);
      return;
    }
    if (instruction.source !== undefined && instruction.target !== undefined) {
      const source = this.live(instruction.source, 'source');
      const target = this.live(instruction.target, 'target');
      this.createRelation(uid, type, source, target, undefined);
      return;
    }
    if (kind === 'entity') this.schemaCheck(this.options.schema && entityViolation(this.options.schema, type));
    const atom = this.create(uid, kind, type, undefined);
    if (instruction.value !== undefined) this.assign(atom, instruction.value);
  }

  private checkMergeMatches(existing: Working, instruction: Extract<Instruction, { op: 'Merge' }>): void {
    const mismatch = (what: string): never =>
      this.refuse('CONFLICT', `Merge of ${existing.uid} as ${instruction.kind} ${instruction.type} conflicts with the existing atom: ${what}`);
    if (existing.kind !== instruction.kind || existing.type !== instruction.type) mismatch(`it is ${article(existing.kind)} ${existing.kind} (${existing.type})`);
    if (instruction.source !== undefined && this.resolve(instruction.source, 'source').uid !== existing.source) mismatch(`its source is ${existing.source}`);
    if (instruction.target !== undefined && this.resolve(instruction.target, 'target').uid !== existing.target) mismatch(`its target is ${existing.target}`);
  }

  // --- atoms and edges ----------------------------------------------------------------------

  /** The atom with this uid, created before or in this transaction, live or not. */
  private find(uid: Uid): Working | undefined {
    const known = this.atoms.get(uid);
    if (known !== undefined) return known;
    const before = this.state.atom(uid);
    if (before === undefined) return undefined;
    const atom: Working = { uid, kind: before.kind, type: before.type, source: before.source, target: before.target, before };
    this.atoms.set(uid, atom);
    return atom;
  }

  private resolve(ref: Ref, role: string): Working {
    if ('ref' in ref) {
      const uid = this.names.get(ref.ref);
      if (uid === undefined) this.refuse('NOT_FOUND', `${role} '${ref.ref}' is not a local name bound earlier in this transaction`);
      return this.atoms.get(uid) as Working;
    }
    this.checkUid(ref.uid);
    const atom = this.find(ref.uid);
    if (atom === undefined) this.refuse('NOT_FOUND', `${role} ${ref.uid} does not exist in graph '${this.graph}'`);
    return atom;
  }

  /** Resolves a ref to an atom alive at this point of the transaction, and marks it used. */
  private live(ref: Ref, role: string): Working {
    const atom = this.resolve(ref, role);
    if (atom.ended !== undefined) {
      const how = atom.ended.cascadeOf === undefined ? '' : ` (its end ${atom.ended.cascadeOf} was terminated)`;
      this.refuse('CONFLICT', `${role} ${atom.uid} was terminated by instruction ${atom.ended.index} of this transaction${how}`);
    }
    if (!this.isAlive(atom)) this.refuse('NOT_FOUND', `${role} ${atom.uid} was terminated at slice ${atom.before?.terminated}`);
    atom.usedBy ??= this.index;
    return atom;
  }

  private isAlive(atom: Working): boolean {
    return atom.ended === undefined && (atom.before === undefined || atom.before.terminated === undefined);
  }

  private end(atom: Working, cascadeOf: Uid | undefined): void {
    atom.ended = cascadeOf === undefined ? { index: this.index } : { index: this.index, cascadeOf };
    this.terminated.push({ op: 'Terminated', uid: atom.uid, cascade: cascadeOf !== undefined, kind: atom.kind, type: atom.type });
  }

  /** The relations out of (or into) an atom that are live at this point of the transaction. */
  private edgesOf(uid: Uid, direction: Direction): RelationEdge[] {
    const before = this.atoms.get(uid)?.before === undefined ? [] : this.state.edges(uid, direction);
    const live = before.filter((edge) => this.atoms.get(edge.uid)?.ended === undefined);
    const added = this.newEdges.get(`${direction}:${uid}`) ?? [];
    return [...live, ...added.filter((edge) => this.atoms.get(edge.uid)?.ended === undefined)];
  }

  private addEdge(direction: Direction, uid: Uid, edge: RelationEdge): void {
    const key = `${direction}:${uid}`;
    const list = this.newEdges.get(key);
    if (list === undefined) this.newEdges.set(key, [edge]);
    else list.push(edge);
  }

  private checkUnbound(ref: string): void {
    if (ref.length === 0) this.refuse('INVALID_INSTRUCTION', 'a local name must be non-empty');
    if (this.names.has(ref)) this.refuse('INVALID_INSTRUCTION', `local name '${ref}' is bound twice in this transaction`);
  }

  private newUid(instruction: { readonly ref?: string; readonly uid?: Uid }): Uid {
    if (instruction.uid !== undefined) {
      this.checkUid(instruction.uid);
      return instruction.uid;
    }
    const name = instruction.ref === undefined ? { index: this.index } : { ref: instruction.ref };
    return deriveUid(this.graph, this.tx.txId, name);
  }

  // --- checks and the result ----------------------------------------------------------------

  private checkUid(uid: string): void {
    if (!isUid(uid)) this.refuse('INVALID_INSTRUCTION', `'${uid}' is not a uid (32 lowercase hex characters)`);
  }

  private checkName(name: string, what: string): void {
    if (!namePattern.test(name)) this.refuse('INVALID_INSTRUCTION', `${what} '${name}' is not a valid name (letters, digits, _ . -; not starting with a digit)`);
  }

  private checkValueType(valueType: string): void {
    if (!isValueType(valueType)) {
      this.refuse('INVALID_INSTRUCTION', `'${valueType}' is not a value type (String, Int, Float, Bool, Time, Bytes, Enum:<Name>, Quantity:<unit>)`);
    }
  }

  private schemaCheck(violation: string | undefined): void {
    if (violation !== undefined) this.refuse('SCHEMA_VIOLATION', violation);
  }

  private refuse(code: RejectionCode, message: string): never {
    const { source } = this.options;
    const at = this.index >= 0 ? `instruction ${this.index} (${this.tx.instructions[this.index]?.op}): ` : '';
    throw new TerminalError(
      code,
      `${at}${message}`,
      { graph: this.tx.graph, txId: this.tx.txId, slice: this.head, topic: source.topic, partition: source.partition, offset: source.offset },
      this.index >= 0 ? { instructionIndex: this.index } : undefined,
    );
  }

  private result(): FoldResult {
    const assigned: Change[] = [];
    for (const atom of this.assignOrder) {
      const { value } = atom.assigned as { value: Value };
      const previous = atom.before?.value;
      if (previous !== undefined && sameValue(previous, value)) continue;
      assigned.push(previous === undefined ? { op: 'Assigned', uid: atom.uid, value } : { op: 'Assigned', uid: atom.uid, previous, value });
    }
    const changes = [...this.created, ...assigned, ...this.terminated];
    if (changes.length === 0) return { outcome: 'unchanged' };
    const diff: GraphDiff = {
      graph: this.graph,
      slice: this.head + 1,
      txId: this.tx.txId,
      time: sliceTime(this.tx.time ?? this.options.recordTime, this.state.headTime()),
      source: this.options.source,
      changes,
    };
    return { outcome: 'applied', diff };
  }
}

/**
 * The time a new slice is stamped with: the transaction's time (or its record's timestamp), but
 * never earlier than the graph's latest slice, so slice times never decrease within a graph and
 * "as of time t" names one slice. Deterministic (law 3): both inputs come from the input log.
 */
export function sliceTime(given: number, headTime: number): number {
  return given < headTime ? headTime : given;
}

function article(kind: AtomKind): string {
  return kind === 'entity' || kind === 'attribute' ? 'an' : 'a';
}
