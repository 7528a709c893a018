import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DisplayInfo, Operator } from '../../agent/operator.ts';
import { TrajectoryRecorder } from '../../agent/trajectory/index.ts';
import { trajectoryLibrary } from '../../host/agent-bindings.ts';
import { createHost, type Host } from '../../host/host.ts';
import type { AgentRunner } from '../../host/run-manager.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { generateScreenSpotDataset } from '../fixtures/screenspot/generate.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openAppPage, openScreen } from '../harness/chromium.ts';
import { mockDesktopPng } from '../harness/mock-desktop.ts';
import { testHostOptions } from '../harness/test-host.ts';

// Every screen, in the states that show the most controls, at a desktop width and at 640 px:
// the navigation marks the current screen, no two buttons share an accessible name (as the
// browser computes it), and nothing is wider than the window.

const display: DisplayInfo = { id: 'mock', name: 'Mock display', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true };
let host: UiHost;
let core: Host;
let browser: Browser;
let dir: string;
let shot: Uint8Array;

/** A run that records where it goes, then waits for confirmation of its first action (the test stops it there). */
const confirmingRunner = (png: Uint8Array, trajectories: string): AgentRunner => async (ctx) => {
  ctx.recordingIn(join(trajectories, `run-${ctx.runId.slice(0, 8)}`));
  ctx.emit({ type: 'run_started', runId: ctx.runId, instruction: ctx.request.instruction, model: 'scripted', display, startedAt: Date.now() });
  ctx.emit({ type: 'step_started', step: 1 });
  ctx.emit({ type: 'screenshot', step: 1, png, width: 1280, height: 800 });
  const action = { kind: 'click', button: 'left', count: 1, at: { x: 0.62, y: 0.41 } } as const;
  ctx.emit({ type: 'planned', step: 1, response: '## Action:\nClick Save.', actions: [action], desktopActions: [{ ...action, at: { x: 794, y: 328 } }], modelMs: 5 });
  if (ctx.confirm && !(await ctx.confirm(1))) throw new Error('declined');
};

async function recordRun(folder: string, instruction: string, png: Buffer): Promise<void> {
  const recorder = new TrajectoryRecorder(folder);
  await recorder.start({ runId: folder, instruction, model: 'm', display, startedAt: Date.now(), initialScreenshot: png });
  const click = { kind: 'click', button: 'left', count: 1, at: { x: 0.62, y: 0.41 } } as const;
  for (const step_num of [1, 2]) {
    await recorder.step({
      step_num,
      action: 'pyautogui.click(x=0.62, y=0.41)',
      response: '## Action: click Save',
      reward: 0,
      done: step_num === 2,
      info: {},
      screenshotAfter: png,
      kestrel: { actions: [click], desktop_actions: [{ ...click, at: { x: 794, y: 328 } }], timings: { model_ms: 5, execute_ms: 1, step_ms: 9 } },
    });
  }
  await recorder.finish({ status: 'finished', reason: 'done', steps: 2, durationMs: 20 });
}

