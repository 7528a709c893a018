import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { artifactPath } from '../harness/artifacts.ts';
import { launchChromium, openScreen } from '../harness/chromium.ts';
import { startKestrel, type CliProcess } from '../harness/cli.ts';
import { mockDesktopPng } from '../harness/mock-desktop.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { spawnTracked, stopTracked } from '../harness/processes.ts';
import { ensureSystemTools } from '../harness/system-tools.ts';
import { tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

// The end-to-end tests: `kestrel ui --virtual` (the real host, the real agent loop and
// desktop operator on its own private Xvfb display) driven from Chromium, with the scripted
// OpenAI-compatible server as the model.

const code = (py: string, prose: string) => `## Action:\n${prose}\n## Code:\n\`\`\`python\n${py}\n\`\`\``;

let server: OpenAITestServer;
let ui: CliProcess;
let browser: Browser;
let page: Page;
let url: string;
let display: string;
let dataDir: string;
let config: string;
const clients: ReturnType<typeof spawnTracked>[] = [];

beforeAll(async () => {
  ensureSystemTools(['Xvfb', 'xterm']);
  server = await startOpenAIServer({ models: ['kimi-vl-test'] });
  config = await mkdtemp(join(tmpdir(), 'kestrel-ui-config-'));
  // The device is chosen (the default, auto, would take a GPU where this machine has one), so
  // the import below is for the CPU wherever the test runs.
  await writeFile(join(config, 'settings.json'), JSON.stringify({ device: 'cpu' }));
  dataDir = await mkdtemp(join(tmpdir(), 'kestrel-ui-data-'));
  ui = startKestrel(['ui', '--virtual', '--port', '0', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test'], {
    ...process.env,
    KESTREL_CONFIG_DIR: config,
    KESTREL_DATA_DIR: dataDir,
  });
  url = (await ui.waitForOutput(/^Kestrel UI: (http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m))[1]!;
  display = (await ui.waitForOutput(/private display (:\d+)/))[1]!;
  // Something to look at on the private desktop.
  clients.push(spawnTracked('xterm', ['-geometry', '100x30+80+60', '-title', 'kestrel-e2e', '-bg', '#1d1f21', '-fg', '#e0e0e0'], { env: { ...process.env, DISPLAY: display } }));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(clients.map((c) => stopTracked(c)));
  await ui?.stop();
  await server?.stop();
});

const announcer = () => page.getByTestId('announcer');

test('a run started from the UI shows steps with screenshots and markers, and Stop ends it', async () => {
  server.push(
    // The first answer fails once: the client tries again, and the step says so.
    { status: 500, message: 'GPU on fire' },
    { text: code('pyautogui.click(x=0.3, y=0.3)', 'Click into the terminal.'), chunkDelayMs: 5 },
    { text: code("pyautogui.write('echo hello from kestrel')", 'Type a greeting.'), chunkDelayMs: 5 },
    { text: code('pyautogui.press("enter")', 'Run it.'), delayMs: 60_000 },
  );
  // The private display's one monitor, once the host has listed it (slow on a busy machine).
  await page.getByRole('combobox', { name: 'Display' }).locator('option', { hasText: /1280×800/ }).waitFor({ state: 'attached', timeout: 30_000 });
  await page.getByRole('textbox', { name: 'Instruction' }).fill('say hello in the terminal');
  await page.getByRole('main').getByRole('button', { name: 'Run', exact: true }).click();

  const step1 = page.getByRole('listitem', { name: 'Step 1' });
  await step1.getByRole('img', { name: 'Screenshot before step 1' }).waitFor({ timeout: 30_000 });
  await step1.locator('g[data-mark="target"]').waitFor({ state: 'attached' });
  expect(Number(await step1.locator('g[data-mark="target"]').getAttribute('data-x'))).toBeCloseTo(0.3, 3);
  await step1.getByText(/^the model request failed \(attempt 1 of 3\), trying again in \d+\.\d s: .*GPU on fire/).waitFor();
  await page.getByRole('listitem', { name: 'Step 2' }).getByText('type “echo hello from kestrel”').waitFor({ timeout: 30_000 });
  // Step 3: the model is "thinking" (the server holds its reply); stop the run now.
  await page.getByRole('listitem', { name: 'Step 3' }).getByRole('img').waitFor({ timeout: 30_000 });
  await page.screenshot({ path: artifactPath('browser', 'e2e-run-live.png'), fullPage: true });
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByText(/^Ended: aborted/).waitFor({ timeout: 10_000 });
  await expect.poll(() => announcer().textContent()).toMatch(/Run ended \(aborted\)/);
  expect(server.chatRequests()).toHaveLength(4);
  // The Run screen says where the run was recorded: the app's own trajectories folder.
  const saved = page.getByText(/^Saved in /);
  await saved.waitFor();
  expect(await saved.locator('code').textContent()).toMatch(new RegExp(`^${dataDir}/trajectories/\\d{4}-\\d\\d-\\d\\d_[\\d-]+_[0-9a-f]{8}$`));
  // Every request carried a real screenshot of the private display.
  for (const request of server.chatRequests()) expect(request.images.at(-1)!.data.subarray(1, 4).toString()).toBe('PNG');
  await page.screenshot({ path: artifactPath('browser', 'e2e-run-stopped.png'), fullPage: true });
});

test('the trajectory viewer opens on the app’s own runs, and the Run screen’s link opens the one just recorded', async () => {
  // Opened from the navigation, it already lists the app's own folder: no path to type.
  await openScreen(page, 'Trajectories');
  expect(await page.getByRole('textbox', { name: 'Runs folder' }).inputValue()).toBe(join(dataDir, 'trajectories'));
  const run = page.getByRole('navigation', { name: 'Recorded runs' }).getByRole('button').first();
  await run.waitFor();
  expect(await run.textContent()).toMatch(/say hello in the terminal/);
  await page.screenshot({ path: artifactPath('browser', 'e2e-trajectories-listed.png'), fullPage: true });
  await openScreen(page, 'Run');
  await page.getByRole('button', { name: 'Open this run in Trajectories' }).click();
  await page.waitForFunction(`location.hash === '#trajectories'`);
  await page.getByRole('img', { name: 'Screenshot of step 1' }).waitFor();
  expect(await run.getAttribute('aria-current')).toBe('true');
});

test('the trajectory viewer steps through the recorded run and re-grounds a step', async () => {
  await page.getByRole('img', { name: 'Screenshot of step 1' }).waitFor();
  await page.locator('g[data-mark="target"]').first().waitFor({ state: 'attached' });
  await page.getByText('Click into the terminal.').first().waitFor();
  await page.getByRole('button', { name: 'Next step' }).click();
  await page.getByText('Step 2 (2 of 2)').waitFor();
  await page.getByRole('button', { name: 'Previous step' }).click();
  server.push(code('pyautogui.click(x=0.6, y=0.2)', 'The title bar.'));
  await page.getByRole('textbox', { name: 'Query' }).fill('the terminal title bar');
  await page.getByRole('button', { name: 'Re-ground this step' }).click();
  await page.locator('g[data-mark="predicted"]').waitFor({ state: 'attached' });
  expect(Number(await page.locator('g[data-mark="predicted"]').getAttribute('data-x'))).toBeCloseTo(0.6, 3);
  await page.screenshot({ path: artifactPath('browser', 'e2e-trajectories.png'), fullPage: true });
});

test('the inspector grounds a query on an opened image and draws the marker where the server pointed', async () => {
  const { png, save } = await mockDesktopPng();
  const file = join(dataDir, 'editor.png');
  await writeFile(file, png);
  await openScreen(page, 'Inspector');
  await page.locator('input[type="file"]').setInputFiles(file);
  await page.getByRole('button', { name: /Image editor\.png/ }).waitFor();
  server.push(`pyautogui.click(x=${save.x}, y=${save.y})`);
  await page.getByRole('textbox', { name: 'Find' }).fill('the Save button');
  await page.getByRole('button', { name: 'Locate' }).click();
  await page.getByTestId('point').getByText('794, 328 px').waitFor();
  const image = await page.getByRole('img', { name: 'editor.png' }).boundingBox();
  const ring = await page.locator('g[data-mark="predicted"] circle.ring').boundingBox();
  const centre = { x: (ring!.x + ring!.width / 2 - image!.x) / image!.width, y: (ring!.y + ring!.height / 2 - image!.y) / image!.height };
  expect(centre.x).toBeCloseTo(save.x, 2);
  expect(centre.y).toBeCloseTo(save.y, 2);
  // The ground request carried the image that was opened.
  expect(Buffer.compare(server.chatRequests().at(-1)!.images[0]!.data, png)).toBe(0);

  // Click on the Save button: a hit; elsewhere: a miss.
  await page.mouse.click(image!.x + save.x * image!.width, image!.y + save.y * image!.height);
  await page.getByText('Hit', { exact: true }).waitFor();
  await page.screenshot({ path: artifactPath('browser', 'e2e-inspector.png'), fullPage: true });
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Export ScreenSpot JSON' }).click();
  const saved = await (await download).path();
  const rows = JSON.parse(await readFile(saved, 'utf8')) as { img_filename: string; bbox: number[]; instruction: string }[];
  expect(rows).toEqual([{ img_filename: 'editor.png', bbox: expect.any(Array), instruction: 'the Save button', data_type: 'text', data_source: 'kestrel-inspector' }]);
  const [left, top, width, height] = rows[0]!.bbox as [number, number, number, number];
  expect([width, height]).toEqual([24, 24]);
  expect(left <= 794 && 794 <= left + width && top <= 328 && 328 <= top + height).toBe(true);
  await page.mouse.click(image!.x + 0.1 * image!.width, image!.y + 0.1 * image!.height);
  await page.getByText('Miss', { exact: true }).waitFor();
});

test('Settings: --endpoint and --model are this session’s, not saved; Test connection asks the endpoint', async () => {
  await openScreen(page, 'Settings');
  const url = page.getByRole('textbox', { name: 'Endpoint URL' });
  expect(await url.inputValue()).toBe(server.baseUrl);
  await page.getByText(/^Fields marked “for this session only” come from the options/).waitFor();
  expect(await page.locator('#session-endpointUrl').textContent()).toBe('From the command line, for this session only; saved: http://127.0.0.1:8000/v1');
  // The settings file never held them.
  const saved = await readFile(join(config, 'settings.json'), 'utf8').catch(() => '{}');
  expect(saved).not.toContain(server.baseUrl);

  const before = server.requests.length;
  await page.getByRole('button', { name: 'Test connection' }).click();
  const status = page.locator('.test [role="status"]');
  await expect.poll(() => status.textContent()).toMatch(new RegExp(`^Connected in \\d+ ms: ${server.baseUrl} serves kimi-vl-test$`));
  expect(server.requests.slice(before).map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
  // What the form says, unsaved: another model name is tested as typed.
  await page.getByRole('textbox', { name: 'Model name' }).fill('kimi-vl-typo');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect.poll(() => status.textContent()).toMatch(/does not serve "kimi-vl-typo"; it serves "kimi-vl-test"/);
  await page.screenshot({ path: artifactPath('browser', 'e2e-settings-session.png'), fullPage: true });
  await page.getByRole('button', { name: 'Revert' }).click();
});

test('a Hugging Face folder imported in Settings becomes the in-process model the inspector grounds with', async () => {
  const checkpoint = tinyCheckpoint({ seed: 5 });
  try {
    await openScreen(page, 'Settings');
    await page.getByRole('textbox', { name: 'Hugging Face folder' }).fill(checkpoint.dir);
    await page.getByRole('textbox', { name: 'Name', exact: true }).fill('tiny-kimi');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await page.getByText(/^Imported into .*tiny-kimi$/).waitFor({ timeout: 60_000 });
    // The real importer chose the precision (auto, for the CPU chosen in Settings) and said why.
    await page.getByText(/^int4 — for the CPU: int4 decodes several times faster than fp32 there/).waitFor();
    await page.getByRole('button', { name: 'Use tiny-kimi' }).click();
    await page.getByText('in use').waitFor();
    await openScreen(page, 'Inspector');
    const before = server.chatRequests().length;
    await page.getByRole('button', { name: 'Locate' }).click();
    // The reply now comes from the random tiny model in-process, not from the server.
    await page.getByText(/^kimi-vl \(in-process, int4\) @ .*tiny-kimi$/).waitFor({ timeout: 60_000 });
    expect(server.chatRequests().length).toBe(before);
    await page.screenshot({ path: artifactPath('browser', 'e2e-inspector-in-process.png'), fullPage: true });
  } finally {
    checkpoint.cleanup();
  }
});
