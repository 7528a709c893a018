import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { artifactPath } from '../harness/artifacts.ts';
import { runKestrel } from '../harness/cli.ts';
import { startOpenAIServer } from '../harness/openai-server.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';

const FIXTURES = resolve(import.meta.dirname, '../fixtures/osworld');
const RENAME = join(FIXTURES, 'local/rename-folder.json');
const RENAME_TRAJECTORY = join(FIXTURES, 'local/rename-trajectory/traj.jsonl');

let screen: VirtualDisplay;
let home: string;
let out: string;

beforeAll(async () => {
  screen = await startVirtualDisplay({ width: 1280, height: 800 });
});
afterAll(async () => {
  await screen?.stop();
});
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'kestrel-replay-home-'));
  out = mkdtempSync(join(tmpdir(), 'kestrel-replay-out-'));
  return () => {
    rmSync(home, { recursive: true, force: true });
    rmSync(out, { recursive: true, force: true });
  };
});

/**
 * `kestrel replay …` on the virtual display, with a private HOME so ~/Desktop is the test's.
 * Results go to `out`, or to `record` for a second run of the same task (a task folder that
 * holds a run is refused).
 */
function replay(args: string[], extraEnv: NodeJS.ProcessEnv = {}, record = out) {
  return runKestrel(['replay', ...args, '--record', record], { ...screen.env, HOME: home, ...extraEnv });
}

const freshRecord = (): string => mkdtempSync(join(tmpdir(), 'kestrel-replay-out-'));

