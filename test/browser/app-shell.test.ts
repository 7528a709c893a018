import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openScreen } from '../harness/chromium.ts';
import { startKestrel, type CliProcess } from '../harness/cli.ts';

let host: CliProcess;
let browser: Browser;
let url: string;

beforeAll(async () => {
  host = startKestrel(['ui', '--port', '0']);
  url = (await host.waitForOutput(/^Kestrel UI: (http:\/\/127\.0\.0\.1:\d+\/\S*)$/m))[1]!;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.stop();
});

test('the built renderer loads in Chromium from the browser host', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  page.on('console', (msg) => msg.type() === 'error' && problems.push(msg.text()));

  await page.goto(url);
  await expect(page.title()).resolves.toBe('Kestrel');
  const heading = page.getByRole('heading', { level: 1, name: 'Kestrel' });
  await heading.waitFor({ state: 'visible' });

  await openScreen(page, 'Inspector');
  await page.getByRole('heading', { level: 2, name: 'Inspector' }).waitFor({ state: 'visible' });
  await page.screenshot({ path: artifactPath('browser', 'app-shell.png') });
  expect(problems).toEqual([]);
});
