import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { DisplayInfo, Operator } from '../../agent/operator.ts';
import type { AgentRunner, RunContext } from '../../main/api/run-manager.ts';
import { createHost } from '../../main/api/host.ts';
import { NO_SECRET_BOX } from '../../main/api/secrets.ts';
import { startUiHost, type UiHost } from '../../cli/ui-host/server.ts';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openAppPage, openScreen } from '../harness/chromium.ts';
import { mockDesktopPng } from '../harness/mock-desktop.ts';

// UI behaviour against the real host API and the real WebSocket bridge, with the agent loop
// replaced at the AgentRunner seam by a script: confirmation, pause/resume, stop, keyboard use,
// announcements. The real loop on a real X display is exercised in agent-on-xvfb.test.ts.

const display: DisplayInfo = { id: 'mock', name: 'Mock display', bounds: { x: 0, y: 0, width: 1280, height: 800 }, scaleFactor: 1, primary: true };
let host: UiHost;
let browser: Browser;
let page: Page;
const executed: string[] = [];
const imports: { precision: string; device: string }[] = [];

/** The loop's checkpoint: waits while paused (saying so), and ends the run once it is stopped. */
async function checkpoint(ctx: RunContext): Promise<void> {
  if (await ctx.pause.whilePaused(ctx.signal, () => ctx.emit({ type: 'paused' }))) ctx.emit({ type: 'resumed' });
  ctx.signal.throwIfAborted();
}

/** Behaves like the loop: announce, capture, stream, plan, confirm, act; until stopped. */
const scriptedRunner = (png: Uint8Array): AgentRunner => async (ctx) => {
  ctx.emit({ type: 'run_started', runId: ctx.runId, instruction: ctx.request.instruction, model: 'scripted', display, startedAt: Date.now() });
  for (let step = 1; ; step++) {
    ctx.emit({ type: 'step_started', step });
    await checkpoint(ctx);
    ctx.emit({ type: 'screenshot', step, png, width: 1280, height: 800 });
    const reply = `## Action:\nClick Save.\n## Code:\n\`\`\`python\npyautogui.click(x=0.62, y=0.41)\n\`\`\``;
    for (let i = 0; i < reply.length; i += 6) {
      ctx.emit({ type: 'token', step, delta: reply.slice(i, i + 6) });
      await new Promise((d) => setTimeout(d, 15));
      ctx.signal.throwIfAborted();
    }
    const action = { kind: 'click', button: 'left', count: 1, at: { x: 0.62, y: 0.41 } } as const;
    ctx.emit({ type: 'planned', step, response: reply, thinking: 'The Save button is in the toolbar.', actions: [action], desktopActions: [{ ...action, at: { x: 794, y: 328 } }], modelMs: 321 });
    if (ctx.confirm) {
      ctx.emit({ type: 'awaiting_confirmation', step });
      if (!(await ctx.confirm(step))) throw new Error('declined');
    }
    await checkpoint(ctx);
    executed.push(`click ${step}`);
    ctx.emit({ type: 'action_executed', step, index: 0, action: { ...action, at: { x: 794, y: 328 } }, ms: 12 });
    ctx.emit({ type: 'step_finished', step, ms: 480 });
  }
};

beforeAll(async () => {
  const { png } = await mockDesktopPng();
  const shot = new Uint8Array(png);
  const operator: Operator = {
    displays: async () => [display],
    screenshot: async () => ({ png: shot, width: 1280, height: 800, display, capturedAt: Date.now() }),
    execute: async () => undefined,
  };
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-ui-flows-'));
  const core = await createHost({
    host: 'browser',
    version: 'test',
    settingsFile: join(dir, 'settings.json'),
    dataDir: dir,
    // The importer at its seam: slow enough to show progress, writes a manifest like the real one.
    importer: {
      manifestFile: 'kestrel-model.json',
      async run({ out, precision, device, onPlan, onProgress }) {
        imports.push({ precision, device });
        onPlan({ precision: { precision: precision === 'auto' ? 'fp32' : precision, reason: `scripted for ${device}` }, weights: { text: 1e9, vision: 1e8, total: 1.1e9 }, cacheType: 'fp32' });
        for (let i = 1; i <= 20; i++) {
          onProgress({ phase: 'converting', done: i, total: 20, detail: `model.layers.${i}.mlp` });
          await new Promise((d) => setTimeout(d, 40));
        }
        await mkdir(out, { recursive: true });
        await writeFile(join(out, 'kestrel-model.json'), JSON.stringify({ precision: 'fp16', createdAt: new Date().toISOString() }));
      },
    },
    secretBox: NO_SECRET_BOX,
    env: {},
    desktop: () => operator,
    runner: () => scriptedRunner(shot),
    ground: () => async () => ({ point: { x: 0.62, y: 0.41 }, raw: 'pyautogui.click(x=0.62, y=0.41)', latencyMs: 42, model: 'scripted' }),
    trajectories: { list: async () => [], open: () => Promise.reject(new Error('none')), screenshot: () => Promise.reject(new Error('none')) },
    modelName: () => 'scripted model',
  });
  host = await startUiHost({ api: core.api });
  browser = await launchChromium();
  page = await openAppPage(browser, host.url);
  // (A string: this file is typechecked without the DOM library.)
  await page.evaluate(`{
    const log = (window.announced = []);
    const region = document.querySelector('[data-testid="announcer"]');
    new MutationObserver(() => region.textContent.trim() && log.push(region.textContent.trim()))
      .observe(region, { childList: true, characterData: true, subtree: true });
  }`);
});

afterAll(async () => {
  await browser?.close();
  await host?.close();
});

const announcer = () => page.getByTestId('announcer');
/** Every message the live region has carried (later ones may replace earlier ones quickly). */
const announced = () => page.evaluate('window.announced') as Promise<string[]>;

