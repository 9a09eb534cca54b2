import { createHash } from 'node:crypto';
import type { GraphTransaction, Instruction, Uid, Value } from '../../processors/engine/model';
import { Random } from '../bench/workload';

/**
 * The demo's data set: CRM graphs that fit `topology/demo.yaml`'s graph schema (companies,
 * people who work at them at some level and know each other, deals moving through their stages),
 * a few hundred transactions over several graphs, and a handful of records that are wrong on
 * purpose, each for a different reason. Deterministic for a seed; graph ids carry a run id so that
 * a second run on the same cluster folds new graphs.
 */
export interface DemoRecord {
  readonly graph: string;
  /** The transaction, or a raw record (sent as JSON, possibly malformed, possibly mis-keyed). */
  readonly tx?: GraphTransaction;
  readonly raw?: { readonly key: string | null; readonly json: string };
  /** What the processor should make of it. */
  readonly expect: 'applied' | 'duplicate' | 'DECODE_ERROR' | 'INVALID_INSTRUCTION' | 'NOT_FOUND' | 'TYPE_MISMATCH' | 'SCHEMA_VIOLATION' | 'STALE_SLICE';
}

const tenants = ['acme', 'globex', 'initech', 'umbrella'];
const companies = ['Analytical Engines', 'Difference Works', 'Jacquard Looms', 'Babbage & Sons', 'Zuse Rechner'];
const firstNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken', 'Margaret', 'Tony', 'Radia', 'Niklaus'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Allen', 'Thompson', 'Hamilton', 'Hoare', 'Perlman', 'Wirth'];
const levels = ['junior', 'senior', 'principal'];
const stages = ['lead', 'qualified', 'proposal'];

function uid(graph: string, what: string): Uid {
  return createHash('sha256').update(`demo\0${graph}\0${what}`).digest('hex').slice(0, 32);
}

const text = (value: string): Value => ({ type: 'String', value });
const eur = (value: number): Value => ({ type: 'Quantity', unit: 'EUR', value });
const seniority = (value: string): Value => ({ type: 'Enum', enum: 'Seniority', value });
const stage = (value: string): Value => ({ type: 'Enum', enum: 'DealStage', value });

