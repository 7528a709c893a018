import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { readTrajectory } from '../trajectory/index.ts';
import type { ReplayOptions, ReplayStep } from './replay-trajectory.ts';

export interface RecordedRun {
  readonly dir: string;
  /** The JSONL file the steps came from. */
  readonly file: string;
  readonly kind: 'kestrel' | 'osworld';
  readonly steps: readonly ReplayStep[];
  readonly coordinates: ReplayOptions['coordinates'];
}

export class RecordedRunError extends Error {
  override readonly name = 'RecordedRunError';
}

async function pngSize(path: string): Promise<{ width: number; height: number } | undefined> {
  try {
    const meta = await sharp(path).metadata();
    return meta.width && meta.height ? { width: meta.width, height: meta.height } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A recorded run to replay, from a run folder or any JSONL file of steps: Kestrel's (run.json +
 * traj.jsonl, the model's code, normalised) or OSWorld's (pyautogui code in pixels of the
 * recorded screen, whose size is read from its screenshots; `fallbackScreen` when there are none).
 */
export async function loadRecordedRun(path: string, fallbackScreen: { width: number; height: number }): Promise<RecordedRun> {
  if (!(await stat(path).catch(() => undefined))) throw new RecordedRunError(`trajectory ${path} does not exist`);
  const trajectory = await readTrajectory(path);
  const { dir, file } = trajectory;
  const steps = trajectory.steps
    .filter((s) => typeof s.action === 'string')
    .map((s): ReplayStep => ({
      action: s.action,
      ...(typeof s.response === 'string' ? { response: s.response } : {}),
      ...(s.kestrel?.actions ? { actions: s.kestrel.actions } : {}),
    }));
  if (trajectory.steps.some((s) => typeof s.action !== 'string')) {
    throw new RecordedRunError(`${file} holds dict actions (OSWorld's computer_13 space); only pyautogui code strings replay`);
  }
  if (steps.length === 0) throw new RecordedRunError(`${file} holds no actions to replay`);
  const kestrel = trajectory.run !== undefined || trajectory.steps.some((s) => s.kestrel !== undefined);
  if (kestrel) {
    const display = trajectory.run?.display;
    const screen = display
      ? { width: Math.round(display.bounds.width * display.scaleFactor), height: Math.round(display.bounds.height * display.scaleFactor) }
      : fallbackScreen;
    return { dir, file, kind: 'kestrel', steps, coordinates: { mode: 'auto', screen } };
  }
  // Screenshot names come from the file: only plain names beside it are looked at.
  const first = trajectory.steps.map((s) => s.screenshot_file).find((f) => typeof f === 'string' && f !== '' && basename(f) === f);
  const screen = (await pngSize(join(dir, 'initial_state.png'))) ?? (first ? await pngSize(join(dir, first)) : undefined) ?? fallbackScreen;
  return { dir, file, kind: 'osworld', steps, coordinates: { mode: 'pixels', screen } };
}
