import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

/** Debian's Chromium (packages chromium and chromium-driver; .ci/run installs them). No browser is downloaded. */
export const chromiumPath = '/usr/bin/chromium';

/** Headless, and none of Chromium's own connections (without these it opens many, which the machine refuses). */
export const chromiumFlags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Where the browser tests put their screenshots and measures (the clone's .cache/, which git ignores). */
export const artefactDir = resolve(__dirname, '..', '..', '.cache', 'test-artefacts', 'live-page');

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath}: install Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; .ci/run does)`);
  return chromium.launch({ executablePath: chromiumPath, args: chromiumFlags });
}

/** Saves a screenshot of the page as a test artefact; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(artefactDir, { recursive: true });
  const path = join(artefactDir, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
