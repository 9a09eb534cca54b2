import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { deriveUid } from '../../../processors/engine/uid';
import { TransactionBuilder } from '../../../processors/sdk/builder';
import { generateSchemaModule } from '../../../processors/sdk/codegen';
import { parseTopology } from '../../../topology/loader';

const repo = resolve(__dirname, '../../..');
const demo = parseTopology(readFileSync(join(repo, 'topology/demo.yaml'), 'utf8'), 'topology/demo.yaml', { env: { KAFKA_BROKERS: 'k:9092', SCHEMA_REGISTRY_URL: 'http://r' }, baseDir: join(repo, 'topology') });
const crm = demo.processors[0];

/** Compiles files (name -> source) beside the generated module, strictly; returns the errors per file. */
function compile(files: Record<string, string>): Record<string, string[]> {
  const dir = mkdtempSync(join(tmpdir(), 'graphfold-codegen-'));
  writeFileSync(join(dir, 'crm.ts'), generateSchemaModule(crm?.schema, { processor: 'crm', origin: 'topology/demo.yaml', sdkModule: join(repo, 'processors/sdk') }));
  for (const [name, source] of Object.entries(files)) writeFileSync(join(dir, name), `import { crmTransaction } from './crm';\n${source}\n`);
  const program = ts.createProgram(
    Object.keys(files).map((f) => join(dir, f)),
    { strict: true, noEmit: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16, types: ['node'], skipLibCheck: true, typeRoots: [join(repo, 'node_modules/@types')] },
  );
  const errors: Record<string, string[]> = {};
  for (const name of Object.keys(files)) {
    const file = program.getSourceFile(join(dir, name));
    errors[name] = ts.getPreEmitDiagnostics(program, file).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  }
  return errors;
}

