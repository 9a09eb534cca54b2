// The example of README.md, "Testing your topology", run as written (test/unit/docs/readme-testing.test.ts checks that the two are the same).
import { TopologyTestDriver } from '../../../processors/testing';

describe('the demo topology', () => {
  let driver: TopologyTestDriver;
  beforeEach(async () => {
    driver = await TopologyTestDriver.fromFile('topology/demo.yaml');
  });
  afterEach(() => driver.close());

  test('a person who works at a company, and a deal the schema refuses', async () => {
    const outcomes = await driver.pipe('crm-instructions', [
      {
        graph: 'acme',
        txId: 'hire-ada',
        instructions: [
          { op: 'CreateEntity', ref: 'ada', type: 'Person' },
          { op: 'CreateEntity', ref: 'acme', type: 'Company' },
          { op: 'CreateRelation', ref: 'job', type: 'WorksAt', source: { ref: 'ada' }, target: { ref: 'acme' } },
          { op: 'SetField', subject: { ref: 'ada' }, relation: 'Name', value: { type: 'String', value: 'Ada' } },
        ],
      },
      { graph: 'acme', txId: 'bad-deal', instructions: [{ op: 'CreateEntity', ref: 'd', type: 'Dael' }] },
    ]);
    expect(outcomes.map((o) => o.outcome)).toEqual(['applied', 'refused']);

    // What the processor wrote, decoded: the diff of slice 1 and the rejection.
    const [hired] = driver.readDiffs('crm-diffs');
    expect(hired?.diff).toMatchObject({ graph: 'acme', slice: 1, txId: 'hire-ada' });
    const [refused] = driver.readRejections('crm-rejections');
    expect(refused?.rejection).toMatchObject({ txId: 'bad-deal', code: 'SCHEMA_VIOLATION', instructionIndex: 0 });

    // The graph, read as the query API reads it.
    const reads = driver.reads('acme');
    const at = await reads.at('acme', {});
    const people = await reads.atoms('acme', at, { type: 'Person', limit: 10 });
    expect(people.atoms).toHaveLength(1);
    expect(await reads.transaction('acme', 'bad-deal')).toMatchObject({ status: 'rejected' });

    // A lost disk: the store is rebuilt from the changelog, and a retry of the same txId is not applied twice.
    await driver.restart({ partition: driver.partitionOf('acme'), dropStore: true });
    const [again] = await driver.pipe('crm-instructions', { graph: 'acme', txId: 'hire-ada', instructions: [{ op: 'CreateEntity', ref: 'ada', type: 'Person' }] });
    expect(again).toMatchObject({ outcome: 'duplicate', slice: 1 });
  });
});
