import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { envVar, heldRunFile, RecordFolderError, runAgent, TrajectoryFormatError, TrajectoryRecorder, type DisplayInfo, type Operator, type VisionLanguageModel } from '../../agent/index.ts';
import { DesktopOperator } from '../../agent/desktop.ts';
import { ConsentRequiredError, exampleDir, formatConsentList, formatResultsSummary, loadOsworldTasks, loadRecordedRun, localTaskHost, parseRecordedCode, PlaceholderError, prepareTask, RecordedRunError, ReplayError, replayTrajectory, runOsworldTask, StepFailedError, summarizeResults, TaskFormatError, type OsworldTask, type RecordedRun, type RunOutcome } from '../../agent/eval.ts';
import { CliError } from '../errors.ts';
import { oneLine } from '../../shared/one-line.ts';
import { catchInterrupt } from '../interrupt.ts';
import { recordFolder } from '../record-folder.ts';
import { generationSettings, resolveModel, type ModelOptionValues } from '../model-options.ts';

export interface ReplayCommandOptions extends ModelOptionValues {
  readonly trajectory?: string;
  readonly allowExec?: boolean;
  readonly record: string;
  readonly clientPasswordEnv?: string;
  readonly domain?: string;
  readonly maxSteps: number;
  readonly display?: string;
  /** Pause after each replayed step, in ms. */
  readonly settle: number;
  /** Only say what each task would need; run nothing. */
  readonly check?: boolean;
  /** Commander's --no-evaluate: false skips the evaluator (and writes no result.txt). */
  readonly evaluate: boolean;
}

/** `--check`: which tasks Kestrel can run here and which commands each would ask consent for. */
function checkTasks(tasks: readonly OsworldTask[], password: string | undefined, evaluate: boolean): number {
  const screen = { width: 1920, height: 1080 };
  for (const task of tasks) {
    const prepared = prepareTask(task, { screen, clientPassword: password ?? '{CLIENT_PASSWORD}', evaluate });
    const name = `${task.domain}/${task.id}`;
    if (prepared.unsupported.length > 0) process.stdout.write(`${name}: unsupported (${prepared.unsupported.join('; ')})\n`);
    else if (prepared.consent.length > 0) process.stdout.write(`${name}: runs with --allow-exec: ${formatConsentList(prepared.consent)}\n`);
    else process.stdout.write(`${name}: runs\n`);
  }
  return 0;
}

/** DesktopUnavailableError, when there is no desktop to drive, is a KestrelError: cli/main.ts prints it as one line. */
function openOperator(options: ReplayCommandOptions): DesktopOperator {
  return new DesktopOperator(options.display !== undefined ? { display: options.display } : {});
}

async function loadTasks(path: string, options: ReplayCommandOptions): Promise<OsworldTask[]> {
  try {
    const tasks = await loadOsworldTasks(path, options.domain);
    if (options.trajectory && tasks.length !== 1) {
      throw new CliError(`--trajectory replays one task, but ${path} holds ${tasks.length}; give the task's own .json file`, 2);
    }
    return tasks;
  } catch (err) {
    if (err instanceof TaskFormatError) throw new CliError(err.message, 2);
    throw err;
  }
}

function clientPassword(options: ReplayCommandOptions): string | undefined {
  if (options.clientPasswordEnv === undefined) return undefined;
  // Own keys only: process.env.constructor is Object, not an environment variable.
  const value = envVar(process.env, options.clientPasswordEnv);
  if (!value) throw new CliError(`--client-password-env ${options.clientPasswordEnv}: that environment variable is not set or empty`, 2);
  return value;
}

/** Acts on one task: replays the recorded run, or runs the agent on the instruction; records into `dir`. */
function actor(task: OsworldTask, operator: Operator, display: DisplayInfo, recorded: RecordedRun | undefined, model: VisionLanguageModel | undefined, options: ReplayCommandOptions) {
  return async (dir: string, signal?: AbortSignal): Promise<RunOutcome> => {
    const recorder = new TrajectoryRecorder(dir);
    if (recorded) {
      const startedAt = Date.now();
      const initial = await operator.screenshot(signal);
      await recorder.start({ runId: randomUUID(), instruction: task.instruction, model: `replay of ${recorded.file}`, display, startedAt, initialScreenshot: initial.png });
      const result = await replayTrajectory({ steps: recorded.steps, operator, display, coordinates: recorded.coordinates, recorder, settleMs: options.settle, ...(signal ? { signal } : {}) });
      const durationMs = Date.now() - startedAt;
      if (result.ended === 'aborted') {
        await recorder.finish({ status: 'aborted', reason: `stopped by the person after ${result.steps} replayed steps`, steps: result.steps, durationMs });
        return { endedWithFail: false };
      }
      const status = result.ended === 'failed' ? 'failed' : result.ended === 'call_user' ? 'call_user' : 'finished';
      await recorder.finish({ status, reason: `replayed ${result.steps} recorded steps`, steps: result.steps, durationMs });
      return { endedWithFail: result.endedWithFail };
    }
    const run = await runAgent(task.instruction, { model: model!, operator, recorder, maxSteps: options.maxSteps, ...generationSettings(options), ...(signal ? { signal } : {}) });
    process.stdout.write(`${task.domain}/${task.id}: agent ${run.status} after ${run.steps} step${run.steps === 1 ? '' : 's'} (${run.reason})\n`);
    return { endedWithFail: run.status === 'failed' };
  };
}

