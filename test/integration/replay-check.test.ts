import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { runKestrel } from '../harness/cli.ts';

const SAMPLES = resolve(import.meta.dirname, '../fixtures/osworld/os');

function kestrel(args: string[]) {
  const env = { ...process.env };
  delete env.DISPLAY;
  return runKestrel(args, env);
}

describe('kestrel replay --check and bad input', () => {
  test('says, per sample task, whether it runs here and what it would need consent for (commands, pointer and keyboard snippets)', async () => {
    const result = await kestrel(['replay', SAMPLES, '--check']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout.trim().split('\n')).toEqual([
      'os/13584542-872b-42d8-b299-866967b5c3ef: unsupported (evaluator.func result: getter "vm_terminal_output" is not supported on a local desktop)',
      'os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: runs',
      "os/e0df059f-28a6-4169-924f-b9623e7184cc: runs with --allow-exec: [1] echo {CLIENT_PASSWORD} | sudo -S mkdir ~/Desktop/todo_list_Jan_1 [2] keyboard and mouse: pyautogui.click(960, 540); time.sleep(0.5) [3] [ -d ~/Desktop/todo_list_Jan_2 ] && echo 'Directory exists.' || echo 'Directory does not exist.'",
      'os/f9be0997-4b7c-45c5-b05c-4612b44a6118: runs with --allow-exec: [1] gsettings set org.gnome.desktop.notifications show-banners true [2] keyboard and mouse: pyautogui.click(960, 540); time.sleep(0.5) [3] gsettings get org.gnome.desktop.notifications show-banners',
    ]);
  });

  test('--no-evaluate checks only the set-up: the terminal-size task then runs, its pointer snippet with consent', async () => {
    const result = await kestrel(['replay', `${SAMPLES}/13584542-872b-42d8-b299-866967b5c3ef.json`, '--check', '--no-evaluate']);
    expect(result).toMatchObject({
      code: 0,
      stdout: 'os/13584542-872b-42d8-b299-866967b5c3ef: runs with --allow-exec: [1] keyboard and mouse: pyautogui.click(960, 540); time.sleep(0.5)\n',
      stderr: '',
    });
  });

  test('--check shows a command exactly as it runs, on one line: a line break cannot pass for a comment', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-check-'));
    const task = join(dir, 'hidden.json');
    const config = [{ type: 'execute', parameters: { command: 'echo harmless # \ntouch X', shell: true } }];
    writeFileSync(task, JSON.stringify({ id: 'hidden', snapshot: 'os', instruction: 'x', config, evaluator: { func: 'infeasible' } }));
    const result = await kestrel(['replay', task, '--check']);
    expect(result).toMatchObject({ code: 0, stdout: "os/hidden: runs with --allow-exec: [1] sh -c $'echo harmless # \\ntouch X'\n", stderr: '' });
  });

  test.each([
    [['replay', '/nonexistent/task.json'], 2, 'kestrel: /nonexistent/task.json does not exist; give an OSWorld task .json file or a folder of them'],
    [['replay', SAMPLES, '--trajectory', 'x'], 2, 'kestrel: --trajectory replays one task, but'],
    [['replay', `${SAMPLES}/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json`, '--client-password-env', 'NOT_SET_ANYWHERE'], 2, 'kestrel: --client-password-env NOT_SET_ANYWHERE: that environment variable is not set or empty'],
    // Inherited members of process.env are no environment variables.
    [['replay', `${SAMPLES}/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json`, '--client-password-env', 'constructor'], 2, 'kestrel: --client-password-env constructor: that environment variable is not set or empty'],
    [['replay', `${SAMPLES}/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json`], 2, 'kestrel: no model: give --endpoint'],
    [['replay', `${SAMPLES}/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json`, '--trajectory', 'x'], 1, 'kestrel: there is no display (DISPLAY is not set)'],
  ])('%j fails in one line', async (args, code, message) => {
    const result = await kestrel(args);
    expect(result.code).toBe(code);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(message);
  });
});
