import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { pointInBox } from '../../agent/screenspot/metric.ts';
import { createHost } from '../../main/api/host.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openAppPage, openScreen } from '../harness/chromium.ts';
import { testHostOptions } from '../harness/test-host.ts';
import { runKestrel } from '../harness/cli.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { generateScreenSpotDataset, SCRIPTED_POINTS, type SyntheticDataset } from '../fixtures/screenspot/generate.ts';
import { scriptedReply } from '../fixtures/screenspot/scripted-reply.ts';

// Issue 7's last line: results written by `kestrel eval screenspot` (against a scripted
// OpenAI-compatible server) open in the Inspector through the real host API and WebSocket bridge.

let dir: string;
let data: SyntheticDataset;
let results: string;
let server: OpenAITestServer;
let host: UiHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-inspect-ss-'));
  data = await generateScreenSpotDataset(join(dir, 'data'));
  server = await startOpenAIServer();
  server.push(...Array.from({ length: data.samples.length }, () => scriptedReply));
  results = join(dir, 'results.jsonl');
  const out = await runKestrel(['eval', 'screenspot', data.proAnnotations, '--images', data.imagesDir, '--results', results, '--endpoint', server.baseUrl, '--model', 'kimi-vl-test']);
  expect(out.code, out.stderr).toBe(0);

  const core = await createHost(testHostOptions(dir));
  host = await startUiHost({ api: core.api });
  browser = await launchChromium();
  page = await openAppPage(browser, host.url, { width: 1280, height: 1400 });
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await server?.stop();
});

test('open eval results in the Inspector: accuracy announced, a miss shows its true box and the predicted point', async () => {
  await openScreen(page, 'Inspector');
  const panel = page.getByRole('region', { name: 'ScreenSpot results' });

  // A wrong path first: one clear line, nothing opened.
  await panel.getByRole('textbox', { name: 'Results file' }).fill(join(dir, 'missing.jsonl'));
  await panel.getByRole('textbox', { name: 'Images folder' }).fill(data.imagesDir);
  await panel.getByRole('button', { name: 'Open results' }).click();
  await expect.poll(() => panel.getByRole('alert').textContent()).toMatch(/missing\.jsonl does not exist/);

  await panel.getByRole('textbox', { name: 'Results file' }).fill(results);
  await panel.getByRole('textbox', { name: 'Results file' }).press('Enter');
  await expect.poll(() => page.getByTestId('announcer').textContent()).toBe('Opened 7 results: accuracy 57.1%');
  expect(await panel.getByTestId('screenspot-accuracy').innerText()).toMatch(/Accuracy 57\.1% \(4\/7\).*icon 66\.7% \(2\/3\).*text 50\.0% \(2\/4\)/s);
  const list = panel.getByRole('list', { name: 'ScreenSpot records' });
  expect(await list.getByRole('button', { name: /^\d+\. hit: / }).count()).toBe(4);
  expect(await list.getByRole('button', { name: /^\d+\. miss: / }).count()).toBe(3);

  // A miss with a point: the scripted point lies outside the element's box.
  const index = data.samples.findIndex(({ element: e }) => {
    const p = SCRIPTED_POINTS[e.instruction];
    return p && !pointInBox(p, { x1: e.x, y1: e.y, x2: e.x + e.width, y2: e.y + e.height });
  });
  const { screen, element } = data.samples[index]!;
  // From the keyboard: focus the first record, then arrow down to the miss.
  await list.getByRole('button').first().focus();
  for (let i = 0; i < index; i++) await page.keyboard.press('ArrowDown');
  const miss = list.getByRole('button', { name: `miss: ${element.instruction}` });
  await expect.poll(() => miss.getAttribute('aria-pressed')).toBe('true');
  expect(await miss.evaluate((el) => el === (el.ownerDocument as unknown as { activeElement: unknown }).activeElement)).toBe(true);

  const image = panel.getByRole('img', { name: screen.file });
  await image.waitFor();
  await expect.poll(() => image.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBe(screen.width);
  const shown = (await image.boundingBox())!;
  const scale = shown.width / screen.width;
  const box = (await panel.locator('rect.box.truth-miss').boundingBox())!;
  expect(box.x + box.width / 2).toBeCloseTo(shown.x + (element.x + element.width / 2) * scale, 0);
  expect(box.y + box.height / 2).toBeCloseTo(shown.y + (element.y + element.height / 2) * scale, 0);
  const dot = (await panel.locator('g[data-mark="predicted"] circle.dot').boundingBox())!;
  const point = SCRIPTED_POINTS[element.instruction]!;
  expect(dot.x + dot.width / 2).toBeCloseTo(shown.x + point.x * scale, 0);
  expect(dot.y + dot.height / 2).toBeCloseTo(shown.y + point.y * scale, 0);
  expect(await panel.getByTestId('screenspot-point').innerText()).toBe(`${Math.round(point.x)}, ${Math.round(point.y)} px`);
  expect(await panel.locator('pre').innerText()).toContain('pyautogui.click(');
  await expect.poll(() => page.getByTestId('announcer').textContent()).toBe(`Miss: ${element.instruction}`);

  await panel.screenshot({ path: artifactPath('browser', 'inspector-screenspot-miss.png') });
});
