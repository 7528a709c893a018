import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { modelImporter } from '../../host/agent-bindings.ts';
import { writeTinyCheckpoint } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { openAppInBrowser, type AppInBrowser } from '../harness/app-in-browser.ts';

// The app's model import with the real importer (a tiny random checkpoint), cancelled from the
// Settings screen while it writes weights: it ends as cancelled and leaves nothing behind.
// The tiny import ends in well under a second, before a click could land: the importer's
// test-only hold keeps it under way (its language model written, its vision tower not yet) until
// the host has passed the Cancel on, whatever the machine's speed.

let app: AppInBrowser;
/** Resolved when the import reaches its hold. */
let reachedHold: () => void;
const held = new Promise<void>((resolve) => (reachedHold = resolve));

beforeAll(async () => {
  app = await openAppInBrowser(
    'import-cancel-ui',
    (dir) => void writeTinyCheckpoint(join(dir, 'ckpt'), { seed: 21 }),
    () => ({
      importer: {
        ...modelImporter,
        run: (options) =>
          modelImporter.run({
            ...options,
            // Held until the import is cancelled (the host aborts its signal on the UI's Cancel).
            testOnlyHold: () => {
              reachedHold();
              return new Promise((release) => options.signal?.addEventListener('abort', () => release(), { once: true }));
            },
          }),
      },
    }),
  );
}, 120_000);

afterAll(() => app?.close());

test('Cancel import stops the import under way and removes what it wrote', async () => {
  const { page, dir } = app;
  await page.getByRole('navigation', { name: 'Screens' }).getByText('Settings', { exact: true }).click();
  await page.getByRole('textbox', { name: 'Hugging Face folder' }).fill(join(dir, 'ckpt'));
  await page.getByRole('textbox', { name: 'Name', exact: true }).fill('tiny');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await held;
  // Under way: the language model's weights are on disk, and the screen shows the conversion.
  expect(existsSync(join(dir, 'models', 'tiny', 'text-model.onnx.data'))).toBe(true);
  await page.getByText(/^converting \d+\/\d+/).waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Cancel import' }).click();
  await page.getByText('Import cancelled; what it had written is removed.', { exact: true }).waitFor({ timeout: 60_000 });
  await expect.poll(() => page.getByTestId('announcer').textContent()).toMatch(/Model import cancelled/);
  expect(await page.getByRole('button', { name: 'Cancel import' }).count()).toBe(0);
  await page.screenshot({ path: artifactPath('browser', 'settings-import-cancelled.png'), fullPage: true });
  expect(existsSync(join(dir, 'models', 'tiny'))).toBe(false);
});
