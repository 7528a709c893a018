import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, test } from 'vitest';
import { toPyautoguiCode } from './pyautogui-format.ts';
import { OsworldTrajectoryWriter, readOsworldTrajectory } from './trajectory-file.ts';

describe("OSWorld's traj.jsonl", () => {
  test('written by Kestrel, read back: actions, responses and the recorded screen size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-traj-'));
    const png = await sharp({ create: { width: 1920, height: 1080, channels: 3, background: '#123' } }).png().toBuffer();
    const writer = new OsworldTrajectoryWriter(dir);
    writer.writeInitial(png);
    writer.append({ step: 1, action: 'pyautogui.click(960, 540)', response: 'click the middle', done: false, png });
    writer.append({ step: 2, action: 'DONE', done: true, info: { done: true } });
    writer.close();
    const lines = readFileSync(join(dir, 'traj.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ step_num: 1, action: 'pyautogui.click(960, 540)', reward: 0, done: false, info: {} });
    expect(lines[0].screenshot_file).toMatch(/^step_1_\d{8}@\d{12}\.png$/);
    expect(readdirSync(dir)).toContain(lines[0].screenshot_file);
    const read = await readOsworldTrajectory(join(dir, 'traj.jsonl'));
    expect(read).toEqual({
      actions: [
        { step: 1, code: 'pyautogui.click(960, 540)', response: 'click the middle' },
        { step: 2, code: 'DONE' },
      ],
      screen: { width: 1920, height: 1080 },
    });
  });

  test('header lines are skipped, a half-written last line is ignored, dict actions are refused', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-traj-'));
    const path = join(dir, 'traj.jsonl');
    writeFileSync(path, '{"instruction": "x", "initial_state": "initial_state.png"}\n{"step_num": 1, "action": "FAIL"}\n{"step_num": 2, "act');
    expect(await readOsworldTrajectory(path)).toEqual({ actions: [{ step: 1, code: 'FAIL' }] });
    writeFileSync(path, '{"step_num": 1, "action": {"action_type": "CLICK"}}\n');
    await expect(readOsworldTrajectory(path)).rejects.toThrow('computer_13 dict actions are not supported');
    writeFileSync(path, 'nope\n{"action": "DONE"}\n');
    await expect(readOsworldTrajectory(path)).rejects.toThrow('line 1 is not JSON');
    await expect(readOsworldTrajectory(join(dir, 'none.jsonl'))).rejects.toThrow('cannot be read');
  });

  test('Kestrel actions become pyautogui code in screen pixels', () => {
    expect(toPyautoguiCode({ kind: 'click', button: 'left', count: 1, at: { x: 10.4, y: 20.6 } })).toBe('pyautogui.click(10, 21)');
    expect(toPyautoguiCode({ kind: 'click', button: 'right', count: 2, at: { x: 1, y: 2 } })).toBe("pyautogui.click(1, 2, button=\"right\", clicks=2)");
    expect(toPyautoguiCode({ kind: 'type', text: 'mv "a" b\n' })).toBe('pyautogui.write("mv \\"a\\" b\\n")');
    expect(toPyautoguiCode({ kind: 'hotkey', keys: ['ctrl', 'c'] })).toBe('pyautogui.hotkey("ctrl", "c")');
    expect(toPyautoguiCode({ kind: 'scroll', direction: 'down', amount: 3 })).toBe('pyautogui.scroll(-3)');
    expect(toPyautoguiCode({ kind: 'scroll', direction: 'right', amount: 2, at: { x: 5, y: 6 } })).toBe('pyautogui.hscroll(2, x=5, y=6)');
    expect(toPyautoguiCode({ kind: 'press', key: 'enter', presses: 1 })).toBe('pyautogui.press("enter")');
    expect(toPyautoguiCode({ kind: 'fail', reason: 'no bluetooth' })).toBe('FAIL');
    expect(toPyautoguiCode({ kind: 'finished' })).toBe('DONE');
  });
});
