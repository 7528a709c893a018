import { randomUUID } from 'node:crypto';
import type { Action } from '../../shared/actions.ts';
import type { AgentEvent } from '../events.ts';
import type { ChatMessage, GenerateResult } from '../../shared/model.ts';
import type { Screenshot } from '../operator.ts';
import { defaultGeneration, type PromptHistoryStep, type PromptVariant } from '../prompts/agent-prompt.ts';
import { raceAbort, RunAbortedError, withRetries } from '../../shared/timing.ts';
import { oneLine } from '../../shared/one-line.ts';
import { RUN_DEFAULTS } from './defaults.ts';
import { keepRecentScreenshots, type PrepareStep, type RunAgentOptions, type RunResult } from './run-options.ts';
import { anyOf, defaultStopRules, timeLimit, type RunProgress, type StopDecision, type StopRule } from './stop-rules.ts';

/** Ends the run from deep inside a step with a status and reason. */
export class StopRun extends Error {
  constructor(readonly decision: StopDecision) {
    super(decision.reason);
  }
}

/**
 * One run's settings (the options with their defaults filled in), its state (the history so
 * far) and the services every step uses: events, the checkpoint, captures, model requests and
 * the stop conditions. The steps (steps.ts) take it explicitly.
 */
export class Run {
  readonly id: string;
  readonly startedAt = Date.now();
  readonly screenshots: number;
  readonly prepareStep: PrepareStep;
  readonly actionDelayMs: number;
  /** Every stop condition in the order they are asked (the rules, then the time limit); the first that decides wins. */
  private readonly anyStop: StopRule;
  /** The time limit, the one condition that can change while a step runs. */
  private readonly clock: StopRule | undefined;
  readonly variant: PromptVariant;
  private readonly generation: ReturnType<typeof defaultGeneration>;

  /** What the model is sent as the steps before this one (shaped by prepareStep). */
  history: readonly PromptHistoryStep[] = [];
  /** Every finished step's actions, for the stop rules. */
  readonly actions: Action[][] = [];
  /** Whether the recorder has started (and so must be finished). */
  started = false;

  constructor(
    readonly instruction: string,
    readonly options: RunAgentOptions,
  ) {
    this.id = options.runId ?? randomUUID();
    this.variant = options.variant ?? 'instruct';
    this.generation = { ...defaultGeneration(this.variant), ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}), ...(options.temperature !== undefined ? { temperature: options.temperature } : {}) };
    this.screenshots = Math.max(1, options.screenshotsInContext ?? RUN_DEFAULTS.screenshots);
    this.prepareStep = options.prepareStep ?? keepRecentScreenshots(this.screenshots);
    this.actionDelayMs = options.actionDelayMs ?? RUN_DEFAULTS.actionDelayMs;
    const rules = options.stopRules ?? defaultStopRules({ maxSteps: options.maxSteps, maxRepeats: options.maxRepeats });
    this.clock = options.timeLimitMs !== undefined ? timeLimit(options.timeLimitMs) : undefined;
    this.anyStop = anyOf(...(typeof rules === 'function' ? [rules] : rules), ...(this.clock ? [this.clock] : []));
  }

  /** Steps finished so far: each finished step has one entry in `actions`. */
  get steps(): number {
    return this.actions.length;
  }

  get signal(): AbortSignal | undefined {
    return this.options.signal;
  }

  emit(event: AgentEvent): void {
    this.options.onEvent?.(event);
  }

  progress(): RunProgress {
    return { steps: this.steps, history: this.actions, startedAt: this.startedAt, now: Date.now() };
  }

  /**
   * Every stop condition, asked between steps: before each step and when one ends. Between one
   * step's actions only the clock moves (the steps and their actions change when the step
   * ends), so there `checkpoint` asks the time limit alone.
   */
  stopDecision(): StopDecision | undefined {
    return this.anyStop(this.progress());
  }

  checkAbort(): void {
    if (this.signal?.aborted) throw new RunAbortedError(this.signal.reason);
  }

  /** Honours Stop, Pause and the stop conditions: all of them before a step, the time limit before an action. */
  async checkpoint(before: 'step' | 'action'): Promise<void> {
    this.checkAbort();
    if (this.options.pause && (await this.options.pause.whilePaused(this.signal, () => this.emit({ type: 'paused' })))) {
      this.checkAbort();
      this.emit({ type: 'resumed' });
    }
    const stop = before === 'step' ? this.stopDecision() : this.clock?.(this.progress());
    if (stop) throw new StopRun(stop);
  }

  capture(step: number): Promise<Screenshot> {
    const { signal } = this;
    return withRetries(() => this.options.operator.screenshot(signal), this.options.retries ?? {}, {
      ...(signal ? { signal } : {}),
      onRetry: ({ attempt, attempts, delayMs, error }) => this.emit({ type: 'retry', step, what: 'screenshot', attempt, attempts, delayMs, error: oneLine(error) }),
    });
  }

  generate(step: number, messages: readonly ChatMessage[]): Promise<GenerateResult> {
    const { signal } = this;
    return raceAbort(
      this.options.model.generate({
        messages,
        ...this.generation,
        ...(signal ? { signal } : {}),
        onToken: (delta) => this.emit({ type: 'token', step, delta }),
        onRetry: ({ attempt, attempts, delayMs, error }) => this.emit({ type: 'retry', step, what: 'model', attempt, attempts, delayMs, error: oneLine(error) }),
      }),
      signal,
    );
  }

  /** The run's result: the trajectory finished (a failure to finish it is the run's error) and run_finished sent. */
  async finish(decision: StopDecision): Promise<RunResult> {
    const { steps } = this;
    const durationMs = Date.now() - this.startedAt;
    const result: RunResult = { runId: this.id, status: decision.status, reason: decision.reason, steps, durationMs, ...(decision.answer !== undefined ? { answer: decision.answer } : {}) };
    if (this.started && this.options.recorder) {
      try {
        await this.options.recorder.finish({ status: result.status, reason: result.reason, steps, durationMs, ...(result.answer !== undefined ? { answer: result.answer } : {}) });
      } catch (err) {
        if (result.status !== 'error') {
          const failed: RunResult = { ...result, status: 'error', reason: `the trajectory could not be finished: ${oneLine(err)}` };
          this.emit({ type: 'run_finished', status: failed.status, reason: failed.reason, steps, durationMs });
          return failed;
        }
      }
    }
    this.emit({ type: 'run_finished', status: result.status, reason: result.reason, steps, durationMs, ...(result.answer !== undefined ? { answer: result.answer } : {}) });
    return result;
  }
}
