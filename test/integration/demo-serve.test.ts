import { spawn } from 'node:child_process';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot } from '../support/browser';
import { compiledModule } from '../support/compiled';
import { childEnvironment } from '../support/environment';
import { waitFor } from '../support/wait-for';

/**
 * `npm run demo -- --serve` on the test cluster: once the demo has run, it prints `page: <url>`
 * when the page answers; the page at that URL draws a demo graph and, in live mode, the slices
 * the demo keeps sending; Ctrl-C (SIGINT) stops it cleanly.
 */
describe('npm run demo -- --serve', () => {
  let browser: Browser | undefined;

  afterAll(async () => {
    await browser?.close();
  });

  test('prints the page URL once it answers, serves the live page until SIGINT, then stops', async () => {
    const child = spawn(process.execPath, [compiledModule('test/demo/demo.ts'), '--serve'], { env: childEnvironment({}), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await waitFor('the demo to print the page URL', () => /^page: (\S+)$/m.exec(stdout)?.[1], { timeoutMs: 240_000, intervalMs: 200 });
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#graph=acme-[0-9a-f]{4}&live=1$/);
      const index = await fetch(new URL(url).origin);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toContain('text/html');

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
      await page.goto(url);
      await page.waitForFunction(() => (globalThis as unknown as { graphfold?: { ready: boolean } }).graphfold?.ready === true, undefined, { timeout: 60_000 });
      const first = (await page.evaluate(() => (globalThis as unknown as { graphfold: { head: number; elements: () => unknown[] } }).graphfold.head)) as number;
      expect(((await page.evaluate(() => (globalThis as unknown as { graphfold: { elements: () => unknown[] } }).graphfold.elements())) as unknown[]).length).toBeGreaterThan(10);
      // The demo sends a transaction every 5 s: live mode draws it.
      await page.waitForFunction((head) => (globalThis as unknown as { graphfold: { drawnSlice?: number } }).graphfold.drawnSlice === head + 1, first, { timeout: 30_000 });
      await screenshot(page, 'demo-serve');
      expect(stdout).toMatch(/sent acme-[0-9a-f]{4}-live-/);

      child.kill('SIGINT');
      expect(await exited).toBe(0);
      expect(stdout).toContain('== Stopping');
    } catch (error) {
      child.kill('SIGKILL');
      throw new Error(`${(error as Error).message}\n--- demo stdout (last lines)\n${stdout.split('\n').slice(-30).join('\n')}\n--- stderr\n${stderr.split('\n').slice(-30).join('\n')}`, { cause: error });
    }
  }, 360_000);
});
