import { dirname } from 'node:path';
import { prepareEvaluator, runSteps, type RunOutcome } from './evaluator.ts';
import type { TaskHost } from './host.ts';
import { exampleDir, writeScore, writeUnsupported } from './results.ts';
import { prepareSteps } from './steps.ts';
import type { OsworldTask } from './task.ts';

export class ConsentRequiredError extends Error {
  override readonly name = 'ConsentRequiredError';
  constructor(
    readonly taskId: string,
    readonly commands: readonly string[],
  ) {
    super(
      `task ${taskId} runs ${commands.length} command${commands.length === 1 ? '' : 's'} from the task file; ` +
        `read them and re-run with --allow-exec to allow them: ${commands.map((c, i) => `[${i + 1}] ${c}`).join(' ')}`,
    );
  }
}

export interface PreparedTask {
  readonly task: OsworldTask;
  /** Why the task cannot run here, one entry per step, metric or getter; empty when it can. */
  readonly unsupported: readonly string[];
  /** Every program the task would run (set-up, postconfig, getters), as shown for consent. */
  readonly commands: readonly string[];
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
    commands: [...setup.steps.flatMap((s) => (s.command ? [s.command] : [])), ...(evaluator?.commands ?? [])],
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
 * An unsupported task runs nothing and is recorded as unsupported, never as 0.
 */
export async function runOsworldTask(options: RunTaskOptions): Promise<TaskResult> {
  const prepared = prepareTask(options.task, options);
  const dir = exampleDir(options.out, options.task);
  if (prepared.unsupported.length > 0) {
    await writeUnsupported(dir, prepared.unsupported);
    return { status: 'unsupported', reasons: prepared.unsupported, dir };
  }
  if (prepared.commands.length > 0 && !options.allowExec) throw new ConsentRequiredError(options.task.id, prepared.commands);
  const warnings = await prepared.setup(options.host, options.signal);
  warnings.forEach((w) => options.onWarning?.(w));
  const outcome = await options.act(dir, options.signal);
  if (options.evaluate === false) return { status: 'not_evaluated', warnings, dir };
  const evaluation = await prepared.evaluate(options.host, outcome, options.signal);
  evaluation.warnings.forEach((w) => options.onWarning?.(w));
  await writeScore(dir, evaluation.score);
  return { status: 'scored', score: evaluation.score, warnings: [...warnings, ...evaluation.warnings], dir };
}
