import { dirname } from 'node:path';
import { prepareEvaluator, type RunOutcome } from './evaluator.ts';
import type { TaskHost } from './host.ts';
import { exampleDir, writeScore, writeUnsupported } from './results.ts';
import { consentOf, prepareSteps, runSteps } from './steps.ts';
import type { OsworldTask } from './task.ts';
import { refuseHeldRun } from '../trajectory/record-folder.ts';

/**
 * The numbered list a person reads before allowing a task (the consent error and `--check`
 * both show this). Each entry is already one line with its invisible characters escaped.
 */
export function formatConsentList(items: readonly string[]): string {
  return items.map((item, i) => `[${i + 1}] ${item}`).join(' ');
}

export class ConsentRequiredError extends Error {
  override readonly name = 'ConsentRequiredError';
  constructor(
    /** The task's id, or "<n> tasks". */
    readonly taskId: string,
    readonly items: readonly string[],
  ) {
    super(
      `task ${taskId} needs consent for ${items.length} item${items.length === 1 ? '' : 's'} of the task file ` +
        `(programs, file copies, closing windows, keyboard and mouse input); read them and re-run with --allow-exec to allow them: ${formatConsentList(items)}`,
    );
  }
}

export interface PreparedTask {
  readonly task: OsworldTask;
  /** Why the task cannot run here, one entry per step, metric or getter; empty when it can. */
  readonly unsupported: readonly string[];
  /** Everything the task would do that needs consent (set-up, postconfig, getters), one line each. */
  readonly consent: readonly string[];
  setup(host: TaskHost, signal?: AbortSignal): Promise<string[]>;
  evaluate(host: TaskHost, outcome: RunOutcome, signal?: AbortSignal): Promise<{ score: number; warnings: readonly string[] }>;
}

export interface TaskRunContext {
  readonly screen: { readonly width: number; readonly height: number };
  readonly clientPassword?: string;
  /** false: set up and act only; the evaluator is neither checked nor run, and no score is written. */
  readonly evaluate?: boolean;
}

/** Checks a whole task (set-up, postconfig, evaluator) without running anything. */
export function prepareTask(task: OsworldTask, context: TaskRunContext): PreparedTask {
  const ctx = {
    placeholders: { screenWidth: context.screen.width, screenHeight: context.screen.height, clientPassword: context.clientPassword },
    taskDir: dirname(task.source),
  };
  const setup = prepareSteps(task.config, 'config', ctx);
  const evaluator = context.evaluate === false ? undefined : prepareEvaluator(task.evaluator, ctx);
  return {
    task,
    unsupported: [...setup.unsupported, ...(evaluator?.unsupported ?? [])],
    consent: [...consentOf(setup.steps), ...(evaluator?.consent ?? [])],
    setup: (host, signal) => runSteps(setup.steps, host, signal),
    evaluate: async (host, outcome, signal) => {
      if (!evaluator) throw new Error(`task ${task.id} was prepared without its evaluator`);
      return evaluator.score(host, outcome, signal);
    },
  };
}

export type TaskResult =
  | { readonly status: 'scored'; readonly score: number; readonly warnings: readonly string[]; readonly dir: string }
  | { readonly status: 'not_evaluated'; readonly warnings: readonly string[]; readonly dir: string }
  | { readonly status: 'unsupported'; readonly reasons: readonly string[]; readonly dir: string };

export interface RunTaskOptions extends TaskRunContext {
  readonly task: OsworldTask;
  readonly host: TaskHost;
  readonly allowExec: boolean;
  /** Results root; the task writes into `<out>/<domain>/<id>/`. */
  readonly out: string;
  /** The agent, or a recorded trajectory, working on the task; records into `dir`. */
  readonly act: (dir: string, signal?: AbortSignal) => Promise<RunOutcome>;
  readonly signal?: AbortSignal;
  readonly onWarning?: (warning: string) => void;
}

/**
 * One task end to end: check it, ask for consent, set up, act, evaluate, write result.txt.
 * An unsupported task runs nothing and is recorded as unsupported, never as 0. A task folder
 * that already holds a run is refused before anything runs.
 */
export async function runOsworldTask(options: RunTaskOptions): Promise<TaskResult> {
  const prepared = prepareTask(options.task, options);
  const dir = exampleDir(options.out, options.task);
  await refuseHeldRun(dir, 'the task folder');
  if (prepared.unsupported.length > 0) {
    await writeUnsupported(dir, prepared.unsupported);
    return { status: 'unsupported', reasons: prepared.unsupported, dir };
  }
  if (prepared.consent.length > 0 && !options.allowExec) throw new ConsentRequiredError(options.task.id, prepared.consent);
  const warnings = await prepared.setup(options.host, options.signal);
  warnings.forEach((w) => options.onWarning?.(w));
  const outcome = await options.act(dir, options.signal);
  // A run stopped half-way is not scored: its result would say nothing about the task.
  options.signal?.throwIfAborted();
  if (options.evaluate === false) return { status: 'not_evaluated', warnings, dir };
  const evaluation = await prepared.evaluate(options.host, outcome, options.signal);
  options.signal?.throwIfAborted();
  evaluation.warnings.forEach((w) => options.onWarning?.(w));
  await writeScore(dir, evaluation.score);
  return { status: 'scored', score: evaluation.score, warnings: [...warnings, ...evaluation.warnings], dir };
}
