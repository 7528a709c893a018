import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { modelImporter } from '../../host/agent-bindings.ts';
import { writeTinyCheckpoint } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { openAppInBrowser, type AppInBrowser } from '../harness/app-in-browser.ts';

// The app's model import with the real importer (a tiny random checkpoint), cancelled from the
// Settings screen while it writes weights: it ends as cancelled and leaves nothing behind.
// A wider embedding than the tiny default (about 1 GB to write) keeps the import under way for
// seconds after its first progress line: the tiny one could finish before Cancel was clicked. The
// checkpoint is hashed too (the host's hashSource option), as every import did before shards
// could go unhashed: without it this int4 import can end before the click lands.

let app: AppInBrowser;

beforeAll(async () => {
  app = await openAppInBrowser('import-cancel-ui', (dir) => void writeTinyCheckpoint(join(dir, 'ckpt'), { seed: 21, text: { hidden_size: 768 } }), () => ({ importer: { ...modelImporter, run: (options) => modelImporter.run({ ...options, hashSource: true }) } }));
}, 120_000);

afterAll(() => app?.close());

test('Cancel import stops the import under way and removes what it wrote', async () => {
  const { page, dir } = app;
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