export function demoRecords(runId: string, seed = 2026): DemoRecord[] {
  const random = new Random(seed);
  const records: DemoRecord[] = [];
  for (const tenant of tenants) {
    const graph = `${tenant}-${runId}`;
    let n = 0;
    const tx = (instructions: Instruction[], expect: DemoRecord['expect'] = 'applied', extra: Partial<GraphTransaction> = {}): void => {
      records.push({ graph, tx: { graph, txId: `${tenant}-${n++}`, instructions, ...extra }, expect });
    };
    const person = (i: number): { uid: Uid } => ({ uid: uid(graph, `person-${i}`) });
    const company = (i: number): { uid: Uid } => ({ uid: uid(graph, `company-${i}`) });
    const deal = (i: number): { uid: Uid } => ({ uid: uid(graph, `deal-${i}`) });
    const job = (i: number, k: number): Uid => uid(graph, `job-${i}-${k}`);

    for (let c = 0; c < 3; c += 1) {
      tx([
        { op: 'CreateEntity', uid: company(c).uid, type: 'Company' },
        { op: 'SetField', subject: company(c), relation: 'Name', value: text(companies[(c + tenants.indexOf(tenant)) % companies.length] as string) },
        { op: 'SetField', subject: company(c), relation: 'Founded', value: { type: 'Time', value: BigInt(1_800_000_000 + random.int(400_000_000)) * 1_000_000n - 4_000_000_000_000_000n } },
      ]);
    }
    const people = 10;
    const employer: number[] = [];
    for (let p = 0; p < people; p += 1) {
      employer[p] = random.int(3);
      tx([
        { op: 'CreateEntity', uid: person(p).uid, type: 'Person' },
        { op: 'SetField', subject: person(p), relation: 'Name', value: text(`${random.pick(firstNames)} ${random.pick(lastNames)}`) },
        { op: 'SetField', subject: person(p), relation: 'Email', value: text(`person${p}@${tenant}.example`) },
        { op: 'CreateRelation', uid: job(p, 0), type: 'WorksAt', source: person(p), target: company(employer[p] as number) },
        { op: 'SetField', subject: { uid: job(p, 0) }, relation: 'Level', value: seniority(random.pick(levels)) },
      ]);
    }
    for (let k = 0; k < 12; k += 1) {
      const a = random.int(people);
      const b = (a + 1 + random.int(people - 1)) % people;
      tx([{ op: 'CreateRelation', type: 'Knows', source: person(a), target: person(b) }]);
    }
    const deals = 8;
    for (let d = 0; d < deals; d += 1) {
      tx([
        { op: 'CreateEntity', uid: deal(d).uid, type: 'Deal' },
        { op: 'SetField', subject: deal(d), relation: 'Name', value: text(`Deal ${d + 1} for ${tenant}`) },
        { op: 'CreateRelation', type: 'Customer', source: deal(d), target: company(random.int(3)) },
        { op: 'CreateRelation', type: 'Owner', source: deal(d), target: person(random.int(people)) },
        { op: 'SetField', subject: deal(d), relation: 'Stage', value: stage('lead') },
        { op: 'SetField', subject: deal(d), relation: 'Amount', value: eur(1_000 * (5 + random.int(95))) },
      ]);
    }
    for (const next of stages.slice(1)) {
      for (let d = 0; d < deals; d += 1) {
        if (random.next() < 0.25) continue;
        const instructions: Instruction[] = [{ op: 'SetField', subject: deal(d), relation: 'Stage', value: stage(next) }];
        if (random.next() < 0.4) instructions.push({ op: 'SetField', subject: deal(d), relation: 'Amount', value: eur(1_000 * (5 + random.int(95))) });
        tx(instructions);
      }
    }
    for (let d = 0; d < deals; d += 1) tx([{ op: 'SetField', subject: deal(d), relation: 'Stage', value: stage(random.next() < 0.6 ? 'won' : 'lost') }]);
    for (let p = 0; p < 3; p += 1) {
      const moved = ((employer[p] as number) + 1) % 3;
      tx([
        { op: 'Terminate', target: { uid: job(p, 0) } },
        { op: 'CreateRelation', uid: job(p, 1), type: 'WorksAt', source: person(p), target: company(moved) },
        { op: 'SetField', subject: { uid: job(p, 1) }, relation: 'Level', value: seniority('senior') },
      ]);
    }
    tx([{ op: 'Terminate', target: person(people - 1) }]);

    tx([{ op: 'SetField', subject: deal(0), relation: 'Stage', value: stage('negotiation') }], 'SCHEMA_VIOLATION');
    tx([{ op: 'CreateEntity', type: 'Robot' }], 'SCHEMA_VIOLATION');
    tx([{ op: 'CreateRelation', type: 'Owner', source: deal(1), target: person(2) }], 'SCHEMA_VIOLATION');
    tx([{ op: 'SetField', subject: deal(2), relation: 'Amount', value: text('a lot') }], 'TYPE_MISMATCH');
    tx([{ op: 'SetField', subject: person(people - 1), relation: 'Email', value: text('gone@nowhere') }], 'NOT_FOUND');
    tx([{ op: 'CreateEntity', type: 'Person' }], 'STALE_SLICE', { expectSlice: 1 });
    const first = records.find((r) => r.graph === graph)?.tx as GraphTransaction;
    records.push({ graph, tx: first, expect: 'duplicate' });
    records.push({ graph, raw: { key: graph, json: `{"graph": "${graph}", "txId": "${tenant}-broken", "instructions": [` }, expect: 'DECODE_ERROR' });
    records.push({ graph, raw: { key: 'somebody-else', json: JSON.stringify({ graph, txId: `${tenant}-miskeyed`, instructions: [] }) }, expect: 'INVALID_INSTRUCTION' });
  }
  return records;
}
