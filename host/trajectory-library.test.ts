import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, test } from 'vitest';
import { TrajectoryRecorder } from '../agent/index.ts';
import { MANIFEST_FILE } from '../native-models/index.ts';
import { modelImporter, trajectoryLibrary } from './agent-bindings.ts';

const png = (width: number, height: number, color: string) =>
  sharp({ create: { width, height, channels: 3, background: color } }).png().toBuffer();

const display = { id: '0', name: 'X', bounds: { x: 0, y: 0, width: 200, height: 100 }, scaleFactor: 1, primary: true };

test('a Kestrel run: listed, opened with targets and text, each step on the screen it was chosen on', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-traj-'));
  const dir = join(root, 'run-a');
  const recorder = new TrajectoryRecorder(dir);
  const initial = await png(200, 100, '#ff0000');
  const after1 = await png(200, 100, '#00ff00');
  await recorder.start({ runId: 'r1', instruction: 'click the thing', model: 'm', display, startedAt: Date.now(), initialScreenshot: initial });
  const click = { kind: 'click', button: 'left', count: 1, at: { x: 0.25, y: 0.5 } } as const;
  await recorder.step({
    step_num: 1,
    action: 'pyautogui.click(x=0.25, y=0.5)',
    response: '## Action: click\n## Code: ...',
    reward: 0,
    done: false,
    info: {},
    screenshotAfter: after1,
    kestrel: { actions: [click], desktop_actions: [{ ...click, at: { x: 50, y: 50 } }], thinking: 'hmm', timings: { model_ms: 5, execute_ms: 1, step_ms: 9 } },
  });
  await recorder.step({
    step_num: 2,
    action: 'DONE',
    response: '## Action: done',
    reward: 0,
    done: true,
    info: {},
    kestrel: { actions: [{ kind: 'finished' }], desktop_actions: [{ kind: 'finished' }], timings: { model_ms: 5, execute_ms: 0, step_ms: 6 } },
  });
  await recorder.finish({ status: 'finished', reason: 'done', steps: 2, durationMs: 20 });

  const [summary] = await trajectoryLibrary.list(root);
  expect(summary).toMatchObject({ path: dir, name: 'run-a', layout: 'kestrel', instruction: 'click the thing', steps: 2, status: 'finished' });
  const view = await trajectoryLibrary.open(dir);
  expect(view.steps[0]).toMatchObject({ index: 1, hasScreenshot: true, thinking: 'hmm', targets: [{ x: 0.25, y: 0.5 }], ms: 9 });
  expect(view.steps[1]).toMatchObject({ index: 2, targets: [] });
  // Step 1 was chosen on the initial screen (red), step 2 on the screen after step 1 (green).
  const first = await trajectoryLibrary.screenshot(dir, 1);
  const second = await trajectoryLibrary.screenshot(dir, 2);
  expect([first.width, first.height]).toEqual([200, 100]);
  expect(Buffer.from(first.png).equals(initial)).toBe(true);
  expect(Buffer.from(second.png).equals(after1)).toBe(true);
});

test("an OSWorld result folder: pixel actions become targets on the previous step's screenshot; names may not escape", async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-osworld-'));
  const dir = join(root, 'chrome', 'task-1');
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'step_1_20261201@120000.png'), await png(400, 200, '#0000ff'));
  const lines = [
    { step_num: 1, action_timestamp: '20261201@120000', action: 'pyautogui.click(10, 10)', reward: 0, done: false, info: {}, screenshot_file: 'step_1_20261201@120000.png' },
    { step_num: 2, action_timestamp: '20261201@120001', action: 'pyautogui.click(100, 150)', reward: 0, done: false, info: {}, screenshot_file: '../../../etc/passwd' },
  ];
  await writeFile(join(dir, 'traj.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

  const [summary] = await trajectoryLibrary.list(root);
  expect(summary).toMatchObject({ path: dir, layout: 'osworld', steps: 2 });
  const view = await trajectoryLibrary.open(dir);
  expect(view.steps[0]).toMatchObject({ hasScreenshot: false, actionText: 'pyautogui.click(10, 10)' });
  expect(view.steps[1]).toMatchObject({ hasScreenshot: true, targets: [{ x: 0.25, y: 0.75 }] });
  await expect(trajectoryLibrary.screenshot(dir, 1)).rejects.toThrow(/step 1 .* has no screenshot/);
  expect((await trajectoryLibrary.screenshot(dir, 2)).width).toBe(400);
  await writeFile(join(dir, 'traj.jsonl'), JSON.stringify(lines[1]) + '\n' + JSON.stringify({ ...lines[1], step_num: 3 }) + '\n');
  await expect(trajectoryLibrary.screenshot(dir, 3)).rejects.toThrow(/points outside the run folder/);
});

test('a screenshot that is a link out of the run folder is refused, by screenshot and by open', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-traj-link-'));
  const dir = join(root, 'run');
  await mkdir(dir);
  // Outside the run folder: a PNG the viewer must never show (nor send to a model).
  await writeFile(join(root, 'private.png'), await png(300, 30, '#ffffff'));
  await symlink(join(root, 'private.png'), join(dir, 'step_1.png'));
  await writeFile(join(dir, 'step_0.png'), await png(400, 200, '#0000ff'));
  const line = (n: number, file: string) => JSON.stringify({ step_num: n, action: 'pyautogui.click(100, 150)', reward: 0, done: false, info: {}, screenshot_file: file });
  await writeFile(join(dir, 'traj.jsonl'), `${line(1, 'step_0.png')}\n${line(2, 'step_1.png')}\n${line(3, 'step_2.png')}\n`);

  expect((await trajectoryLibrary.screenshot(dir, 2)).width).toBe(400);
  await expect(trajectoryLibrary.screenshot(dir, 3)).rejects.toThrow('the screenshot name "step_1.png" points outside the run folder through a symbolic link');
  // Its size is not read for the targets either.
  const view = await trajectoryLibrary.open(dir);
  expect(view.steps[2]).toMatchObject({ hasScreenshot: true, targets: [] });
  expect(view.steps[1]!.targets).toEqual([{ x: 0.25, y: 0.75 }]);
});

test('the model manager looks for the importer’s own manifest file', () => {
  expect(modelImporter.manifestFile).toBe(MANIFEST_FILE);
});
