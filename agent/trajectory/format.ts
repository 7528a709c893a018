import type { Action, DesktopAction } from '../actions.ts';
import type { RunStatus } from '../events.ts';
import type { DisplayInfo } from '../operator.ts';

/**
 * One line of traj.jsonl. The first eight fields are OSWorld's (so its tooling reads Kestrel
 * runs); `kestrel` holds what OSWorld has no place for.
 */
export interface TrajectoryLine {
  readonly step_num: number;
  /** OSWorld's format: YYYYMMDD@HHMMSS (local time). */
  readonly action_timestamp: string;
  /** The code that was run (the reply's `## Code:`), or the bare word (DONE, FAIL, WAIT). */
  readonly action: string;
  /** The model's whole reply. */
  readonly response: string;
  readonly reward: number;
  readonly done: boolean;
  readonly info: Record<string, unknown>;
  /** The screen after the step (OSWorld saves the observation the step produced). */
  readonly screenshot_file: string;
  readonly kestrel: {
    readonly actions: readonly Action[];
    readonly desktop_actions: readonly DesktopAction[];
    readonly thinking?: string;
    readonly description?: string;
    /** The screenshot the model looked at when it chose this step. */
    readonly observation_file: string;
    readonly timings: { readonly model_ms: number; readonly execute_ms: number; readonly step_ms: number };
    readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number };
    /** Parse errors corrected during this step. */
    readonly corrections?: readonly string[];
  };
}

/** The process recording a run: enough to tell, later, whether it is still alive. */
export interface RunWriter {
  readonly pid: number;
  /** A hash naming this boot of this machine (never the host name itself). */
  readonly boot: string;
}

/** run.json: written atomically at start and end, so it is either the old or the new version. */
export interface RunRecord {
  readonly run_id: string;
  readonly instruction: string;
  readonly model: string;
  readonly display: DisplayInfo;
  readonly started_at: string;
  /**
   * 'running' while the run goes on. Readers report a 'running' run whose writer is gone
   * (killed, crashed, machine rebooted) as 'interrupted'; the file itself is never rewritten.
   */
  readonly status: RunStatus | 'running' | 'interrupted';
  readonly reason?: string;
  readonly steps?: number;
  readonly answer?: string;
  readonly finished_at?: string;
  readonly duration_ms?: number;
  readonly initial_screenshot_file?: string;
  /** Who is writing the run; absent in runs recorded before Kestrel wrote it. */
  readonly writer?: RunWriter;
  readonly format: 'kestrel-trajectory/1';
}

/** OSWorld's action_timestamp: datetime.now().strftime("%Y%m%d@%H%M%S"). */
export function osworldTimestamp(date: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}@${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}
