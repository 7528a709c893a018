import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { makeFolder, writeFileAtomic } from '../files.ts';
import type { DisplayInfo } from '../operator.ts';
import { osworldTimestamp, type RunRecord, type TrajectoryLine } from './format.ts';
import { refuseHeldRun } from './record-folder.ts';
import { currentWriter } from './writer.ts';

/** Writes and fsyncs, so the file survives a crash right after. */
async function writeSynced(path: string, data: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export interface RunStart {
  readonly runId: string;
  readonly instruction: string;
  readonly model: string;
  readonly display: DisplayInfo;
  readonly startedAt: number;
  readonly initialScreenshot?: Uint8Array;
}

export interface StepRecord extends Omit<TrajectoryLine, 'action_timestamp' | 'screenshot_file' | 'kestrel'> {
  /** PNG of the screen after the step; when absent the observation file is reused. */
  readonly screenshotAfter?: Uint8Array;
  readonly kestrel: Omit<TrajectoryLine['kestrel'], 'observation_file'>;
  readonly at?: Date;
}

export interface RunEnd {
  readonly status: RunRecord['status'];
  readonly reason: string;
  readonly steps: number;
  readonly answer?: string;
  readonly durationMs: number;
}

/** Where the loop reports a run, step by step. The recorder below writes OSWorld's layout. */
export interface TrajectorySink {
  start(run: RunStart): Promise<void>;
  step(step: StepRecord): Promise<void>;
  finish(end: RunEnd): Promise<void>;
}

/**
 * Records a run in OSWorld's results layout: traj.jsonl (one line appended and fsynced per
 * step) and step_<n>_<timestamp>.png, plus run.json. A crash or kill mid-run leaves every
 * finished step readable. A folder that already holds a run is refused, never mixed into.
 */
export class TrajectoryRecorder implements TrajectorySink {
  private run: RunRecord | undefined;
  /** The file showing the screen the next step will look at. */
  private observation = '';

  constructor(readonly dir: string) {}

  async start(run: RunStart): Promise<void> {
    await makeFolder(this.dir);
    await refuseHeldRun(this.dir, 'the trajectory folder');
    await writeSynced(join(this.dir, 'traj.jsonl'), '');
    const started = new Date(run.startedAt);
    if (run.initialScreenshot) {
      this.observation = `initial_${osworldTimestamp(started)}.png`;
      await writeSynced(join(this.dir, this.observation), run.initialScreenshot);
    }
    this.run = {
      run_id: run.runId,
      instruction: run.instruction,
      model: run.model,
      display: run.display,
      started_at: started.toISOString(),
      status: 'running',
      ...(this.observation ? { initial_screenshot_file: this.observation } : {}),
      writer: currentWriter(),
      format: 'kestrel-trajectory/1',
    };
    await writeFileAtomic(join(this.dir, 'run.json'), `${JSON.stringify(this.run, null, 2)}\n`);
  }

  async step(step: StepRecord): Promise<void> {
    const at = step.at ?? new Date();
    const timestamp = osworldTimestamp(at);
    const screenshotFile = `step_${step.step_num}_${timestamp}.png`;
    if (step.screenshotAfter) await writeSynced(join(this.dir, screenshotFile), step.screenshotAfter);
    const file = step.screenshotAfter ? screenshotFile : this.observation;
    const line: TrajectoryLine = {
      step_num: step.step_num,
      action_timestamp: timestamp,
      action: step.action,
      response: step.response,
      reward: step.reward,
      done: step.done,
      info: step.info,
      screenshot_file: file,
      kestrel: { ...step.kestrel, observation_file: this.observation },
    };
    const handle = await open(join(this.dir, 'traj.jsonl'), 'a');
    try {
      await handle.write(`${JSON.stringify(line)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.observation = file;
  }

  async finish(end: RunEnd): Promise<void> {
    if (!this.run) throw new Error('TrajectoryRecorder.finish() before start()');
    this.run = {
      ...this.run,
      status: end.status,
      reason: end.reason,
      steps: end.steps,
      ...(end.answer !== undefined ? { answer: end.answer } : {}),
      finished_at: new Date().toISOString(),
      duration_ms: Math.round(end.durationMs),
    };
    await writeFileAtomic(join(this.dir, 'run.json'), `${JSON.stringify(this.run, null, 2)}\n`);
  }
}