test('confirm each action, pause, resume and stop, from the keyboard', async () => {
  const instruction = page.getByRole('textbox', { name: 'Instruction' });
  await instruction.waitFor();
  await page.getByRole('combobox', { name: 'Display' }).getByText('Mock display', { exact: false }).waitFor({ state: 'attached' });
  await page.getByRole('checkbox', { name: 'Confirm each action' }).check();
  await instruction.fill('save the notes');
  await instruction.press('Control+Enter');

  const approve = page.getByRole('button', { name: 'Approve' });
  await approve.waitFor();
  await expect.poll(() => announcer().textContent()).toMatch(/waiting for your confirmation/);
  expect(executed).toEqual([]);
  const step1 = page.getByRole('listitem', { name: 'Step 1' });
  await step1.getByRole('img', { name: 'Screenshot before step 1' }).waitFor();
  expect(await step1.locator('g[data-mark="target"]').count()).toBe(1);
  await page.screenshot({ path: artifactPath('browser', 'run-confirm.png'), fullPage: true });
  await approve.focus();
  await page.keyboard.press('Enter');
  await expect.poll(() => executed.length).toBe(1);

  await approve.click(); // step 2
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByText(/^Paused at step \d/).waitFor();
  await expect.poll(() => announced()).toContain('Run paused.');
  await page.getByRole('button', { name: 'Resume' }).waitFor();
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect.poll(() => announcer().textContent()).toMatch(/Run ended \(aborted\)/);
  await page.getByText(/Ended: aborted/).waitFor();
  expect(executed.length).toBeLessThanOrEqual(3);
});

test('the inspector screenshots a display and draws the predicted point', async () => {
  await openScreen(page, 'Inspector');
  await page.getByRole('button', { name: 'Screenshot' }).click();
  await page.getByRole('button', { name: /^Image screenshot-1\.png/ }).waitFor();
  await page.getByRole('textbox', { name: 'Find' }).fill('the Save button');
  await page.getByRole('textbox', { name: 'Find' }).press('Enter');
  await page.getByTestId('point').getByText('794, 328 px').waitFor();
  await expect.poll(() => announcer().textContent()).toMatch(/Found at 794, 328/);
  await page.screenshot({ path: artifactPath('browser', 'inspector-screenshot.png'), fullPage: true });
});

test('settings are validated by the host, saved, and still there after a reload', async () => {
  await openScreen(page, 'Settings');
  const maxSteps = page.getByRole('spinbutton', { name: 'Max steps' });
  await maxSteps.fill('7');
  await page.getByRole('textbox', { name: 'Emergency-stop shortcut' }).fill('Escape');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await page.getByRole('alert').getByText(/^Emergency-stop shortcut must be a key combination/).waitFor();
  await page.getByRole('textbox', { name: 'Emergency-stop shortcut' }).fill('CommandOrControl+Alt+K');
  await page.getByRole('button', { name: 'Save settings' }).click();
  await expect.poll(() => announcer().textContent()).toMatch(/Settings saved/);
  await page.getByText(/does not store keys/).waitFor();
  await page.screenshot({ path: artifactPath('browser', 'settings.png'), fullPage: true });
  await page.reload();
  await openScreen(page, 'Settings');
  await expect.poll(() => page.getByRole('spinbutton', { name: 'Max steps' }).inputValue()).toBe('7');
  expect(await page.getByRole('textbox', { name: 'Emergency-stop shortcut' }).inputValue()).toBe('CommandOrControl+Alt+K');
});

test('the model manager imports with progress, lists, chooses and deletes', async () => {
  await openScreen(page, 'Settings');
  await page.getByRole('textbox', { name: 'Hugging Face folder' }).fill('/models/Kimi-VL-A3B-Instruct');
  const precision = page.getByRole('combobox', { name: 'Precision' });
  expect(await precision.inputValue()).toBe('auto');
  await page.getByText(/Auto follows the device in Settings \(Auto\)/).waitFor(); // Settings' default device
  await precision.selectOption('int4');
  await page.getByRole('button', { name: 'Import', exact: true }).click();
  await page.getByText('int4 — scripted for auto.').waitFor();
  expect(imports).toEqual([{ precision: 'int4', device: 'auto' }]);
  await expect.poll(() => page.getByRole('progressbar', { name: 'Model import progress' }).getAttribute('value')).not.toBe('0');
  await expect.poll(() => announcer().textContent(), { timeout: 10_000 }).toMatch(/Model import finished/);
  await page.getByRole('button', { name: 'Use kimi-vl-a3b-instruct' }).click();
  await page.getByText('in use').waitFor();
  expect(await page.getByRole('combobox', { name: 'Backend' }).inputValue()).toBe('in-process');
  await page.screenshot({ path: artifactPath('browser', 'settings-models.png'), fullPage: true });
  // The Run screen's model picker offers the imported model and the endpoint.
  await openScreen(page, 'Run');
  const picker = page.getByRole('combobox', { name: 'Model' });
  await expect.poll(() => picker.locator('option:checked').textContent()).toMatch(/^kimi-vl-a3b-instruct \(in-process/);
  await picker.selectOption('endpoint');
  await expect.poll(() => announcer().textContent()).toMatch(/Settings saved/);
  await openScreen(page, 'Settings');
  expect(await page.getByRole('combobox', { name: 'Backend' }).inputValue()).toBe('endpoint');
  await page.getByRole('button', { name: 'Delete kimi-vl-a3b-instruct' }).click();
  await page.getByRole('button', { name: 'Really delete kimi-vl-a3b-instruct' }).click();
  await page.getByText('No imported models yet.').waitFor();
});
