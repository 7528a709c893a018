import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RecordingOperator } from '../testing/fakes.ts';
import { readTrajectory } from './reader.ts';
import { prepareRecordFolder, RecordFolderError } from './record-folder.ts';
import { TrajectoryRecorder } from './recorder.ts';
import { currentWriter } from './writer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kestrel-record-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const display = new RecordingOperator().display;
const start = (recorder: TrajectoryRecorder) =>
  recorder.start({ runId: 'r', instruction: 'x', model: 'm', display, startedAt: Date.now(), initialScreenshot: new Uint8Array([1]) });

describe('a record folder is checked before any work', () => {
  test('missing levels are created and the absolute path comes back', async () => {
    const path = join(dir, 'a', 'b', 'c');
    expect(await prepareRecordFolder(path, { label: '--record', fresh: true })).toBe(path);
    expect(readdirSync(path)).toEqual([]);
  });

  // Node's recursive mkdir never returns for these (it spins at full CPU); each must fail at once.
  test.each([
    ['/proc/kestrel-x', /^--record \/proc\/kestrel-x: cannot create it \(.+\); give a folder you can write to$/],
    ['/proc/kestrel-x/y/z', /^--record \/proc\/kestrel-x\/y\/z: cannot create it \(.+\); give a folder you can write to$/],
    ['/sys/kestrel-x', /^--record \/sys\/kestrel-x: cannot create it \(permission denied at \/sys\/kestrel-x\); give a folder you can write to$/],
  ])('%s is refused in one line', async (path, message) => {
    const started = performance.now();
    const error = await prepareRecordFolder(path, { label: '--record', fresh: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecordFolderError);
    expect((error as Error).message).toMatch(message);
    expect(performance.now() - started).toBeLessThan(2000);
  });

  test('a file, or a folder under a file, is named as the file it is', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'mine');
    await expect(prepareRecordFolder(file, { label: '--record', fresh: true })).rejects.toThrow(`--record ${file}: ${file} is a file, not a folder; give a folder path`);
    await expect(prepareRecordFolder(join(file, 'run'), { label: '--record', fresh: true })).rejects.toThrow(`--record ${join(file, 'run')}: ${file} is a file, not a folder; give a folder path`);
    expect(readFileSync(file, 'utf8')).toBe('mine');
  });

  test('with fresh, a folder holding another run is refused and left as it was; without, it is fine', async () => {
    await start(new TrajectoryRecorder(dir));
    const before = readdirSync(dir).sort();
    await expect(prepareRecordFolder(dir, { label: '--record', fresh: true })).rejects.toThrow(
      `--record ${dir} already holds a run (traj.jsonl); give a new or empty folder, or move that run away first (nothing was overwritten)`,
    );
    expect(await prepareRecordFolder(dir, { label: '--record', fresh: false })).toBe(dir);
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});

describe('the recorder never mixes two runs', () => {
  test("a second run into the same folder is refused before it touches the first one's files", async () => {
    const first = new TrajectoryRecorder(dir);
    await start(first);
    await first.step({ step_num: 1, action: 'WAIT', response: 'WAIT', reward: 0, done: false, info: {}, screenshotAfter: new Uint8Array([2]), kestrel: { actions: [], desktop_actions: [], timings: { model_ms: 1, execute_ms: 1, step_ms: 2 } } });
    await first.finish({ status: 'finished', reason: 'done', steps: 1, durationMs: 5 });
    const files = readdirSync(dir).sort();
    const traj = readFileSync(join(dir, 'traj.jsonl'), 'utf8');
    await expect(start(new TrajectoryRecorder(dir))).rejects.toThrow(RecordFolderError);
    expect(readdirSync(dir).sort()).toEqual(files);
    expect(readFileSync(join(dir, 'traj.jsonl'), 'utf8')).toBe(traj);
  });
});

describe("a run whose process died reads as interrupted, not running", () => {
  const writeRun = (writer: unknown) => {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'traj.jsonl'), '');
    writeFileSync(join(dir, 'run.json'), JSON.stringify({ run_id: 'r', instruction: 'x', model: 'm', display, started_at: new Date().toISOString(), status: 'running', ...(writer ? { writer } : {}), format: 'kestrel-trajectory/1' }));
  };

  test('the process recording it is alive: running', async () => {
    await start(new TrajectoryRecorder(dir));
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).writer).toEqual(currentWriter());
    expect((await readTrajectory(dir)).run?.status).toBe('running');
  });

  test('killed with SIGKILL: interrupted, with a reason; the file itself is not rewritten', async () => {
    const child = spawn('sleep', ['30']);
    await new Promise((done) => child.once('spawn', done));
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGKILL');
    await exited;
    writeRun({ pid: child.pid, boot: currentWriter().boot });
    const run = (await readTrajectory(dir)).run;
    expect(run).toMatchObject({ status: 'interrupted', reason: expect.stringContaining('stopped before it finished') });
    expect(JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')).status).toBe('running');
  });

  test('written before a reboot, or by a Kestrel that did not say who wrote it: interrupted', async () => {
    writeRun({ pid: process.pid, boot: 'another-boot' });
    expect((await readTrajectory(dir)).run?.status).toBe('interrupted');
    writeRun(undefined);
    expect((await readTrajectory(dir)).run?.status).toBe('interrupted');
  });
});