function trajectoryDir(name: string, actions: string[]): string {
  const dir = join(home, '..', `${name}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'traj.jsonl'), actions.map((action, i) => JSON.stringify({ step_num: i + 1, action, reward: 0, done: false, info: {} })).join('\n') + '\n');
  return dir;
}

const windowExists = (title: string): boolean => {
  try {
    execFileSync('xwininfo', ['-display', screen.display, '-name', title], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

describe('kestrel replay on a real desktop (Xvfb, xterm)', () => {
  test('without --allow-exec the exact commands are listed and nothing runs', async () => {
    const result = await replay([RENAME, '--trajectory', RENAME_TRAJECTORY]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      'kestrel: task kestrel-rename-folder needs consent for 4 items of the task file (programs, file copies, closing windows, keyboard and mouse input); ' +
        'read them and re-run with --allow-exec to allow them: ' +
        '[1] mkdir -p ~/Desktop/todo_list_Jan_1 ' +
        '[2] xterm -T kestrel-terminal -geometry 200x60+0+0 -e bash --norc --noprofile ' +
        '[3] keyboard and mouse: pyautogui.click(640, 400); time.sleep(0.5) ' +
        "[4] [ -d ~/Desktop/todo_list_Jan_2 ] && echo 'Directory exists.' || echo 'Directory does not exist.'",
    );
    expect(existsSync(join(home, 'Desktop'))).toBe(false);
    expect(windowExists('kestrel-terminal')).toBe(false);
    expect(readdirSync(out)).toEqual([]);
  });

  test('set-up runs, the recorded trajectory renames the folder through a real terminal, the evaluator scores 1', async () => {
    const result = await replay([RENAME, '--trajectory', RENAME_TRAJECTORY, '--allow-exec']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`os/kestrel-rename-folder: 1\nresults: ${out}\n`);
    expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_2'))).toBe(true);
    expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_1'))).toBe(false);
    const dir = join(out, 'os', 'kestrel-rename-folder');
    expect(readFileSync(join(dir, 'result.txt'), 'utf8')).toBe('1.0\n');
    const lines = readFileSync(join(dir, 'traj.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.action)).toEqual([
      'pyautogui.click(640, 400)',
      "pyautogui.write('mv ~/Desktop/todo_list_Jan_1 ~/Desktop/todo_list_Jan_2')",
      "pyautogui.press('enter')",
      'WAIT',
      'DONE',
    ]);
    // The terminal the set-up launched is closed again when the replay ends.
    expect(windowExists('kestrel-terminal')).toBe(false);
    copyFileSync(join(dir, lines[3].screenshot_file), artifactPath('replay', 'rename-after-mv.png'));
  });

  test('the same task scores 0 when the trajectory is altered', async () => {
    const altered = readFileSync(RENAME_TRAJECTORY, 'utf8').replace('~/Desktop/todo_list_Jan_2', '~/Desktop/todo_list_Jan_3');
    const dir = join(home, '..', `altered-${Date.now()}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'traj.jsonl'), altered);
    const result = await replay([RENAME, '--trajectory', dir, '--allow-exec']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`os/kestrel-rename-folder: 0\nresults: ${out}\n`);
    expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_3'))).toBe(true);
    expect(readFileSync(join(out, 'os', 'kestrel-rename-folder', 'result.txt'), 'utf8')).toBe('0.0\n');
  });

  test('infeasible: 1 when the run ends with FAIL, 0 when it claims DONE, no score with --no-evaluate', async () => {
    const bluetooth = join(FIXTURES, 'os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json');
    const failed = await replay([bluetooth, '--trajectory', trajectoryDir('fail', ['FAIL'])]);
    expect(failed).toMatchObject({ code: 0, stdout: `os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: 1\nresults: ${out}\n` });
    const again = await replay([bluetooth, '--trajectory', trajectoryDir('done', ['DONE'])]);
    expect(again).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('the task folder already holds a run') });
    const doneOut = freshRecord();
    const done = await replay([bluetooth, '--trajectory', trajectoryDir('done', ['pyautogui.click(10, 10)', 'DONE'])], {}, doneOut);
    expect(done).toMatchObject({ code: 0, stdout: `os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: 0\nresults: ${doneOut}\n` });
    const unscoredOut = freshRecord();
    const unscored = await replay([bluetooth, '--trajectory', trajectoryDir('done', ['DONE']), '--no-evaluate'], {}, unscoredOut);
    expect(unscored).toMatchObject({ code: 0, stdout: `os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: not evaluated (--no-evaluate)\nresults: ${unscoredOut}\n` });
    expect(existsSync(join(unscoredOut, 'os', 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa', 'result.txt'))).toBe(false);
    rmSync(doneOut, { recursive: true, force: true });
    rmSync(unscoredOut, { recursive: true, force: true });
  });

  test('placeholders: screen size and halves from the display, the password from the environment (never printed)', async () => {
    const task = join(FIXTURES, 'local/placeholders.json');
    const trajectory = trajectoryDir('done', ['DONE']);
    const refused = await replay([task, '--trajectory', trajectory, '--client-password-env', 'KESTREL_TEST_PW'], { KESTREL_TEST_PW: 'hunter2-test' });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[1] echo 1280x800 640,400 {CLIENT_PASSWORD} > ~/placeholders.txt');
    expect(refused.stderr).not.toContain('hunter2');

    const noPassword = await replay([task, '--trajectory', trajectory, '--allow-exec']);
    expect(noPassword).toMatchObject({ code: 2, stderr: "kestrel: the task uses {CLIENT_PASSWORD}; give the password of this desktop's user through --client-password-env <VAR>\n" });

    const result = await replay([task, '--trajectory', trajectory, '--allow-exec', '--client-password-env', 'KESTREL_TEST_PW'], { KESTREL_TEST_PW: 'hunter2-test' });
    expect(result.stdout + result.stderr).not.toContain('hunter2');
    expect(result).toMatchObject({ code: 0, stdout: `os/kestrel-placeholders: 1\nresults: ${out}\n` });
    expect(readFileSync(join(home, 'placeholders.txt'), 'utf8')).toBe('1280x800 640,400 hunter2-test\n');
    const pointer = execFileSync('xdotool', ['getmouselocation', '--shell'], { env: screen.env }).toString();
    expect(pointer).toContain('X=640\nY=400\n');
  });

  test("the agent works the task through the endpoint; its recorded run (Kestrel's format) then replays to the same score", async () => {
    const server = await startOpenAIServer();
    const code = (body: string) => `## Action:\nNext step.\n## Code:\n\`\`\`python\n${body}\n\`\`\``;
    server.push(
      code('pyautogui.click(x=0.5, y=0.5)'),
      code("pyautogui.write('mv ~/Desktop/todo_list_Jan_1 ~/Desktop/todo_list_Jan_2')\npyautogui.press('enter')"),
      code('DONE'),
    );
    try {
      const result = await replay([RENAME, '--allow-exec', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test']);
      expect(result.stderr).toBe('');
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^os\/kestrel-rename-folder: agent finished after 3 steps \(.+\)$/);
      expect(lines.slice(1)).toEqual(['os/kestrel-rename-folder: 1', `results: ${out}`]);
      expect(server.chatRequests()).toHaveLength(3);
      expect(JSON.stringify(server.chatRequests()[0]!.body)).toContain('todo_list_Jan_2');
      expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_2'))).toBe(true);
    } finally {
      await server.stop();
    }
    const recorded = join(out, 'os', 'kestrel-rename-folder');
    expect(JSON.parse(readFileSync(join(recorded, 'run.json'), 'utf8')).format).toBe('kestrel-trajectory/1');
    const kept = join(home, '..', `kestrel-run-${Date.now()}`);
    mkdirSync(kept);
    copyFileSync(join(recorded, 'traj.jsonl'), join(kept, 'traj.jsonl'));
    copyFileSync(join(recorded, 'run.json'), join(kept, 'run.json'));

    rmSync(join(home, 'Desktop'), { recursive: true });
    const againOut = freshRecord();
    const again = await replay([RENAME, '--trajectory', kept, '--allow-exec'], {}, againOut);
    expect(again).toMatchObject({ code: 0, stdout: `os/kestrel-rename-folder: 1\nresults: ${againOut}\n` });
    rmSync(againOut, { recursive: true, force: true });
    expect(existsSync(join(home, 'Desktop', 'todo_list_Jan_2'))).toBe(true);
  });

  test('a folder of tasks: unsupported ones are named and skipped, the rest run, then the summary per domain', async () => {
    const tasks = join(home, '..', `tasks-${Date.now()}`);
    mkdirSync(join(tasks, 'os'), { recursive: true });
    for (const id of ['13584542-872b-42d8-b299-866967b5c3ef', 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa']) {
      copyFileSync(join(FIXTURES, 'os', `${id}.json`), join(tasks, 'os', `${id}.json`));
    }
    const server = await startOpenAIServer({ replies: ['## Action:\nThis machine has no Bluetooth.\n## Code:\n```python\nFAIL\n```'] });
    try {
      const result = await replay([tasks, '--endpoint', server.baseUrl, '--model', 'kimi-vl-test']);
      expect(result.code).toBe(0);
      const lines = result.stdout.trim().split('\n');
      expect(lines[0]).toBe('os/13584542-872b-42d8-b299-866967b5c3ef: unsupported (evaluator.func result: getter "vm_terminal_output" is not supported on a local desktop)');
      expect(lines[1]).toMatch(/^os\/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: agent failed after 1 step \(.+\)$/);
      expect(lines.slice(2)).toEqual([
        'os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa: 1',
        'os: 100.00% success over 1 run (1 unsupported)',
        'total: 100.00% success over 1 run (1 unsupported)',
        `results: ${out}`,
      ]);
      expect(server.chatRequests()).toHaveLength(1);
      expect(readdirSync(join(out, 'os')).sort()).toEqual(['13584542-872b-42d8-b299-866967b5c3ef', 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa']);
    } finally {
      await server.stop();
    }
  });
});
