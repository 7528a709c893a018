import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { BenchReport } from '../../host/types.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { writeTinyCheckpoint } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { openAppInBrowser, type AppInBrowser } from '../harness/app-in-browser.ts';
import { artifactPath } from '../harness/artifacts.ts';

// Settings → Models → Benchmark with the real host, its route and the real in-process model (a
// tiny random checkpoint imported into the models folder): the table the page shows is the one
// the host measured.

let app: AppInBrowser;

beforeAll(async () => {
  app = await openAppInBrowser('model-bench-ui', async (dir) => {
    writeTinyCheckpoint(join(dir, 'ckpt'), { seed: 12 });
    await importKimiVL({ source: join(dir, 'ckpt'), out: join(dir, 'models', 'tiny-fp32') });
    // The CPU chosen in Settings (the default, auto, would take a GPU where the machine has one).
    await writeFile(join(dir, 'settings.json'), JSON.stringify({ device: 'cpu' }));
  });
}, 120_000);

afterAll(() => app?.close());

test('Benchmark runs the chosen model on the chosen device and shows each test as mean ± sd', async () => {
  const { page, core, dir } = app;
  await page.getByRole('navigation', { name: 'Screens' }).getByText('Settings', { exact: true }).click();
  const model = page.getByRole('combobox', { name: 'Model to benchmark' });
  await expect.poll(() => model.locator('option:checked').textContent()).toBe('tiny-fp32 (fp32)');
  expect(await page.getByRole('combobox', { name: 'Benchmark device' }).inputValue()).toBe('cpu');
  await page.getByRole('spinbutton', { name: 'Repetitions' }).fill('2');
  await page.getByRole('button', { name: 'Benchmark', exact: true }).click();
  await page.getByRole('status').getByText(/Benchmarking tiny-fp32/).waitFor();
  const table = page.getByRole('table', { name: /Benchmark results \(2 repetitions, mean ± sd\)/ });
  await table.waitFor({ timeout: 110_000 });
  const rows = await table.getByRole('row').allTextContents();
  expect(rows[0]).toBe('ModelDeviceTestResult');
  const cells = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())));
  expect(cells.map((c) => c[2])).toEqual(['load', 'pp512', 'tg32', 'vision 1920×1080 (1032 tokens)', expect.stringMatching(/^pp\d+ with the image$/), expect.stringMatching(/^first point \(\d+ reply tokens\)$/), 'peak RSS']);
  for (const [name, device, , result] of cells) {
    expect([name, device]).toEqual(['tiny-fp32 (fp32)', 'cpu']);
    expect(result).toMatch(/^\d+\.\d+ ± \d+\.\d+ (s|tok\/s|GB)$/);
  }
  await page.screenshot({ path: artifactPath('browser', 'settings-model-bench.png'), fullPage: true });

  // The route itself: what the page showed, with the samples behind it.
  const report = (await core.api.call('models.bench', { path: join(dir, 'models', 'tiny-fp32'), repetitions: 1 })) as BenchReport;
  expect(report.results[0]!.tests.map((t) => t.samples.length)).toEqual([1, 1, 1, 1, 1, 1, 1]);
  await expect(core.api.call('models.bench', { path: dir })).rejects.toThrow(`${dir} is not one of the imported models; list them again`);
  await expect(core.api.call('models.bench', { path: join(dir, 'models', 'tiny-fp32'), repetitions: 0 })).rejects.toThrow('repetitions must be a whole number from 1 to 10, got 0');
  await expect(core.api.call('models.bench', { path: join(dir, 'models', 'tiny-fp32'), device: 'tpu' })).rejects.toThrow(/device must be one of "auto", "cpu", "cuda", "webgpu", got "tpu"/);
}, 240_000);
