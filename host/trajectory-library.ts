import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isInsideFolder, pngSize, realPathInside } from '../agent/index.ts';
import { targetsOf, type Action, type NormalizedPoint } from '../shared/actions.ts';
import type { TrajectoryLibrary } from './api.ts';
import type { ImageData, TrajectoryStepView, TrajectorySummary, TrajectoryView } from './types.ts';

/** The parts of a recorded step the viewer uses: OSWorld's fields, plus Kestrel's when present. */
export interface RecordedStep {
  readonly step_num: number;
  readonly action: string;
  readonly response?: string;
  readonly screenshot_file: string;
  readonly kestrel?: {
    readonly actions: readonly Action[];
    readonly thinking?: string;
    readonly observation_file: string;
    readonly timings?: { readonly step_ms: number };
  };
}

export interface RecordedRun {
  readonly run?: {
    readonly instruction: string;
    readonly status: string;
    readonly started_at: string;
    readonly initial_screenshot_file?: string;
  };
  readonly steps: readonly RecordedStep[];
}

/** The agent's trajectory reader and a parser for OSWorld's pyautogui action text. */
export interface TrajectorySources {
  read(dir: string): Promise<RecordedRun>;
  /** Points an OSWorld action string aims at, as fractions of an image of this size. */
  targetsOfCode(code: string, size: { width: number; height: number }): NormalizedPoint[];
}

/** Width and height of a screenshot from its PNG header (the viewer and the inspector show them). */
export const screenshotSize = (png: Uint8Array): { width: number; height: number } => pngSize(png, 'the screenshot is not a PNG file');

/**
 * Recorded runs for the viewer. A Kestrel run keeps the screenshot each step was chosen on
 * (observation_file); OSWorld keeps only the screen after each step, so there a step is shown
 * on the previous step's screenshot, the screen the agent was looking at.
 */
export function createTrajectoryLibrary(sources: TrajectorySources): TrajectoryLibrary {
  const observation = (run: RecordedRun, index: number): string | undefined => {
    const step = run.steps[index];
    if (step?.kestrel?.observation_file) return step.kestrel.observation_file;
    if (index === 0) return run.run?.initial_screenshot_file;
    return run.steps[index - 1]?.screenshot_file;
  };

  const summarize = (dir: string, run: RecordedRun): TrajectorySummary => {
    const startedAt = run.run ? Date.parse(run.run.started_at) : NaN;
    return {
      path: dir,
      name: basename(dir),
      layout: run.run || run.steps.some((s) => s.kestrel) ? 'kestrel' : 'osworld',
      steps: run.steps.length,
      ...(run.run ? { instruction: run.run.instruction, status: run.run.status } : {}),
      ...(Number.isFinite(startedAt) ? { startedAt } : {}),
    };
  };

  const readImage = async (dir: string, file: string): Promise<ImageData> => {
    // Recorded file names come from the file on disk, which may be untrusted: stay in the folder,
    // links included (a link inside the run folder may point anywhere).
    const outside = (how = '') => new Error(`the screenshot name ${JSON.stringify(file)} points outside the run folder${how}`);
    if (!isInsideFolder(resolve(dir), resolve(dir, file))) throw outside();
    const real = await realPathInside(dir, file).catch((err: NodeJS.ErrnoException) => {
      throw new Error(err.code === 'ENOENT' ? `the screenshot ${file} of ${dir} is missing` : `cannot read the screenshot ${file} of ${dir} (${err.message})`);
    });
    if (real === null) throw outside(' through a symbolic link');
    const png = new Uint8Array(await readFile(real));
    return { png, ...screenshotSize(png) };
  };

  return {
    async list(dir) {
      const root = resolve(dir);
      let entries: string[];
      try {
        entries = await readdir(root);
      } catch {
        throw new Error(`cannot read the folder ${root}; check the path`);
      }
      // A folder may be a run itself, hold runs, or hold OSWorld's <domain>/<example> levels.
      const candidates = [root, ...entries.map((e) => join(root, e))];
      for (const entry of entries) {
        const sub = join(root, entry);
        if ((await stat(sub).catch(() => undefined))?.isDirectory()) {
          for (const inner of await readdir(sub).catch(() => [] as string[])) candidates.push(join(sub, inner));
        }
      }
      const runs: TrajectorySummary[] = [];
      for (const candidate of candidates) {
        if (!(await stat(join(candidate, 'traj.jsonl')).catch(() => undefined))) continue;
        try {
          runs.push(summarize(candidate, await sources.read(candidate)));
        } catch {
          // A folder that is not a readable run is simply not listed.
        }
      }
      return runs.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0) || a.path.localeCompare(b.path));
    },

    async open(dir) {
      const root = resolve(dir);
      const run = await sources.read(root);
      const steps: TrajectoryStepView[] = [];
      for (let i = 0; i < run.steps.length; i++) {
        const step = run.steps[i]!;
        const file = observation(run, i);
        let targets: NormalizedPoint[] = [];
        if (step.kestrel) {
          targets = targetsOf(step.kestrel.actions);
        } else if (file) {
          const size = await readImage(root, file).then((img) => img, () => undefined);
          if (size) targets = sources.targetsOfCode(step.action, size);
        }
        steps.push({
          index: step.step_num,
          hasScreenshot: file !== undefined,
          ...(step.response !== undefined ? { response: step.response } : {}),
          ...(step.kestrel?.thinking !== undefined ? { thinking: step.kestrel.thinking } : {}),
          ...(step.kestrel ? { actions: step.kestrel.actions } : {}),
          actionText: step.action,
          targets,
          ...(step.kestrel?.timings ? { ms: step.kestrel.timings.step_ms } : {}),
        });
      }
      return { summary: summarize(root, run), steps } satisfies TrajectoryView;
    },

    async screenshot(dir, stepNum) {
      const root = resolve(dir);
      const run = await sources.read(root);
      const index = run.steps.findIndex((s) => s.step_num === stepNum);
      const file = index >= 0 ? observation(run, index) : undefined;
      if (!file) throw new Error(`step ${stepNum} of ${root} has no screenshot`);
      return readImage(root, file);
    },
  };
}
