import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { FAKE_DISPLAY, RecordingOperator } from '../testing/fakes.ts';
import { readTrajectory, TrajectoryRecorder } from '../trajectory/index.ts';
import { loadRecordedRun } from './recorded-run.ts';
import { replayTrajectory } from './replay-trajectory.ts';

const osworldLine = (step: number, action: string, screenshot?: string) =>
  JSON.stringify({ step_num: step, action_timestamp: '20260101@120000', action, response: '', reward: 0, done: false, info: {}, ...(screenshot ? { screenshot_file: screenshot } : {}) });

describe('replaying a recorded trajectory', () => {
  test("OSWorld's pixel pyautogui code is rescaled from the recorded screen to this display and recorded again", async () => {
    const operator = new RecordingOperator();
    const out = mkdtempSync(join(tmpdir(), 'kestrel-replay-'));
    const recorder = new TrajectoryRecorder(out);
    await recorder.start({ runId: 'r', instruction: 'rename', model: 'replay', display: FAKE_DISPLAY, startedAt: Date.now() });
    const result = await replayTrajectory({
      steps: [
        { action: 'import pyautogui\npyautogui.click(960, 540)' },
        { action: "pyautogui.write('mv a b'); pyautogui.press('enter')" },
        { action: 'DONE' },
        { action: 'pyautogui.click(1, 1)' },
      ],
      operator,
      display: FAKE_DISPLAY,
      coordinates: { mode: 'pixels', screen: { width: 1920, height: 1080 } },
      recorder,
    });
    expect(result).toEqual({ steps: 3, endedWithFail: false, ended: 'finished' });
    expect(operator.executed).toEqual([
      { kind: 'click', button: 'left', count: 1, at: { x: 640, y: 400 } },
      { kind: 'type', text: 'mv a b' },
      { kind: 'press', key: 'enter', presses: 1 },
    ]);
    const replayed = await readTrajectory(out);
    expect(replayed.steps.map((s) => [s.step_num, s.action, s.done])).toEqual([
      [1, 'import pyautogui\npyautogui.click(960, 540)', false],
      [2, "pyautogui.write('mv a b'); pyautogui.press('enter')", false],
      [3, 'DONE', true],
    ]);
  });

  test('a run that ended with FAIL says so (the infeasible rule needs it)', async () => {
    const result = await replayTrajectory({
      steps: [{ action: 'WAIT' }, { action: 'FAIL' }],
      operator: new RecordingOperator(),
      display: FAKE_DISPLAY,
      coordinates: { mode: 'pixels', screen: { width: 1280, height: 800 } },
    });
    expect(result).toEqual({ steps: 2, endedWithFail: true, ended: 'failed' });
  });

  test('code that is not pyautogui is refused by step number, before anything of it runs', async () => {
    const operator = new RecordingOperator();
    await expect(
      replayTrajectory({
        steps: [{ action: 'pyautogui.click(5, 5)' }, { action: "import os; os.system('rm -rf ~')" }],
        operator,
        display: FAKE_DISPLAY,
        coordinates: { mode: 'pixels', screen: { width: 1280, height: 800 } },
      }),
    ).rejects.toThrow(/^trajectory step 2 .* cannot be replayed: /);
    expect(operator.executed).toHaveLength(1);
  });

  test("loading: OSWorld's folder takes the recorded screen size from its screenshots; Kestrel's is read as the model wrote it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-traj-'));
    mkdirSync(join(dir, 'os'));
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#000' } }).png().toFile(join(dir, 'os', 'step_1_x.png'));
    writeFileSync(join(dir, 'os', 'traj.jsonl'), `${osworldLine(1, 'pyautogui.click(10, 10)', 'step_1_x.png')}\n${osworldLine(2, 'DONE')}\n`);
    const osworld = await loadRecordedRun(join(dir, 'os', 'traj.jsonl'), { width: 1, height: 1 });
    expect(osworld).toMatchObject({ kind: 'osworld', coordinates: { mode: 'pixels', screen: { width: 1920, height: 1080 } } });
    expect(osworld.steps.map((s) => s.action)).toEqual(['pyautogui.click(10, 10)', 'DONE']);

    const kestrelDir = join(dir, 'kestrel');
    const recorder = new TrajectoryRecorder(kestrelDir);
    await recorder.start({ runId: 'r', instruction: 'x', model: 'm', display: { ...FAKE_DISPLAY, scaleFactor: 2 }, startedAt: Date.now() });
    await recorder.step({
      step_num: 1,
      action: 'pyautogui.click(x=0.5, y=0.25)',
      response: '## Code:\npyautogui.click(x=0.5, y=0.25)',
      reward: 0,
      done: false,
      info: {},
      kestrel: { actions: [{ kind: 'click', button: 'left', count: 1, at: { x: 0.5, y: 0.25 } }], desktop_actions: [], timings: { model_ms: 1, execute_ms: 1, step_ms: 2 } },
    });
    const kestrel = await loadRecordedRun(kestrelDir, { width: 1, height: 1 });
    expect(kestrel).toMatchObject({ kind: 'kestrel', coordinates: { mode: 'auto', screen: { width: 2560, height: 1600 } } });
    const operator = new RecordingOperator();
    await replayTrajectory({ steps: kestrel.steps, operator, display: FAKE_DISPLAY, coordinates: kestrel.coordinates });
    expect(operator.executed).toEqual([{ kind: 'click', button: 'left', count: 1, at: { x: 640, y: 200 } }]);

    await expect(loadRecordedRun(join(dir, 'os', 'step_1_x.png'), { width: 1, height: 1 })).rejects.toThrow(/step_1_x\.png line 1 is not a trajectory step/);
    await expect(loadRecordedRun(join(dir, 'nowhere'), { width: 1, height: 1 })).rejects.toThrow('does not exist');
  });

  test('any JSONL file replays, whatever its name; run.json beside it belongs to traj.jsonl only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-traj-'));
    await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#000' } }).png().toFile(join(dir, 'step_1_x.png'));
    writeFileSync(join(dir, 'rename-run.jsonl'), `${osworldLine(1, 'pyautogui.click(10, 10)', 'step_1_x.png')}\n${osworldLine(2, 'DONE')}\n`);
    // A run.json from some other run in the same folder must not turn the file into Kestrel's format.
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ status: 'finished', display: { ...FAKE_DISPLAY, scaleFactor: 3 } }));
    const run = await loadRecordedRun(join(dir, 'rename-run.jsonl'), { width: 1, height: 1 });
    expect(run).toMatchObject({ kind: 'osworld', file: join(dir, 'rename-run.jsonl'), coordinates: { mode: 'pixels', screen: { width: 1920, height: 1080 } } });
    expect(run.steps.map((s) => s.action)).toEqual(['pyautogui.click(10, 10)', 'DONE']);
    writeFileSync(join(dir, 'empty.jsonl'), '\n');
    await expect(loadRecordedRun(join(dir, 'empty.jsonl'), { width: 1, height: 1 })).rejects.toThrow(`${join(dir, 'empty.jsonl')} holds no actions to replay`);
  });
});
