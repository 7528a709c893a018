import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { modelImporter } from '../../main/api/agent-bindings.ts';
import { createHost } from '../../main/api/host.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { writeTinyCheckpoint } from '../../native-models/models/kimi-vl/tiny-checkpoint.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openAppPage } from '../harness/chromium.ts';
import { testHostOptions } from '../harness/test-host.ts';

// The app's model import with the real importer (a tiny random checkpoint), cancelled from the
// Settings screen while it writes weights: it ends as cancelled and leaves nothing behind.

let dir: string;
let host: UiHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kestrel-import-cancel-ui-'));
  writeTinyCheckpoint(join(dir, 'ckpt'), { seed: 21 });
  const core = await createHost(testHostOptions(dir, { importer: modelImporter }));
  host = await startUiHost({ api: core.api });
  browser = await launchChromium();
  page = await openAppPage(browser, host.url);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('Cancel import stops the import under way and removes what it wrote', async () => {
  await page.getByRole('navigation', { name: 'Screens' }).getByText('Settings', { exact: true }).click();
  await page.getByRole('textbox', { name: 'Hugging Face folder' }).fill(join(dir, 'ckpt'));
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('tiny');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByText(/^converting \d+\/\d+/).waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Cancel import' }).click();
  await page.getByText('Import cancelled; what it had written is removed.', { exact: true }).waitFor({ timeout: 60_000 });
  await expect.poll(() => page.getByTestId('announcer').textContent()).toMatch(/Model import cancelled/);
  expect(await page.getByRole('button', { name: 'Cancel import' }).count()).toBe(0);
  await page.screenshot({ path: artifactPath('browser', 'settings-import-cancelled.png'), fullPage: true });
  expect(existsSync(join(dir, 'models', 'tiny'))).toBe(false);
});
