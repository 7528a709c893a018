import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { runAgent } from '../loop/run-agent.ts';
import { RecordingOperator, ScriptedModel } from '../testing/fakes.ts';
import { readTrajectory } from './reader.ts';
import { TrajectoryRecorder } from './recorder.ts';
import { osworldTimestamp } from './format.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-traj-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const reply = (body: string): string => `## Action:\nStep.\n## Code:\n\`\`\`python\n${body}\n\`\`\``;

async function record(turns: string[]) {
  const operator = new RecordingOperator();
  const result = await runAgent('type hello', {
    model: new ScriptedModel(turns),
    operator,
    recorder: new TrajectoryRecorder(dir),
    settle: { initialDelayMs: 0, intervalMs: 1 },
    runId: 'run-1',
  });
  return { result, operator };
}

test('OSWorld layout: traj.jsonl lines, step_<n>_<timestamp>.png, plus run.json', async () => {
  const { result } = await record([reply('pyautogui.click(0.5, 0.5)'), `◁think▷typing now◁/think▷${reply("pyautogui.write('hello')")}`, reply('DONE')]);
  expect(result.status).toBe('finished');
  const lines = readFileSync(join(dir, 'traj.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
  expect(lines).toHaveLength(3);
  for (const [i, line] of lines.entries()) {
    expect(Object.keys(line).slice(0, 8)).toEqual(['step_num', 'action_timestamp', 'action', 'response', 'reward', 'done', 'info', 'screenshot_file']);
    expect(line.step_num).toBe(i + 1);
    expect(line.action_timestamp).toMatch(/^\d{8}@\d{6}$/);
    expect(line.reward).toBe(0);
    expect(line.done).toBe(i === 2);
  }
  expect(lines[0].action).toBe('pyautogui.click(0.5, 0.5)');
  expect(lines[0].screenshot_file).toBe(`step_1_${lines[0].action_timestamp}.png`);
  expect(readFileSync(join(dir, lines[0].screenshot_file), 'utf8')).toBe('fake-png frame=1');
  expect(lines[0].kestrel.observation_file).toMatch(/^initial_\d{8}@\d{6}\.png$/);
  expect(readFileSync(join(dir, lines[0].kestrel.observation_file), 'utf8')).toBe('fake-png frame=0');
  expect(lines[1].kestrel.observation_file).toBe(lines[0].screenshot_file);
  expect(lines[1].kestrel).toMatchObject({ thinking: 'typing now', description: 'Step.', actions: [{ kind: 'type', text: 'hello' }], desktop_actions: [{ kind: 'type', text: 'hello' }] });
  expect(lines[1].kestrel.timings.model_ms).toBeGreaterThanOrEqual(0);
  expect(lines[1].kestrel.usage).toEqual({ prompt_tokens: 1000, completion_tokens: expect.any(Number) });
  expect(lines[1].response).toContain('◁think▷typing now');
  // The final step took no action: its observation is also its screenshot.
  expect(lines[2].action).toBe('DONE');
  expect(lines[2].screenshot_file).toBe(lines[1].screenshot_file);
  const run = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
  expect(run).toMatchObject({ run_id: 'run-1', instruction: 'type hello', model: 'scripted-model', status: 'finished', steps: 3, format: 'kestrel-trajectory/1' });
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  expect(readdirSync(dir).filter((f) => f.endsWith('.png'))).toHaveLength(3);

  const read = await readTrajectory(dir);
  expect(read.truncatedTail).toBe(false);
  expect(read.steps.map((s) => s.step_num)).toEqual([1, 2, 3]);
  expect(read.run?.status).toBe('finished');
});

test('a run killed mid-write keeps every finished step readable', async () => {
  await record([reply('pyautogui.click(0.5, 0.5)'), reply('pyautogui.click(0.6, 0.6)'), reply('DONE')]);
  appendFileSync(join(dir, 'traj.jsonl'), '{"step_num": 4, "action_timestamp": "2026');
  const read = await readTrajectory(dir);
  expect(read.truncatedTail).toBe(true);
  expect(read.steps.map((s) => s.step_num)).toEqual([1, 2, 3]);
});

test('a run that is still going reads as running with the steps so far', async () => {
  const recorder = new TrajectoryRecorder(dir);
  const display = new RecordingOperator().display;
  await recorder.start({ runId: 'r', instruction: 'x', model: 'm', display, startedAt: Date.now(), initialScreenshot: new Uint8Array([1]) });
  await recorder.step({ step_num: 1, action: 'WAIT', response: 'WAIT', reward: 0, done: false, info: {}, kestrel: { actions: [{ kind: 'wait', seconds: 1 }], desktop_actions: [{ kind: 'wait', seconds: 1 }], timings: { model_ms: 1, execute_ms: 1, step_ms: 2 } } });
  const read = await readTrajectory(dir);
  expect(read.run?.status).toBe('running');
  expect(read.steps).toHaveLength(1);
});

test('a damaged line in the middle is an error, not silently skipped', async () => {
  await record([reply('pyautogui.click(0.5, 0.5)'), reply('DONE')]);
  const path = join(dir, 'traj.jsonl');
  const [first, second] = readFileSync(path, 'utf8').trimEnd().split('\n');
  rmSync(path);
  appendFileSync(path, `${first}\nnot json\n${second}\n`);
  await expect(readTrajectory(dir)).rejects.toThrow(/traj\.jsonl line 2 is not a trajectory step/);
  await expect(readTrajectory(join(dir, 'nope'))).rejects.toThrow(/holds no traj\.jsonl/);
});

test('OSWorld timestamps', () => {
  expect(osworldTimestamp(new Date(2026, 0, 5, 9, 7, 3))).toBe('20260105@090703');
});
