// The TopologyTestDriver under node:test, with node:assert and no jest (test/unit/testing/node-test.test.ts runs it with `node --test`).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TopologyTestDriver } from '../../../processors/testing';

let driver: TopologyTestDriver;
before(async () => {
  driver = await TopologyTestDriver.fromObject({ processors: [{ name: 'orders', inputs: ['orders'], partitions: 2 }] });
});
after(() => driver.close());

void test('an order placed by a customer is slice 1 of its graph', async () => {
  const [outcome] = await driver.pipe('orders', {
    graph: 'shop-1',
    txId: 'order-1',
    instructions: [
      { op: 'CreateEntity', ref: 'c', type: 'Customer' },
      { op: 'CreateEntity', ref: 'o', type: 'Order' },
      { op: 'CreateRelation', type: 'Placed', source: { ref: 'c' }, target: { ref: 'o' } },
    ],
  });
  assert.equal(outcome?.outcome, 'applied');
  const [diff] = driver.readDiffs('orders-diffs');
  assert.equal(diff?.diff.slice, 1);
  assert.equal(diff?.diff.changes.length, 3);
  assert.equal(await driver.reads('shop-1').head('shop-1'), 1);
});
