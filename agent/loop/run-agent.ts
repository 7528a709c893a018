import { RunAbortedError } from '../../shared/timing.ts';
import { oneLine } from '../../shared/one-line.ts';
import type { RunAgentOptions, RunResult } from './run-options.ts';
import { Run, StopRun } from './run.ts';
import { act, decide, observe, record } from './steps.ts';

export { keepRecentScreenshots, type PlannedStep, type PrepareStep, type RunAgentOptions, type RunResult, type StepContext } from './run-options.ts';

/**
 * The agent: observe (capture) → decide (ask the model, parse, map coordinates) → act
 * (confirm, execute, settle) → record (history, trajectory, stop conditions), until a stop
 * condition, the person or an error ends it. Never throws for run-time failures: the result
 * (and the final run_finished event) says how the run ended.
 */
export async function runAgent(instruction: string, options: RunAgentOptions): Promise<RunResult> {
  const run = new Run(instruction, options);
  const { model, recorder, signal } = options;
  try {
    run.checkAbort();
    let current = await run.capture(0);
    run.emit({ type: 'run_started', runId: run.id, instruction, model: model.name, display: current.display, startedAt: run.startedAt });
    await recorder?.start({ runId: run.id, instruction, model: model.name, display: current.display, startedAt: run.startedAt, initialScreenshot: current.png });
    run.started = true;

    for (;;) {
      await run.checkpoint('step');
      const step = { number: run.steps + 1, shot: current, startedAt: performance.now() };
      observe(run, step);
      const plan = await decide(run, step);
      const outcome = await act(run, step, plan);
      const decision = await record(run, step, plan, outcome);
      if (decision) return await run.finish(decision);
      current = outcome.after;
    }
  } catch (err) {
    if (err instanceof StopRun) return run.finish(err.decision);
    if (err instanceof RunAbortedError || signal?.aborted) return run.finish({ status: 'aborted', reason: 'stopped by the person' });
    return run.finish({ status: 'error', reason: oneLine(err) });
  }
}
