import { formatMicros, prettyDiff, prettyRejection, prettyTransaction, recordJson } from '../../../processors/cli/pretty';

const ada = 'a'.repeat(32);
const name = 'b'.repeat(32);
const acme = 'c'.repeat(32);
const works = 'd'.repeat(32);

describe('how tail prints records', () => {
  test('a diff: one header line, then one line per change', () => {
    const text = prettyDiff({
      graph: 'acme',
      slice: 3,
      txId: 'tx-3',
      time: 1_735_725_600_000_123,
      source: { topic: 'crm-instructions', partition: 1, offset: 17 },
      changes: [
        { op: 'Created', uid: ada, kind: 'entity', type: 'Person' },
        { op: 'Created', uid: works, kind: 'relation', type: 'WorksAt', source: ada, target: acme },
        { op: 'Assigned', uid: name, value: { type: 'String', value: 'Ada Lovelace' }, previous: { type: 'String', value: 'Ada' } },
        { op: 'Assigned', uid: name, value: { type: 'Enum', enum: 'Stage', value: 'won' } },
        { op: 'Terminated', uid: acme, cascade: false, kind: 'entity', type: 'Company' },
        { op: 'Terminated', uid: works, cascade: true, kind: 'relation', type: 'WorksAt' },
      ],
    });
    expect(text).toBe(
      [
        'diff  graph=acme  slice=3  txId=tx-3  time=2025-01-01T10:00:00.000123Z  from=crm-instructions/1@17',
        `  created     entity    Person  ${ada}`,
        `  created     relation  WorksAt  ${works}  ${ada} -> ${acme}`,
        `  assigned    ${name}  "Ada Lovelace"  (was "Ada")`,
        `  assigned    ${name}  won (Stage)`,
        `  terminated  entity    Company  ${acme}`,
        `  terminated  relation  WorksAt  ${works}  (cascade)`,
      ].join('\n'),
    );
  });

  test('a rejection: code, graph, txId and origin, then the reason', () => {
    const rejection = { graph: 'acme', txId: 'tx-9', code: 'CONFLICT', message: 'uid x already exists', instructionIndex: 2, source: { topic: 'crm-instructions', partition: 0, offset: 44 }, payload: Buffer.from('abc') } as const;
    expect(prettyRejection(rejection)).toBe(['rejection  code=CONFLICT  graph=acme  txId=tx-9  instruction=2  from=crm-instructions/0@44  payload=3 bytes', '  uid x already exists'].join('\n'));
    expect(prettyRejection({ code: 'DECODE_ERROR', message: 'not Avro', source: { topic: 't', partition: 0, offset: 1 }, payload: Buffer.alloc(0) })).toBe(
      ['rejection  code=DECODE_ERROR  from=t/0@1  payload=0 bytes', '  not Avro'].join('\n'),
    );
    expect(JSON.parse(recordJson({ kind: 'rejection', rejection }))).toEqual({ ...rejection, payload: 'YWJj' });
  });

  test('a transaction: graph and txId, then one line per instruction', () => {
    expect(
      prettyTransaction({
        graph: 'acme',
        txId: 'tx-1',
        expectSlice: 2,
        instructions: [
          { op: 'CreateEntity', ref: 'ada', type: 'Person' },
          { op: 'CreateAttribute', ref: 'age', valueType: 'Int', value: { type: 'Int', value: 36n } },
          { op: 'CreateRelation', type: 'Knows', source: { ref: 'ada' }, target: { uid: acme } },
          { op: 'SetField', subject: { ref: 'ada' }, relation: 'Name', value: { type: 'String', value: 'Ada' } },
          { op: 'Assign', target: { ref: 'age' }, value: { type: 'Int', value: 37n } },
          { op: 'Terminate', target: { uid: acme } },
          { op: 'Merge', uid: works, kind: 'relation', type: 'WorksAt', source: { uid: ada }, target: { uid: acme } },
        ],
      }),
    ).toBe(
      [
        'transaction  graph=acme  txId=tx-1  expectSlice=2',
        '  CreateEntity     ada: Person',
        '  CreateAttribute  age: Int = 36',
        `  CreateRelation   _: Knows  ada -> ${acme}`,
        '  SetField         ada.Name := "Ada"',
        '  Assign           age := 37',
        `  Terminate        ${acme}`,
        `  Merge            ${works}: relation WorksAt  ${ada} -> ${acme}`,
      ].join('\n'),
    );
  });

  test('times keep their microseconds', () => {
    expect(formatMicros(0)).toBe('1970-01-01T00:00:00.000000Z');
    expect(formatMicros(1_700_000_000_123_456)).toBe('2023-11-14T22:13:20.123456Z');
  });
});