/** Refuses, before anything runs, to record a task into a folder that holds an earlier run. */
async function refuseHeldRuns(tasks: readonly OsworldTask[], out: string): Promise<void> {
  const held: string[] = [];
  for (const task of tasks) {
    const dir = exampleDir(out, task);
    const file = await heldRunFile(dir);
    if (file) held.push(`${dir} (${file})`);
  }
  if (held.length === 0) return;
  const one = held.length === 1;
  const shown = held.length > 3 ? [...held.slice(0, 3), `and ${held.length - 3} more`] : held;
  throw new CliError(
    `--record ${out}: ${one ? 'the task folder already holds a run' : `${held.length} task folders already hold runs`}: ${shown.join(', ')}; ` +
      `give a new --record folder, or move ${one ? 'that run' : 'those runs'} away first (nothing was overwritten)`,
    2,
  );
}

/** The one-line CLI error for what a task can fail with; anything else stays unexpected. */
function taskError(task: OsworldTask, err: unknown): unknown {
  if (err instanceof ReplayError || err instanceof StepFailedError || err instanceof RecordFolderError) return new CliError(`${task.id}: ${err.message}`);
  return err;
}

/**
 * `kestrel replay`: for each task, check it, ask for consent, set up, act (agent or recorded
 * run), evaluate, write `<record>/<domain>/<id>/result.txt`; prints one line per task. Every
 * check (tasks, record folder, earlier runs, model flags, display, trajectory, consent) comes
 * before an in-process model loads and before anything runs.
 */
export async function replayCommand(taskPath: string, options: ReplayCommandOptions): Promise<number> {
  const tasks = await loadTasks(taskPath, options);
  const password = clientPassword(options);
  if (options.check) return checkTasks(tasks, password, options.evaluate);
  // The results root holds many tasks' runs; each task's own folder is checked below.
  const out = await recordFolder(options.record, { fresh: false });
  await refuseHeldRuns(tasks, out);
  // An endpoint client is cheap and checks the model flags; an in-process model loads for
  // minutes, so it waits until every other check has passed.
  const needsModel = !options.trajectory;
  let model = needsModel && options.modelDir === undefined ? await resolveModel(options) : undefined;
  const operator = openOperator(options);
  let display: DisplayInfo;
  try {
    display = await operator.display();
  } catch (err) {
    throw new CliError(oneLine(err));
  }
  const screen = { width: display.bounds.width, height: display.bounds.height };
  let recorded: RecordedRun | undefined;
  if (options.trajectory) {
    try {
      recorded = await loadRecordedRun(resolve(options.trajectory), screen);
    } catch (err) {
      if (err instanceof RecordedRunError || err instanceof TrajectoryFormatError) throw new CliError(err.message, 2);
      throw err;
    }
  }

  // Consent first, for every task, before anything runs.
  try {
    const needing = tasks.flatMap((task) => {
      const prepared = prepareTask(task, { screen, clientPassword: password, evaluate: options.evaluate });
      return prepared.unsupported.length === 0 && prepared.consent.length > 0 ? [prepared] : [];
    });
    if (!options.allowExec && needing.length > 0) {
      const all = needing.flatMap((p) => p.consent.map((c) => (needing.length > 1 ? `${p.task.id}: ${c}` : c)));
      throw new ConsentRequiredError(needing.length > 1 ? `${needing.length} tasks` : needing[0]!.task.id, all);
    }
  } catch (err) {
    if (err instanceof ConsentRequiredError || err instanceof PlaceholderError) throw new CliError(err.message, 2);
    throw err;
  }
  if (needsModel && model === undefined) model = await resolveModel(options);

  const host = localTaskHost({
    screen,
    pyautogui: async (code, signal) => {
      const plan = parseRecordedCode(code, { mode: 'pixels', screen }, display);
      for (const action of plan.desktop) {
        if (action.kind === 'finished' || action.kind === 'fail' || action.kind === 'call_user') continue;
        await operator.execute(action, signal);
      }
    },
  });
  const interrupt = catchInterrupt();
  try {
    for (const task of tasks) {
      const result = await runOsworldTask({
        task,
        host,
        screen,
        ...(password !== undefined ? { clientPassword: password } : {}),
        allowExec: options.allowExec === true,
        evaluate: options.evaluate,
        out,
        act: actor(task, operator, display, recorded, model, options),
        signal: interrupt.signal,
        onWarning: (w) => process.stderr.write(`kestrel: ${task.id}: ${w}\n`),
      }).catch((err: unknown) => {
        throw interrupt.requested ? err : taskError(task, err);
      });
      if (result.status === 'scored') process.stdout.write(`${task.domain}/${task.id}: ${result.score}\n`);
      else if (result.status === 'not_evaluated') process.stdout.write(`${task.domain}/${task.id}: not evaluated (--no-evaluate)\n`);
      else process.stdout.write(`${task.domain}/${task.id}: unsupported (${result.reasons.join('; ')})\n`);
    }
  } catch (err) {
    if (!interrupt.requested) throw err;
    // Like `kestrel run`: a stop the person asked for is exit 130, not an error.
    process.stderr.write(`kestrel: replay stopped; the tasks finished so far are in ${out}\n`);
    return 130;
  } finally {
    interrupt.dispose();
    await host.dispose();
  }
  if (tasks.length > 1 && options.evaluate) process.stdout.write(`${formatResultsSummary(await summarizeResults(out))}\n`);
  process.stdout.write(`results: ${out}\n`);
  return 0;
}
