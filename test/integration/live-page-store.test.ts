import type { Browser, Page } from 'playwright-core';
import type { GraphTransaction, Uid } from '../../processors/engine/model';
import type { Location } from '../../processors/query/backend';
import { backendOps } from '../../processors/query/ops-endpoints';
import { QueryServer } from '../../processors/query/server';
import type { RestoreProgress } from '../../processors/runtime/ownership';
import { foldInto } from '../support/fold-loop';
import { launchChromium, screenshot } from '../support/browser';
import { demoSchema, demoStartMicros, foldDemoGraph } from '../support/demo-store';
import type { ReferenceGraph } from '../support/reference-model';
import { StoreBackend } from '../support/store-backend';
import { openTempStore, type TempStore } from '../support/temp-store';

/**
 * The live page in Chromium over a query server on a real store, without a broker. While a
 * graph's partition restores: a test backend holds the partition in the restoring state (with
 * progress) until the test lets go, so the page meets the server's real 503 with Retry-After and
 * restore progress for as long as the test needs (a real restore of a small graph is over in
 * milliseconds; live-page.test.ts kills a real owner). The page says so in its banner, retries
 * after Retry-After, and draws once the partition is ready; a live stream that the restore cut
 * resumes after it without a gap. And on a server with small query.maxLimit and maxHops, the
 * page draws within them and says so.
 */
class RestoringBackend extends StoreBackend {
  restoring: RestoreProgress | undefined;

  override locate(processor: string): Location | undefined {
    if (processor === 'graphs' && this.restoring !== undefined) return { where: 'restoring', processor, partition: 0, progress: this.restoring };
    return super.locate(processor);
  }
}

interface Probe {
  ready: boolean;
  health: string;
  drawnSlice?: number;
  elements: () => { id: string; label: string; status: string }[];
}
/** What page functions (which cannot see this module's scope) read: `(globalThis as unknown as InPage).graphfold`. */
type InPage = { graphfold: Probe };

describe('the live page over a real store', () => {
  let temp: TempStore;
  let server: QueryServer;
  let backend: RestoringBackend;
  let browser: Browser;
  let page: Page;
  let graph: string;
  let model: ReferenceGraph;

  beforeAll(async () => {
    temp = await openTempStore();
    ({ graph, model } = await foldDemoGraph(temp, 'restoring'));
    backend = new RestoringBackend('restoring-test', temp.store);
    server = await QueryServer.listen({ host: '127.0.0.1', port: 0, maxHops: 4, maxLimit: 5_000, maxStreams: 4, maxWaitMs: 30_000, requestTimeoutMs: 20_000 }, backendOps);
    server.serve(backend);
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1280, height: 760 } })).newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await temp?.close();
  });

  test('a banner gives the restore\'s progress and the retry; the page draws once the partition is ready', async () => {
    backend.restoring = { records: 1234, position: 500, to: 2000, etaSeconds: 2.2 };
    await page.goto(`${server.url}/#graph=${graph}`);
    await page.waitForFunction(() => (globalThis as unknown as InPage).graphfold.health === 'restoring', undefined, { timeout: 30_000 });
    const banner = (await page.textContent('#banner')) ?? '';
    expect(banner).toContain('Restoring.');
    expect(banner).toContain('which this instance is restoring from its changelog');
    expect(banner).toContain('Restored 1,234 records (offset 500 of 2000), about 3 s left.');
    expect(banner).toMatch(/Retrying in [1-3] s/);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).graphfold.ready)).toBe(false);
    await screenshot(page, 'restoring');
    backend.restoring = undefined;
    const released = Date.now();
    await page.waitForFunction(() => (globalThis as unknown as InPage).graphfold.ready, undefined, { timeout: 30_000 });
    // Asked again after Retry-After (3 s: the restore's ETA, rounded up), not at once and not never.
    expect(Date.now() - released).toBeLessThan(10_000);
    expect(await page.isVisible('#banner')).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as InPage).graphfold.drawnSlice)).toBe(model.head);
  });

  test('a live stream cut by a restore resumes after it, with no slice missed', async () => {
    await page.click('#live');
    await page.waitForSelector('body[data-live=open]', { timeout: 30_000 });
    // The partition goes back to restoring: the open stream ends ("moved") and reconnecting meets 503s.
    backend.restoring = { records: 10, position: 5, to: 60, etaSeconds: 1 };
    backend.written();
    await page.waitForFunction(() => (globalThis as unknown as InPage).graphfold.health === 'restoring', undefined, { timeout: 30_000 });
    const person = model.atomsOfType('Person', model.head)[0] as Uid;
    const schema = demoSchema();
    for (const [i, name] of ['Returning One', 'Returning Two'].entries()) {
      const tx: GraphTransaction = { graph, txId: `back-${i}`, instructions: [{ op: 'CreateEntity', ref: 'r', type: 'Person' }, { op: 'SetField', subject: { ref: 'r' }, relation: 'Name', value: { type: 'String', value: name } }, { op: 'CreateRelation', type: 'Knows', source: { ref: 'r' }, target: { uid: person } }] };
      model.apply(tx);
      const result = await foldInto(temp.store, tx, { source: { topic: 'crm-instructions', partition: 0, offset: 1_000 + i }, recordTime: demoStartMicros + (1_000 + i) * 1_000_000, schema, maxInstructions: 100 });
      expect(result.outcome).toBe('applied');
    }
    await temp.store.commit({});
    backend.restoring = undefined;
    backend.written();
    await page.waitForFunction(() => (globalThis as unknown as InPage).graphfold.health === 'ok' && (globalThis as unknown as InPage).graphfold.elements().filter((e) => e.label.startsWith('Returning')).length === 2, undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => (globalThis as unknown as InPage).graphfold.drawnSlice)).toBe(model.head);
    const listed = await page.locator('#slice-log li').evaluateAll((items) => items.map((li) => (li as unknown as { dataset: { slice: string } }).dataset.slice));
    expect(listed.slice(0, 2)).toEqual([String(model.head), String(model.head - 1)]);
    expect(new Set(listed).size).toBe(listed.length);
  });

  test('a server that allows fewer nodes and hops than asked: the page draws within them and says so', async () => {
    const small = await QueryServer.listen({ host: '127.0.0.1', port: 0, maxHops: 2, maxLimit: 12, maxStreams: 4, maxWaitMs: 30_000, requestTimeoutMs: 20_000 }, backendOps);
    small.serve(backend);
    try {
      const tab = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await tab.goto(`${small.url}/#graph=${graph}&type=Person&hops=4`);
      await tab.waitForFunction(() => (globalThis as unknown as InPage).graphfold.ready, undefined, { timeout: 30_000 });
      const nodes = await tab.evaluate(() => (globalThis as unknown as { graphfold: { elements: () => { group: string }[] } }).graphfold.elements().filter((e) => e.group === 'nodes').length);
      expect(nodes).toBe(12);
      expect(await tab.textContent('#message')).toBe('Only the first 12 nodes are drawn: this server draws at most 12 nodes, 2 hops out (its query.maxLimit and maxHops).');
      expect(tab.url()).toContain('hops=2');
      expect(await tab.inputValue('#limit')).toBe('12');
      await tab.close();
    } finally {
      await small.close();
    }
  });
});
