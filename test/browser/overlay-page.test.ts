import { resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { artifactPath } from '../harness/artifacts.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { launchChromium } from '../harness/chromium.ts';

// The overlay window's page from Electron's build (out/renderer/overlay.html), with the
// overlay preload's one function stood in for: marks arrive, the marker moves there. Served
// over loopback HTTP because Chromium refuses module scripts from file:// (Electron allows them).
let browser: Browser;
let host: UiHost;
/** What the test sees of the page's global scope (this file has no DOM types). */
interface Page {
  sendMark?: (mark: unknown) => void;
}

beforeAll(async () => {
  host = await startUiHost({ webRoot: resolve(import.meta.dirname, '../../out/renderer') });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await host?.close();
});

test('the overlay page draws the mark at the target with the step and action label, and clears it', async () => {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.addInitScript(`
    window.kestrelOverlay = { onMark(listener) { window.sendMark = listener; } };
  `);
  await page.goto(new URL('/overlay.html', host.url).href);
  await page.waitForFunction(() => typeof (globalThis as unknown as Page).sendMark === 'function');
  expect(await page.locator('#marker').isHidden()).toBe(true);

  await page.evaluate(() => (globalThis as unknown as Page).sendMark!({ displayId: '0', x: 640, y: 300, label: 'double-click', step: 3 }));
  await expect.poll(() => page.locator('#label').textContent()).toBe('3 · double-click');
  await page.waitForTimeout(200); // the marker glides to its target
  const ring = (await page.locator('#ring').boundingBox())!;
  expect(ring.x + ring.width / 2).toBeCloseTo(640, 0);
  expect(ring.y + ring.height / 2).toBeCloseTo(300, 0);
  // The page itself is transparent: only the marker is painted over the desktop.
  expect(await page.locator('body').evaluate((body) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(body).backgroundColor)).toBe('rgba(0, 0, 0, 0)');
  await page.screenshot({ path: artifactPath('browser', 'overlay.png') });

  await page.evaluate(() => (globalThis as unknown as Page).sendMark!(null));
  await expect.poll(() => page.locator('#marker').isHidden()).toBe(true);
  expect(problems).toEqual([]);
});
