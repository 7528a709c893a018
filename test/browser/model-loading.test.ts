import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DisplayInfo, Operator } from '../../agent/operator.ts';
import { agentRunner, grounder, localModels } from '../../host/agent-bindings.ts';
import { createHost } from '../../host/host.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { writeTinyCheckpoint } from '../../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openAppPage, openScreen } from '../harness/chromium.ts';
import { mockDesktopPng } from '../harness/mock-desktop.ts';
import { testHostOptions } from '../harness/test-host.ts';

// The real agent loop and the real in-process model (a tiny random checkpoint) behind the real
// host API and WebSocket bridge, with only the desktop at its seam: the first run loads the model
// and the Run screen shows it loading; the Inspector's probe then reuses it and shows nothing.

const display: DisplayInfo = { id: 'mock', name: 'Mock display', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true };
let dir: string;
let host: UiHost;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kestrel-model-loading-ui-'));
  writeTinyCheckpoint(join(dir, 'ckpt'), { seed: 9 });
  await importKimiVL({ source: join(dir, 'ckpt'), out: join(dir, 'model') });
  const shot = new Uint8Array((await mockDesktopPng()).png);
  const operator: Operator = {
    displays: async () => [display],
    screenshot: async () => ({ png: shot, width: 1280, height: 800, display, capturedAt: Date.now() }),
    execute: async () => undefined,
  };
  const core = await createHost(
    testHostOptions(dir, {
      sessionSettings: { backend: 'in-process', modelDir: join(dir, 'model'), device: 'cpu', maxSteps: 1 },
      desktop: () => operator,
      runner: agentRunner,
      ground: grounder,
      modelLoads: localModels,
    }),
  );
  host = await startUiHost({ api: core.api });
  browser = await launchChromium();
  page = await openAppPage(browser, host.url);
  // Every text the loading status shows, however briefly. (A string: no DOM library here.)
  await page.evaluate(`{
    const log = (window.loadingTexts = []);
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="model-loading"]')?.textContent.replace(/\\s+/g, ' ').trim();
      if (text && text !== log.at(-1)) log.push(text);
    }).observe(document.body, { childList: true, characterData: true, subtree: true, attributes: true });
  }`);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const loadingTexts = () => page.evaluate('window.loadingTexts') as Promise<string[]>;
const announcer = () => page.getByTestId('announcer');

test('the first run shows the model loading with its percentage and phase; a probe that reuses it shows none', async () => {
  const instruction = page.getByRole('textbox', { name: 'Instruction' });
  await instruction.fill('save the notes');
  await instruction.press('Control+Enter');
  await expect.poll(loadingTexts, { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^Loading model… \d+% \(reading weights\)/));
  await expect.poll(loadingTexts, { timeout: 60_000 }).toContainEqual(expect.stringMatching(/^Loading model… 100% \(starting the language model\) creating the language model session on the CPU$/));
  await page.getByTestId('model-loading').waitFor({ state: 'detached', timeout: 60_000 });
  const texts = await loadingTexts();
  const percents = texts.flatMap((t) => /(\d+)%/.exec(t)?.[1] ?? []).map(Number);
  expect(percents).toEqual([...percents].sort((a, b) => a - b));
  await page.screenshot({ path: artifactPath('browser', 'run-model-loaded.png'), fullPage: true });
  await expect.poll(() => announcer().textContent(), { timeout: 60_000 }).toMatch(/Run ended/);

  await page.evaluate('window.loadingTexts.length = 0');
  await openScreen(page, 'Inspector');
  await page.getByRole('button', { name: 'Screenshot' }).click();
  await page.getByRole('textbox', { name: 'Find' }).fill('the Save button');
  await page.getByRole('textbox', { name: 'Find' }).press('Enter');
  await expect.poll(() => announcer().textContent(), { timeout: 60_000 }).toMatch(/^(Found at|No point in the reply)/);
  expect(await loadingTexts()).toEqual([]);
  expect(await page.getByTestId('model-loading').count()).toBe(0);
});
