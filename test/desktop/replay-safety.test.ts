import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readTrajectory } from '../../agent/trajectory/index.ts';
import { runKestrel, startKestrel } from '../harness/cli.ts';
import { waitFor } from '../harness/processes.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';

// `kestrel replay` against a real X display, where a task file's keystrokes would land in a real
// shell, and where Ctrl-C and kill -9 hit a real replay half-way.

let screen: VirtualDisplay;
let work: string;

beforeAll(async () => {
  screen = await startVirtualDisplay({ width: 1024, height: 768 });
  work = mkdtempSync(join(tmpdir(), 'kestrel-replay-safety-'));
});
afterAll(async () => {
  await screen?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

function writeTask(name: string, config: unknown[]): string {
  const path = join(work, `${name}.json`);
  writeFileSync(path, JSON.stringify({ id: name, snapshot: 'os', instruction: 'x', config, evaluator: { func: 'infeasible' } }));
  return path;
}

/** Any JSONL file of steps, not named traj.jsonl: `--trajectory` takes it as it is. */
function writeSteps(name: string, actions: string[]): string {
  const path = join(work, `${name}.jsonl`);
  writeFileSync(path, actions.map((action, i) => `${JSON.stringify({ step_num: i + 1, action })}\n`).join(''));
  return path;
}

const xdotool = (...args: string[]): string => execFileSync('xdotool', args, { env: screen.env }).toString();

describe("a task file's keystrokes need consent", () => {
  test('set-up that types `touch <marker>\\n` into the focused shell creates nothing without --allow-exec', async () => {
    const marker = join(work, 'marker');
    const ready = join(work, 'shell-ready');
    // A real shell in a real terminal, focused, as when Kestrel is started from one.
    screen.launch('xterm', ['-T', 'kestrel-shell', '-geometry', '100x30+0+0', '-e', 'sh'], { env: { PS1: '$ ' } });
    const win = await screen.waitForWindow('kestrel-shell');
    xdotool('mousemove', String(win.x + 50), String(win.y + 50));
    xdotool('search', '--name', '^kestrel-shell$', 'windowfocus', '--sync');
    // The harness can reach that shell: what Kestrel types would run.
    xdotool('type', `touch ${ready}\n`);
    await waitFor('the shell to run a typed command', () => existsSync(ready), 15_000);

    const task = writeTask('typed-setup', [
      { type: 'execute', parameters: { command: ['python3', '-c', `import pyautogui; pyautogui.write('touch ${marker}\\n')`] } },
    ]);
    const steps = writeSteps('done-steps', ['DONE']);
    const refused = await runKestrel(['replay', task, '--trajectory', steps, '--no-evaluate', '--record', join(work, 'refused')], screen.env);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      'kestrel: task typed-setup needs consent for 1 item of the task file (programs, file copies, closing windows, keyboard and mouse input); ' +
        `read them and re-run with --allow-exec to allow them: [1] keyboard and mouse: pyautogui.write('touch ${marker}\\n')\n`,
    );
    expect(refused.code).toBe(2);
    // Typing is immediate; give the shell time to run anything that did arrive.
    await new Promise((done) => setTimeout(done, 1500));
    expect(existsSync(marker)).toBe(false);

    // With consent the same set-up reaches the shell: the check above could have failed.
    const allowed = await runKestrel(['replay', task, '--trajectory', steps, '--no-evaluate', '--allow-exec', '--record', join(work, 'allowed')], screen.env);
    expect(allowed.stderr).toBe('');
    expect(allowed.code).toBe(0);
    await waitFor('the consented keystrokes to create the marker', () => existsSync(marker), 15_000);
  });
});

describe('an interrupted replay', () => {
  const longReplay = (record: string) => {
    const task = writeTask('long-replay', []);
    // The first step is recorded, then the second waits a minute: time to interrupt it.
    const steps = writeSteps('long-steps', ['pyautogui.moveTo(10, 10)', 'time.sleep(60)', 'DONE']);
    const kestrel = startKestrel(['replay', task, '--trajectory', steps, '--settle', '0', '--record', record], screen.env);
    const dir = join(record, 'os', 'long-replay');
    const firstStep = waitFor('the first replayed step to be recorded', () => existsSync(join(dir, 'traj.jsonl')) && readFileSync(join(dir, 'traj.jsonl'), 'utf8').includes('\n'), 30_000);
    return { kestrel, dir, firstStep };
  };

  test('Ctrl-C exits 130 like `kestrel run`, records the run as aborted and writes no score', async () => {
    const record = join(work, 'ctrl-c');
    const { kestrel, dir, firstStep } = longReplay(record);
    await firstStep;
    const started = Date.now();
    kestrel.child.kill('SIGINT');
    expect(await kestrel.exited()).toBe(130);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(kestrel.stderr()).toBe(`kestrel: stopping (Ctrl-C again to quit at once)\nkestrel: replay stopped; the tasks finished so far are in ${record}\n`);
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'))).toMatchObject({ status: 'aborted', steps: 1 });
    expect(existsSync(join(dir, 'result.txt'))).toBe(false);
  });

  test('killed with SIGKILL: run.json still says running, and the reader shows the run as interrupted', async () => {
    const { kestrel, dir, firstStep } = longReplay(join(work, 'kill-9'));
    await firstStep;
    kestrel.child.kill('SIGKILL');
    await kestrel.exited();
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('running');
    const read = await readTrajectory(dir);
    expect(read.run?.status).toBe('interrupted');
    expect(read.steps).toHaveLength(1);
  });
});
