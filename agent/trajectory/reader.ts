import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RunRecord, TrajectoryLine } from './format.ts';
import { writerAlive } from './writer.ts';

export interface Trajectory {
  /** The run's folder: where run.json and the screenshots the lines name are. */
  readonly dir: string;
  /** The JSONL file the steps were read from. */
  readonly file: string;
  /**
   * Undefined when run.json is missing (an OSWorld result directory, or a run killed before it
   * started). A run whose writer died before finishing reads as 'interrupted', not 'running'.
   */
  readonly run?: RunRecord;
  readonly steps: readonly TrajectoryLine[];
  /** True when the last line was cut off mid-write (the process died); earlier steps are intact. */
  readonly truncatedTail: boolean;
}

export class TrajectoryFormatError extends Error {
  override readonly name = 'TrajectoryFormatError';
}

/** A 'running' record whose writer is gone is what the reader reports as interrupted. */
function withLiveStatus(run: RunRecord): RunRecord {
  if (run.status !== 'running' || writerAlive(run.writer)) return run;
  return { ...run, status: 'interrupted', reason: 'the run stopped before it finished (its process was killed or crashed)' };
}

/**
 * Reads a recorded run (Kestrel's or OSWorld's layout): a run folder holding traj.jsonl, or any
 * JSONL file of steps. Screenshot names in the lines are read from the file's folder; run.json
 * only belongs to a folder's traj.jsonl (a file under another name may be a copy from anywhere).
 * Tolerates a torn last line, nothing else.
 */
export async function readTrajectory(path: string): Promise<Trajectory> {
  const isFile = (await stat(path).catch(() => undefined))?.isFile() === true;
  const dir = isFile ? dirname(path) : path;
  const file = isFile ? path : join(path, 'traj.jsonl');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new TrajectoryFormatError(`${dir} holds no traj.jsonl; is it a trajectory directory?`);
    throw err;
  }
  const lines = text.split('\n');
  const steps: TrajectoryLine[] = [];
  let truncatedTail = false;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      const parsed = JSON.parse(line) as TrajectoryLine;
      if (typeof parsed.step_num !== 'number') throw new Error('no step_num');
      steps.push(parsed);
    } catch {
      const isLast = lines.slice(i + 1).every((rest) => rest.trim() === '');
      if (isLast && !text.endsWith('\n')) truncatedTail = true;
      else throw new TrajectoryFormatError(`${file} line ${i + 1} is not a trajectory step (a JSON object with "step_num")`);
    }
  });
  let run: RunRecord | undefined;
  if (basename(file) === 'traj.jsonl') {
    try {
      run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TrajectoryFormatError(`${join(dir, 'run.json')} is not valid JSON`);
    }
  }
  return { dir, file, ...(run ? { run: withLiveStatus(run) } : {}), steps, truncatedTail };
}
