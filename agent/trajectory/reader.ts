import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord, TrajectoryLine } from './format.ts';

export interface Trajectory {
  /** Undefined when run.json is missing (an OSWorld result directory, or a run killed before it started). */
  readonly run?: RunRecord;
  readonly steps: readonly TrajectoryLine[];
  /** True when the last line was cut off mid-write (the process died); earlier steps are intact. */
  readonly truncatedTail: boolean;
}

export class TrajectoryFormatError extends Error {
  override readonly name = 'TrajectoryFormatError';
}

/** Reads a recorded run (Kestrel's or OSWorld's layout). Tolerates a torn last line, nothing else. */
export async function readTrajectory(dir: string): Promise<Trajectory> {
  let text: string;
  try {
    text = await readFile(join(dir, 'traj.jsonl'), 'utf8');
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
      else throw new TrajectoryFormatError(`${join(dir, 'traj.jsonl')} line ${i + 1} is not a trajectory step`);
    }
  });
  let run: RunRecord | undefined;
  try {
    run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as RunRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new TrajectoryFormatError(`${join(dir, 'run.json')} is not valid JSON`);
  }
  return { ...(run ? { run } : {}), steps, truncatedTail };
}