beforeAll(async () => {
  const { png } = await mockDesktopPng();
  shot = new Uint8Array(png);
  dir = await mkdtemp(join(tmpdir(), 'kestrel-screens-'));
  const trajectories = join(dir, 'trajectories');
  // Two runs with the same instruction, two imported models.
  await recordRun(join(trajectories, 'run-a'), 'save the notes', png);
  await recordRun(join(trajectories, 'run-b'), 'save the notes', png);
  for (const name of ['kimi-int4', 'kimi-fp32']) {
    await mkdir(join(dir, 'models', name), { recursive: true });
    await writeFile(join(dir, 'models', name, 'kestrel-model.json'), JSON.stringify({ precision: name.slice(5) }));
  }
  const operator: Operator = {
    displays: async () => [display],
    screenshot: async () => ({ png: shot, width: 1280, height: 800, display, capturedAt: Date.now() }),
    execute: async () => undefined,
  };
  core = await createHost(
    testHostOptions(dir, {
      desktop: () => operator,
      runner: () => confirmingRunner(shot, trajectories),
      ground: () => async () => ({ point: { x: 0.62, y: 0.41 }, raw: 'pyautogui.click(x=0.62, y=0.41)', latencyMs: 42, model: 'scripted' }),
      trajectories: trajectoryLibrary,
      sessionSettings: { endpointUrl: 'http://gpu-box:8000/v1', endpointModel: 'kimi-vl' },
    }),
  );
  host = await startUiHost({ api: core.api });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

/** Accessible names of every button in the page's accessibility tree, as Chromium computes them. */
async function buttonNames(page: Page): Promise<string[]> {
  const tree = await page.locator('body').ariaSnapshot();
  return [...tree.matchAll(/^\s*- button(?: "((?:[^"\\]|\\.)*)")?/gm)].map((m) => (m[1] ?? '').replace(/\\(.)/g, '$1'));
}

/** The checks every screen passes, in whatever state it is in; saves a screenshot to look at. */
async function checkScreen(page: Page, screen: string, state: string): Promise<void> {
  const current = page.getByRole('navigation', { name: 'Screens' }).locator('[aria-current="page"]');
  expect(await current.count(), `${screen} (${state}): one current link`).toBe(1);
  expect(await current.evaluate((el) => [el.tagName, el.textContent])).toEqual(['A', screen]);
  const names = await buttonNames(page);
  expect(names.length, `${screen} (${state}) has buttons`).toBeGreaterThan(0);
  const repeated = names.filter((name, i) => names.indexOf(name) !== i);
  expect(repeated, `${screen} (${state}): buttons sharing a name among ${JSON.stringify(names)}`).toEqual([]);
  expect(names, `${screen} (${state}): a button without a name`).not.toContain('');
  const widths = (await page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]')) as [number, number];
  expect(widths[0], `${screen} (${state}) at ${widths[1]} px is ${widths[0]} px wide`).toBeLessThanOrEqual(widths[1]);
  await page.screenshot({ path: artifactPath('browser', `screens-${widths[1]}-${screen.toLowerCase()}-${state}.png`), fullPage: true });
}

for (const width of [1280, 640]) {
  test(`every screen at ${width} px: links mark the current screen, button names are unique, nothing overflows`, async () => {
    const page = await openAppPage(browser, host.url, { width, height: 900 });
    try {
      // Run: idle, then a run waiting for confirmation (Approve / Reject, Stop), then ended.
      await page.getByRole('combobox', { name: 'Display' }).getByText('Mock display', { exact: false }).waitFor({ state: 'attached' });
      await checkScreen(page, 'Run', 'idle');
      expect((await buttonNames(page)).filter((n) => n === 'Run')).toEqual(['Run']);
      await page.getByRole('checkbox', { name: 'Confirm each action' }).check();
      await page.getByRole('textbox', { name: 'Instruction' }).fill('save the notes in the editor and close it');
      await page.getByRole('button', { name: 'Run', exact: true }).click();
      // The run asks at once: its events overtake the reply to "Run", and must not be undone by it.
      await page.getByRole('button', { name: 'Approve' }).waitFor();
      await page.getByText(/^Recording to /).waitFor();
      await checkScreen(page, 'Run', 'confirming');
      await page.getByRole('button', { name: 'Stop' }).click();
      await page.getByRole('button', { name: 'Open this run in Trajectories' }).waitFor();
      await checkScreen(page, 'Run', 'ended');

      // Inspector: a screenshot located, the view tools and a probe, ScreenSpot results open.
      await openScreen(page, 'Inspector');
      await page.getByRole('button', { name: 'Screenshot' }).click();
      await page.getByRole('textbox', { name: 'Find' }).fill('the Save button');
      await page.getByRole('textbox', { name: 'Find' }).press('Enter');
      await page.getByTestId('point').getByText('794, 328 px').waitFor();
      const data = await generateScreenSpotDataset(join(dir, `screenspot-${width}`));
      const results = join(dir, `results-${width}.jsonl`);
      const sample = data.samples[0]!;
      // Two results with the same instruction and outcome, as real datasets have.
      const record = (id: string) => ({
        id,
        imageFile: sample.screen.file,
        instruction: sample.element.instruction,
        box: { x1: sample.element.x, y1: sample.element.y, x2: sample.element.x + sample.element.width, y2: sample.element.y + sample.element.height },
        imageSize: { width: sample.screen.width, height: sample.screen.height },
        point: null,
        correct: false,
        dataType: sample.element.kind,
        raw: 'no point',
        ms: 10,
      });
      await writeFile(results, `${JSON.stringify(record('a'))}\n${JSON.stringify(record('b'))}\n`);
      const panel = page.getByRole('region', { name: 'ScreenSpot results' });
      await panel.getByRole('textbox', { name: 'Results file' }).fill(results);
      await panel.getByRole('textbox', { name: 'Images folder' }).fill(data.imagesDir);
      await panel.getByRole('button', { name: 'Open results' }).click();
      await panel.getByTestId('screenspot-accuracy').waitFor();
      await checkScreen(page, 'Inspector', 'probed');

      // Trajectories: the app's own runs listed on arrival, one opened.
      await openScreen(page, 'Trajectories');
      const runs = page.getByRole('navigation', { name: 'Recorded runs' }).getByRole('button');
      await expect.poll(() => runs.count()).toBe(2);
      await runs.first().click();
      await page.getByRole('img', { name: 'Screenshot of step 1' }).waitFor();
      await checkScreen(page, 'Trajectories', 'open');

      // Settings: the session's values noted, two models, one being deleted.
      await openScreen(page, 'Settings');
      await page.getByRole('button', { name: 'Delete kimi-int4' }).click();
      await page.getByRole('button', { name: 'Keep kimi-int4' }).waitFor();
      await page.getByText(/The 16B model is 9\.7 GB as int4, 32\.8 GB as fp16, 65\.6 GB as fp32\./).waitFor();
      await checkScreen(page, 'Settings', 'models');
    } finally {
      await page.close();
      core.runs.stop();
      await core.runs.idle();
    }
  });
}

test('a bad setting is named as the Settings screen names it, not by its route', async () => {
  const page = await openAppPage(browser, host.url, { width: 1280, height: 900 });
  try {
    await openScreen(page, 'Settings');
    await page.getByRole('textbox', { name: 'Emergency-stop shortcut' }).fill('Escape');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toBe('Emergency-stop shortcut must be a key combination such as "CommandOrControl+Shift+Escape", got "Escape"');
    await page.getByRole('button', { name: 'Revert' }).click();
    await page.getByRole('textbox', { name: 'Trajectories folder' }).fill('runs');
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/^Trajectories folder must be an absolute folder path/);
    // Screens are addresses: a reload stays on Settings, Back returns to the screen before.
    await page.reload();
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    await openScreen(page, 'Trajectories');
    await page.goBack();
    await page.getByRole('button', { name: 'Save settings' }).waitFor();
    expect(await page.getByRole('link', { name: 'Settings' }).getAttribute('aria-current')).toBe('page');
  } finally {
    await page.close();
  }
});
