import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { localTaskHost, type LocalTaskHost } from '../../agent/osworld/local-host.ts';
import { runOsworldTask } from '../../agent/osworld/run-task.ts';
import { loadOsworldTasks } from '../../agent/osworld/task.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/osworld/local/rename-folder.json');

let screen: VirtualDisplay;
let home: string;
let host: LocalTaskHost;
const pointer: string[] = [];

beforeAll(async () => {
  screen = await startVirtualDisplay({ width: 1280, height: 800 });
  home = mkdtempSync(join(tmpdir(), 'kestrel-replay-home-'));
  host = localTaskHost({
    screen: { width: 1280, height: 800 },
    env: { ...screen.env, HOME: home },
    pyautogui: async (code) => void pointer.push(code),
  });
});

afterAll(async () => {
  await host?.dispose();
  await screen?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('OSWorld set-up steps on a real X display', () => {
  test('the adapted rename task sets up: folder made, terminal launched and focused, pyautogui routed to Kestrel', async () => {
    const [task] = await loadOsworldTasks(FIXTURE);
    const out = mkdtempSync(join(tmpdir(), 'kestrel-replay-out-'));
    let focused = '';
    const result = await runOsworldTask({
      task: task!,
      host,
      screen: host.screen,
      allowExec: true,
      out,
      act: async () => {
        focused = execFileSync('xdotool', ['getwindowfocus', 'getwindowname'], { env: screen.env }).toString().trim();
        return { endedWithFail: false };
      },
    });
    expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_1'))).toBe(true);
    expect(focused).toBe('kestrel-terminal');
    expect(pointer).toEqual(['pyautogui.click(640, 400)']);
    // Nothing renamed the folder, so the evaluator (a real shell command) scores 0.
    expect(result).toMatchObject({ status: 'scored', score: 0 });
    expect(readFileSync(join(out, 'os', 'kestrel-rename-folder', 'result.txt'), 'utf8')).toBe('0.0\n');
  });

  test('a command past its timeout is killed, and a window that is not there is named', async () => {
    const started = Date.now();
    const result = await host.run({ shell: 'sleep 30; echo late' }, { timeoutMs: 300 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result.stdout).toBe('');
    await expect(host.activateWindow({ name: 'no such window', strict: true, byClass: false })).rejects.toThrow(
      'no visible window named "no such window"',
    );
  });
});
