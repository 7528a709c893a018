import { isTerminal, type Action, type DesktopAction } from '../actions.ts';
import { mapAction } from '../coordinates.ts';
import { sleep } from '../loop/timing.ts';
import type { DisplayInfo, Operator } from '../operator.ts';
import { parseKimiResponse } from '../parser/index.ts';
import type { TrajectorySink } from '../trajectory/index.ts';

/** One recorded step: its code string (a Kimi reply's code, OSWorld's pyautogui, or DONE/FAIL/WAIT). */
export interface ReplayStep {
  readonly action: string;
  readonly response?: string;
  /** Kestrel's trajectories also keep the parsed actions: used when the code alone does not parse. */
  readonly actions?: readonly Action[];
}

export interface ReplayOptions {
  readonly steps: readonly ReplayStep[];
  readonly operator: Operator;
  readonly display: DisplayInfo;
  /**
   * How to read the coordinates: OSWorld's pyautogui code is in pixels of the screen it was
   * recorded on (`screen`); Kestrel's own trajectories hold the model's normalised code.
   */
  readonly coordinates: { readonly mode: 'pixels'; readonly screen: { readonly width: number; readonly height: number } } | { readonly mode: 'auto'; readonly screen: { readonly width: number; readonly height: number } };
  readonly recorder?: TrajectorySink;
  readonly signal?: AbortSignal;
  /** Pause after each step so the desktop can react (OSWorld waits between actions too). */
  readonly settleMs?: number;
}

export interface ReplayResult {
  readonly steps: number;
  /** The last action was FAIL: what OSWorld's `infeasible` evaluator looks for. */
  readonly endedWithFail: boolean;
  /** 'aborted': the signal fired; the steps before it were executed (and recorded). */
  readonly ended: 'finished' | 'failed' | 'call_user' | 'exhausted' | 'aborted';
}

export class ReplayError extends Error {
  override readonly name = 'ReplayError';
}

/** Parses one code string with the agent's own parser (never Python) and maps it to the display. */
export function parseRecordedCode(code: string, coordinates: ReplayOptions['coordinates'], display: DisplayInfo): { actions: Action[]; desktop: DesktopAction[] } {
  const parsed = parseKimiResponse(code, { imageSize: coordinates.screen, coordinates: coordinates.mode });
  if (!parsed.ok) throw new ReplayError(parsed.error);
  return { actions: [...parsed.actions], desktop: parsed.actions.map((a) => mapAction(a, display)) };
}

/**
 * Re-executes a recorded run through the parser and the operator, step by step, stopping at
 * DONE / FAIL like the run did, or when the signal fires. A step that does not parse stops the
 * replay with its number.
 */
export async function replayTrajectory(options: ReplayOptions): Promise<ReplayResult> {
  const progress = { steps: 0 };
  try {
    return await replaySteps(options, progress);
  } catch (err) {
    if (options.signal?.aborted) return { steps: progress.steps, endedWithFail: false, ended: 'aborted' };
    throw err;
  }
}

async function replaySteps(options: ReplayOptions, progress: { steps: number }): Promise<ReplayResult> {
  const { operator, display, signal } = options;
  let steps = 0;
  for (const [index, step] of options.steps.entries()) {
    signal?.throwIfAborted();
    let plan;
    try {
      plan = parseRecordedCode(step.action, options.coordinates, display);
    } catch (err) {
      if (!step.actions) {
        throw new ReplayError(`trajectory step ${index + 1} (${JSON.stringify(step.action.slice(0, 60))}) cannot be replayed: ${(err as Error).message}`);
      }
      plan = { actions: [...step.actions], desktop: step.actions.map((a) => mapAction(a, display)) };
    }
    const started = performance.now();
    let ended: ReplayResult['ended'] | undefined;
    for (const [i, action] of plan.actions.entries()) {
      if (isTerminal(action)) {
        ended = action.kind === 'finished' ? 'finished' : action.kind === 'fail' ? 'failed' : 'call_user';
        break;
      }
      await operator.execute(plan.desktop[i]!, signal);
    }
    steps += 1;
    progress.steps = steps;
    if (options.settleMs) await sleep(options.settleMs, signal);
    const executeMs = performance.now() - started;
    if (options.recorder) {
      const shot = await operator.screenshot(signal);
      await options.recorder.step({
        step_num: steps,
        action: step.action,
        response: step.response ?? step.action,
        reward: 0,
        done: ended !== undefined,
        info: ended === 'failed' ? { fail: true } : ended === 'finished' ? { done: true } : {},
        screenshotAfter: shot.png,
        kestrel: { actions: plan.actions, desktop_actions: plan.desktop, timings: { model_ms: 0, execute_ms: executeMs, step_ms: executeMs } },
      });
    }
    if (ended) return { steps, endedWithFail: ended === 'failed', ended };
  }
  return { steps, endedWithFail: false, ended: 'exhausted' };
}
