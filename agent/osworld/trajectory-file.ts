import { closeSync, fsyncSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/**
 * OSWorld's traj.jsonl: one line per executed action, `action` a pyautogui code string (or
 * "DONE" / "FAIL" / "WAIT"), with the screenshot taken after it.
 */
export interface OsworldTrajectoryLine {
  readonly step_num: number;
  readonly action_timestamp: string;
  readonly action: string;
  readonly response?: string;
  readonly reward: number;
  readonly done: boolean;
  readonly info: Record<string, unknown>;
  readonly screenshot_file: string;
}

export interface RecordedAction {
  readonly step: number;
  readonly code: string;
  readonly response?: string;
}

export interface OsworldTrajectory {
  readonly actions: readonly RecordedAction[];
  /** Pixel size of the screen it was recorded on (from its first screenshot), when known. */
  readonly screen?: { readonly width: number; readonly height: number };
}

export class TrajectoryFormatError extends Error {
  override readonly name = 'TrajectoryFormatError';
}

/** OSWorld names screenshots step_<n>_<YYYYMMDD@HHMMSSffffff>.png. */
export function actionTimestamp(date = new Date()): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}@${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}${p(date.getMilliseconds() * 1000, 6)}`;
}

/**
 * Reads an OSWorld traj.jsonl (pyautogui action space). Lines that carry no action (the
 * human-run header, error records) are skipped; computer_13 dict actions are refused by line.
 */
export async function readOsworldTrajectory(path: string): Promise<OsworldTrajectory> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new TrajectoryFormatError(`trajectory ${path} cannot be read; give a traj.jsonl file or the folder holding one`);
  }
  const actions: RecordedAction[] = [];
  let firstShot: string | undefined;
  text.split('\n').forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line);
    } catch {
      // A crash can leave the last line half-written; anything else is a broken file.
      if (index === text.split('\n').length - 1 || text.split('\n').slice(index + 1).every((l) => l.trim() === '')) return;
      throw new TrajectoryFormatError(`${path} line ${index + 1} is not JSON`);
    }
    if (!('action' in entry)) return;
    if (typeof entry.action !== 'string') {
      throw new TrajectoryFormatError(
        `${path} line ${index + 1}: action is not a pyautogui code string (computer_13 dict actions are not supported)`,
      );
    }
    const step = typeof entry.step_num === 'number' ? entry.step_num : actions.length + 1;
    actions.push({ step, code: entry.action, ...(typeof entry.response === 'string' ? { response: entry.response } : {}) });
    if (!firstShot && typeof entry.screenshot_file === 'string') firstShot = entry.screenshot_file;
  });
  let screen: OsworldTrajectory['screen'];
  for (const name of ['initial_state.png', firstShot]) {
    if (!name) continue;
    try {
      const meta = await sharp(join(dirname(path), name)).metadata();
      if (meta.width && meta.height) {
        screen = { width: meta.width, height: meta.height };
        break;
      }
    } catch {
      // no screenshot beside the trajectory
    }
  }
  return { actions, ...(screen ? { screen } : {}) };
}

/** Appends traj.jsonl lines and their screenshots in OSWorld's layout; every line is fsynced. */
export class OsworldTrajectoryWriter {
  private readonly fd: number;
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    this.fd = openSync(join(dir, 'traj.jsonl'), 'w');
  }

  writeInitial(png: Uint8Array): void {
    writeFileSync(join(this.dir, 'initial_state.png'), png);
  }

  append(entry: { step: number; action: string; response?: string; done: boolean; info?: Record<string, unknown>; png?: Uint8Array }): void {
    const stamp = actionTimestamp();
    const screenshot = `step_${entry.step}_${stamp}.png`;
    if (entry.png) writeFileSync(join(this.dir, screenshot), entry.png);
    const line: OsworldTrajectoryLine = {
      step_num: entry.step,
      action_timestamp: stamp,
      action: entry.action,
      ...(entry.response !== undefined ? { response: entry.response } : {}),
      reward: 0,
      done: entry.done,
      info: entry.info ?? {},
      screenshot_file: screenshot,
    };
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
