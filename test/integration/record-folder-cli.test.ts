import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runKestrel } from '../harness/cli.ts';

// --record is checked first: before the display, the model (a --model-dir load takes minutes
// with real weights; here the folder is missing, so reaching the load would say so instead)
// and the run header. No display is needed for any of this.
const env = { ...process.env };
delete env.DISPLAY;
delete env.WAYLAND_DISPLAY;
const kestrel = (args: string[]) => runKestrel(args, env, 20_000);
const INFEASIBLE = resolve(import.meta.dirname, '../fixtures/osworld/os/b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa.json');

let work: string;
let file: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), 'kestrel-record-cli-'));
  file = join(work, 'notes.txt');
  writeFileSync(file, 'mine\n');
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

function expectOneLine(result: { code: number; stdout: string; stderr: string }, code: number, message: string | RegExp): void {
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  if (typeof message === 'string') expect(result.stderr).toBe(`kestrel: ${message}\n`);
  else expect(result.stderr).toMatch(message);
  expect(result.code).toBe(code);
}

describe('a bad --record is refused in one line before anything expensive', () => {
  const run = (record: string) => ['run', 'open the Downloads folder', '--model-dir', join(work, 'no-model'), '--record', record];
  const replay = (record: string) => ['replay', INFEASIBLE, '--trajectory', join(work, 'no-trajectory'), '--record', record];

  test.each([
    ['run', run],
    ['replay', replay],
  ])('%s: /proc/x (which once spun at full CPU), a file, a folder under a file', async (_name, args) => {
    expectOneLine(await kestrel(args('/proc/kestrel-x')), 2, /^kestrel: --record \/proc\/kestrel-x: cannot create it \(.+\); give a folder you can write to\n$/);
    expectOneLine(await kestrel(args(file)), 2, `--record ${file}: ${file} is a file, not a folder; give a folder path`);
    expectOneLine(await kestrel(args(join(file, 'x'))), 2, `--record ${join(file, 'x')}: ${file} is a file, not a folder; give a folder path`);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  });
});

describe('--record into a folder that holds another run is refused, and nothing is overwritten', () => {
  test('run: the folder itself holds a run', async () => {
    const record = join(work, 'downloads');
    mkdirSync(record);
    writeFileSync(join(record, 'traj.jsonl'), '{"step_num": 1}\n');
    writeFileSync(join(record, 'step_1_20260101@000000.png'), 'png');
    expectOneLine(
      await kestrel(['run', 'x', '--model-dir', join(work, 'no-model'), '--record', record]),
      2,
      `--record ${record} already holds a run (traj.jsonl); give a new or empty folder, or move that run away first (nothing was overwritten)`,
    );
    expect(readFileSync(join(record, 'traj.jsonl'), 'utf8')).toBe('{"step_num": 1}\n');
    expect(readdirSync(record).sort()).toEqual(['step_1_20260101@000000.png', 'traj.jsonl']);
  });

  test('replay: the results folder may hold other tasks, but not an earlier run of this one', async () => {
    const results = join(work, 'results');
    mkdirSync(join(results, 'chrome', 'other-task'), { recursive: true });
    writeFileSync(join(results, 'chrome', 'other-task', 'result.txt'), '1.0\n');
    // Another task's results do not matter: the run goes on to the next check (the trajectory).
    const other = await kestrel(['replay', INFEASIBLE, '--trajectory', join(work, 'no-trajectory'), '--record', results]);
    expectOneLine(other, 1, 'there is no display (DISPLAY is not set); run Kestrel inside an X11 session, or under Xvfb');

    const dir = join(results, 'os', 'b3d4a89c-53f2-4d6b-8b6a-541fb5d205fa');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'result.txt'), '1.0\n');
    expectOneLine(
      await kestrel(['replay', INFEASIBLE, '--trajectory', join(work, 'no-trajectory'), '--record', results]),
      2,
      `--record ${results}: the task folder already holds a run: ${dir} (result.txt); give a new --record folder, or move that run away first (nothing was overwritten)`,
    );
    expect(readFileSync(join(dir, 'result.txt'), 'utf8')).toBe('1.0\n');
  });
});

describe('ids and domains that are not one folder name are refused before anything is written', () => {
  test.each([
    [{ id: '..', snapshot: 'os' }, 'id ".." is only dots'],
    [{ id: 'ok', snapshot: '..' }, 'snapshot ".." is only dots'],
    [{ id: 'ok', snapshot: '../../etc' }, `snapshot "../../etc" may hold only letters, digits, '_', '-' and '.'`],
  ])('%j', async (fields, problem) => {
    const task = join(work, 'task.json');
    writeFileSync(task, JSON.stringify({ instruction: 'x', evaluator: { func: 'infeasible' }, ...fields }));
    const record = join(work, 'deep', 'results');
    const result = await kestrel(['replay', task, '--trajectory', join(work, 'no-trajectory'), '--record', record]);
    expectOneLine(result, 2, `${task}: ${problem}; it names a results folder, so it must be one plain folder name`);
    expect(readdirSync(work).sort()).toEqual(['notes.txt', 'task.json']);
    expect(existsSync(record)).toBe(false);
  });

  test('--domain is checked as it is parsed', async () => {
    const result = await kestrel(['replay', INFEASIBLE, '--domain', '..', '--check']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`--domain ".." is only dots; it names one results folder.`);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