describe('graphfold schema codegen: typed builders from a graph schema', () => {
  test('right types compile; a wrong entity type, relation end, field, value type or enum symbol is a compile error', () => {
    const errors = compile({
      'valid.ts': [
        "const tx = crmTransaction('acme', { txId: 'tx-1' });",
        "const ada = tx.create('Person', 'ada');",
        "const acme = tx.create('Company');",
        "const job = tx.relate('WorksAt', ada, acme);",
        "tx.set(ada, 'Name', 'Ada').set(acme, 'Founded', new Date(0)).set(job, 'Level', 'principal');",
        "const deal = tx.create('Deal');",
        "tx.set(deal, 'Stage', 'won').set(deal, 'Amount', 1250.5).relate('Owner', deal, ada);",
        "tx.terminate(tx.existing('Person', 'a'.repeat(32)));",
        'export const built = tx.build();',
      ].join('\n'),
      'entity.ts': "crmTransaction('g').create('Robot');",
      'end.ts': "const t = crmTransaction('g'); t.relate('WorksAt', t.create('Company'), t.create('Company'));",
      'field.ts': "const t = crmTransaction('g'); t.set(t.create('Company'), 'Email', 'x@example.com');",
      'value.ts': "const t = crmTransaction('g'); t.set(t.create('Person'), 'Name', 42);",
      'symbol.ts': "const t = crmTransaction('g'); t.set(t.create('Deal'), 'Stage', 'maybe');",
    });
    expect(errors['valid.ts']).toEqual([]);
    expect(errors['entity.ts']?.join()).toMatch(/"Robot"/);
    expect(errors['end.ts']?.join()).toMatch(/"Company"' is not assignable to type '"Person"'/);
    expect(errors['field.ts']?.join()).toMatch(/"Email"/);
    expect(errors['value.ts']?.join()).toMatch(/number' is not assignable to parameter of type 'string'/);
    expect(errors['symbol.ts']?.join()).toMatch(/"maybe"/);
  }, 60_000);

  test("the README's example compiles against the demo topology's generated module", () => {
    const readme = readFileSync(join(repo, 'README.md'), 'utf8');
    const example = /<!-- recipe: ts-builder -->\n```ts\n([\s\S]*?)\n```/.exec(readme)?.[1] ?? '';
    expect(example).toContain("from './crm-graph'");
    const errors = compile({ 'readme.ts': `${example.replace(/^import .*\n/, '')}\nexport const built = tx.build();` });
    expect(errors['readme.ts']).toEqual([]);
  }, 60_000);

  test('the builder makes the transaction graphfold reads, with the uids graphfold derives', () => {
    const tx = new TransactionBuilder('acme', { txId: 'tx-1', expectSlice: 3 });
    const ada = tx.create('Person', 'ada');
    const acme = tx.create('Company');
    tx.relate('WorksAt', ada, acme, 'job');
    tx.set(ada, 'Name', { type: 'String', value: 'Ada' });
    expect(ada.uid).toBe(deriveUid('acme', 'tx-1', { ref: 'ada' }));
    expect(acme).toEqual({ type: 'Company', uid: deriveUid('acme', 'tx-1', { ref: '_1' }), ref: { ref: '_1' } });
    expect(tx.build()).toEqual({
      graph: 'acme',
      txId: 'tx-1',
      expectSlice: 3,
      instructions: [
        { op: 'CreateEntity', ref: 'ada', type: 'Person' },
        { op: 'CreateEntity', ref: '_1', type: 'Company' },
        { op: 'CreateRelation', ref: 'job', type: 'WorksAt', source: { ref: 'ada' }, target: { ref: '_1' } },
        { op: 'SetField', subject: { ref: 'ada' }, relation: 'Name', value: { type: 'String', value: 'Ada' } },
      ],
    });
    expect(() => tx.create('Person', 'ada')).toThrow("local name 'ada' is bound twice");
  });

  test('values are made from what set is given, by the field\'s value type; a wrong one is refused at run time too', () => {
    const types = { Name: 'String', Founded: 'Time', Level: 'Enum:Seniority', Amount: 'Quantity:EUR', Size: 'Int', Photo: 'Bytes', Either: ['String', 'Int'] } as const;
    const tx = new TransactionBuilder('g', { txId: 't' }, types);
    const a = tx.create('Person');
    const set = (field: string, value: unknown): unknown => (tx.set(a, field, value as never), (tx.build().instructions.at(-1) as { value: unknown }).value);
    expect(set('Founded', new Date(1_000))).toEqual({ type: 'Time', value: 1_000_000n });
    expect(set('Level', 'lead')).toEqual({ type: 'Enum', enum: 'Seniority', value: 'lead' });
    expect(set('Amount', 2.5)).toEqual({ type: 'Quantity', unit: 'EUR', value: 2.5 });
    expect(set('Size', 7)).toEqual({ type: 'Int', value: 7n });
    expect(set('Size', 2n ** 62n)).toEqual({ type: 'Int', value: 2n ** 62n });
    expect(set('Photo', Buffer.from([1]))).toEqual({ type: 'Bytes', value: Buffer.from([1]) });
    expect(set('Either', { type: 'Int', value: 1n })).toEqual({ type: 'Int', value: 1n });
    expect(() => set('Size', 1.5)).toThrow('field Size holds Int values; got number 1.5');
    expect(() => set('Either', { type: 'Bool', value: true })).toThrow('field Either: expected a Value of type String or Int');
  });

  test('a processor without a graph schema gets open types', () => {
    const text = generateSchemaModule(undefined, { processor: 'orders-graph', origin: 't.yaml' });
    expect(text).toContain('export interface OrdersGraphSchema {');
    expect(text).toContain('  readonly entities: string;');
    expect(text).toContain("import { TransactionBuilder, type TransactionOptions, type Value } from 'graphfold/dist/processors/sdk';");
    expect(text).toContain('export function ordersGraphTransaction(graph: string, options?: TransactionOptions): TransactionBuilder<OrdersGraphSchema> {');
  });
});
