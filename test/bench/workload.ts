import type { GraphTransaction, Instruction, Uid, Value } from '../../processors/engine/model';

/**
 * A deterministic (seeded) CRM / social graph workload: people and companies with fields, people
 * who work at companies and know each other, field updates, job moves and some terminations, a
 * few instructions per transaction, spread over several graphs. Every transaction is valid; the
 * same seed gives the same transactions, byte for byte.
 *
 * State is a few typed arrays per graph (no uid strings kept), so generating millions of
 * transactions costs little memory next to what is measured.
 */
export interface WorkloadOptions {
  readonly seed: number;
  readonly graphs: number;
  /** Graph ids are `<prefix><n>`. */
  readonly graphPrefix?: string;
  /** Expected people per graph (sizes the arrays; more are allowed). */
  readonly peoplePerGraph?: number;
}

/** A small fast PRNG (mulberry32); `next()` is uniform in [0, 1). */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Skewed towards small numbers: a few hot atoms take most updates, as in real graphs. */
  skewed(n: number): number {
    return Math.min(n - 1, Math.floor(n * this.next() ** 3));
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
}

const kinds = { person: 1, company: 2, worksAt: 3, knows: 4 } as const;

/** A uid for the n-th atom of a kind in a graph: unique, and spread over the key space. */
export function workloadUid(kind: keyof typeof kinds, graph: number, n: number): Uid {
  let h = Math.imul(n ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(graph + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) >>> 0;
  return `${h.toString(16).padStart(8, '0')}${kinds[kind].toString(16).padStart(2, '0')}${graph.toString(16).padStart(6, '0')}${n.toString(16).padStart(16, '0')}`;
}

const firstNames = ['Ada', 'Alan', 'Grace', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Tony', 'Radia', 'Niklaus'];
const lastNames = ['Lovelace', 'Turing', 'Hopper', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Hoare', 'Perlman', 'Wirth'];
const titles = ['engineer', 'manager', 'director', 'analyst', 'founder'];
const sectors = ['software', 'finance', 'health', 'energy', 'retail'];

class GraphWorkload {
  people = 0;
  companies = 0;
  knows = 0;
  private alive = new Uint8Array(1024);
  private employer = new Int32Array(1024).fill(-1);
  private job = new Int32Array(1024).fill(-1);
  private jobs = 0;
  /** Recent Knows relations (terminating one already ended by a cascade is a harmless no-op). */
  private readonly recentKnows = new Int32Array(4096).fill(-1);

  constructor(
    readonly index: number,
    readonly id: string,
    capacity: number,
  ) {
    this.grow(capacity);
  }

  private grow(capacity: number): void {
    if (capacity <= this.alive.length) return;
    const size = Math.max(capacity, this.alive.length * 2);
    const alive = new Uint8Array(size);
    alive.set(this.alive);
    const employer = new Int32Array(size).fill(-1);
    employer.set(this.employer);
    const job = new Int32Array(size).fill(-1);
    job.set(this.job);
    [this.alive, this.employer, this.job] = [alive, employer, job];
  }

  private livePerson(random: Random): number | undefined {
    for (let attempt = 0; attempt < 4 && this.people > 0; attempt += 1) {
      const p = this.people - 1 - random.skewed(this.people);
      if (this.alive[p] === 1) return p;
    }
    return undefined;
  }

  next(random: Random, txId: string): GraphTransaction {
    const tx = (instructions: Instruction[]): GraphTransaction => ({ graph: this.id, txId, instructions });
    const person = (p: number): { uid: Uid } => ({ uid: workloadUid('person', this.index, p) });
    const company = (c: number): { uid: Uid } => ({ uid: workloadUid('company', this.index, c) });
    const roll = random.next();
    const p = this.livePerson(random);

    if (this.companies < 5 || roll < 0.03) {
      const c = this.companies++;
      return tx([
        { op: 'CreateEntity', uid: company(c).uid, type: 'Company' },
        { op: 'SetField', subject: company(c), relation: 'name', value: { type: 'String', value: `${random.pick(lastNames)} ${random.pick(sectors)} ${c}` } },
        { op: 'SetField', subject: company(c), relation: 'sector', value: { type: 'Enum', enum: 'Sector', value: random.pick(sectors) } },
      ]);
    }
    if (p === undefined || roll < 0.33) {
      const n = this.people++;
      this.grow(this.people);
      this.alive[n] = 1;
      const c = random.skewed(this.companies);
      const j = this.jobs++;
      this.employer[n] = c;
      this.job[n] = j;
      return tx([
        { op: 'CreateEntity', uid: person(n).uid, type: 'Person' },
        { op: 'SetField', subject: person(n), relation: 'name', value: { type: 'String', value: `${random.pick(firstNames)} ${random.pick(lastNames)}` } },
        { op: 'SetField', subject: person(n), relation: 'email', value: { type: 'String', value: `p${n}@g${this.index}.example.org` } },
        { op: 'CreateRelation', uid: workloadUid('worksAt', this.index, j), type: 'WorksAt', source: person(n), target: company(c) },
      ]);
    }
    if (roll < 0.68) {
      const instructions: Instruction[] = [{ op: 'SetField', subject: person(p), relation: 'score', value: { type: 'Int', value: BigInt(random.int(1_000_000)) } }];
      if (random.next() < 0.5) instructions.push({ op: 'SetField', subject: person(p), relation: 'title', value: { type: 'Enum', enum: 'Title', value: random.pick(titles) } });
      if (random.next() < 0.3) instructions.push({ op: 'SetField', subject: person(p), relation: 'active', value: { type: 'Bool', value: random.next() < 0.8 } });
      return tx(instructions);
    }
    if (roll < 0.88) {
      const q = this.livePerson(random);
      if (q === undefined || q === p) return tx([{ op: 'SetField', subject: person(p), relation: 'lastSeen', value: seen(random) }]);
      const k = this.knows++;
      this.recentKnows[k % this.recentKnows.length] = k;
      return tx([
        { op: 'CreateRelation', ref: 'k', uid: workloadUid('knows', this.index, k), type: 'Knows', source: person(p), target: person(q) },
        { op: 'CreateAttribute', ref: 'since', valueType: 'Time', value: seen(random) },
        { op: 'CreateRelation', type: 'since', source: { ref: 'k' }, target: { ref: 'since' } },
      ]);
    }
    if (roll < 0.95) {
      const c = random.skewed(this.companies);
      const j = this.jobs++;
      const instructions: Instruction[] = [{ op: 'Terminate', target: { uid: workloadUid('worksAt', this.index, this.job[p] as number) } }];
      instructions.push({ op: 'CreateRelation', uid: workloadUid('worksAt', this.index, j), type: 'WorksAt', source: person(p), target: company(c) });
      this.employer[p] = c;
      this.job[p] = j;
      return tx(instructions);
    }
    if (roll < 0.985 && this.knows > 0) {
      const k = this.recentKnows[random.int(Math.min(this.knows, this.recentKnows.length))] as number;
      return tx([{ op: 'Terminate', target: { uid: workloadUid('knows', this.index, k) } }]);
    }
    this.alive[p] = 0;
    return tx([{ op: 'Terminate', target: person(p) }]);
  }
}

function seen(random: Random): Value {
  return { type: 'Time', value: 1_600_000_000_000_000n + BigInt(random.int(100_000_000)) * 1_000_000n };
}

/** An endless, deterministic stream of transactions, round-robin-ish over the graphs. */
export function* workload(options: WorkloadOptions): Generator<GraphTransaction> {
  const random = new Random(options.seed);
  const prefix = options.graphPrefix ?? 'graph-';
  const graphs = Array.from({ length: options.graphs }, (_, i) => new GraphWorkload(i, `${prefix}${i}`, options.peoplePerGraph ?? 1024));
  for (let n = 0; ; n += 1) {
    const graph = graphs[random.int(graphs.length)] as GraphWorkload;
    yield graph.next(random, `tx-${n}`);
  }
}
