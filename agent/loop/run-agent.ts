import { randomUUID } from 'node:crypto';
import { isTerminal, type Action, type DesktopAction } from '../actions.ts';
import { mapAction } from '../coordinates.ts';
import type { AgentEvent, RunStatus } from '../events.ts';
import type { GenerateResult, ImageContent, VisionLanguageModel } from '../model.ts';
import type { Operator, Screenshot } from '../operator.ts';
import { parseKimiResponse, type ParseResult } from '../parser/index.ts';
import { agentMessages, correctionMessages, defaultGeneration, type PromptHistoryStep, type PromptVariant } from '../prompts/agent-prompt.ts';
import type { TrajectorySink } from '../trajectory/index.ts';
import type { PauseController } from './pause.ts';
import { settle, type SettleOptions } from './settle.ts';
import { defaultStopRules, type StopDecision, type StopRule } from './stop-rules.ts';
import { RUN_DEFAULTS } from './defaults.ts';
import { raceAbort, RunAbortedError, sleep, withRetries, type RetryOptions } from './timing.ts';

/** What the person sees before a step runs, in confirm mode. */
export interface PlannedStep {
  readonly step: number;
  readonly response: string;
  readonly thinking?: string;
  readonly description?: string;
  readonly actions: readonly Action[];
  readonly desktopActions: readonly DesktopAction[];
  readonly screenshot: Screenshot;
}

export interface RunAgentOptions {
  readonly model: VisionLanguageModel;
  readonly operator: Operator;
  readonly signal?: AbortSignal;
  readonly onEvent?: (event: AgentEvent) => void;
  /** Replaces the default rules (finished/fail/call_user, maxSteps, repeated action, time limit). */
  readonly stopRules?: StopRule;
  readonly maxSteps?: number;
  /** The same action this many steps in a row ends the run (default 4). */
  readonly maxRepeats?: number;
  readonly timeLimitMs?: number;
  /** Called before each step's actions run; false ends the run ("declined"). */
  readonly confirm?: (plan: PlannedStep) => Promise<boolean>;
  readonly pause?: PauseController;
  /** Pause after each action (default RUN_DEFAULTS.actionDelayMs); the run's one pacing. 0 = none. */
  readonly actionDelayMs?: number;
  /**
   * Retries for screenshots that fail transiently. Model requests are not retried here: a model
   * that can fail transiently (an endpoint) retries inside its client and reports it via onRetry.
   */
  readonly retries?: RetryOptions;
  /** Wait for the screen to settle after acting; false skips it (one capture is still taken). */
  readonly settle?: SettleOptions | false;
  readonly variant?: PromptVariant;
  /** Screenshots per request, the current one included (default 2). */
  readonly screenshotsInContext?: number;
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly recorder?: TrajectorySink;
  readonly runId?: string;
}

export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly reason: string;
  readonly steps: number;
  readonly answer?: string;
  readonly durationMs: number;
}

/** Ends the run from deep inside a step with a status and reason. */
class StopRun extends Error {
  constructor(readonly decision: StopDecision) {
    super(decision.reason);
  }
}

function describeError(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function toImage(shot: Screenshot): ImageContent {
  return { mimeType: 'image/png', data: shot.png };
}

/** The code to record for a step: what the model wrote, or the bare words it used. */
function codeOf(parsed: Extract<ParseResult, { ok: true }>): string {
  return parsed.code ?? parsed.actions.map((a) => a.kind).join('; ');
}

/**
 * The agent: capture → ask the model → parse → map coordinates → announce → execute →
 * record, until a stop rule, the person or an error ends it. Never throws for run-time
 * failures: the result (and the final run_finished event) says how the run ended.
 */
export async function runAgent(instruction: string, options: RunAgentOptions): Promise<RunResult> {
  const { model, operator, signal } = options;
  const runId = options.runId ?? randomUUID();
  const emit = (event: AgentEvent): void => options.onEvent?.(event);
  const variant = options.variant ?? 'instruct';
  const generation = { ...defaultGeneration(variant), ...(options.maxTokens !== undefined ? { maxTokens: options.maxTokens } : {}), ...(options.temperature !== undefined ? { temperature: options.temperature } : {}) };
  const stopRule = options.stopRules ?? defaultStopRules({ maxSteps: options.maxSteps, maxRepeats: options.maxRepeats, timeLimitMs: options.timeLimitMs });
  const retries = options.retries ?? {};
  const actionDelayMs = options.actionDelayMs ?? RUN_DEFAULTS.actionDelayMs;
  const screenshots = Math.max(1, options.screenshotsInContext ?? RUN_DEFAULTS.screenshots);
  const startedAt = Date.now();
  const history: PromptHistoryStep[] = [];
  const actionHistory: Action[][] = [];
  let steps = 0;
  let started = false;

  const checkAbort = (): void => {
    if (signal?.aborted) throw new RunAbortedError(signal.reason);
  };
  const checkpoint = async (): Promise<void> => {
    checkAbort();
    if (options.pause && (await options.pause.whilePaused(signal, () => emit({ type: 'paused' })))) {
      checkAbort();
      emit({ type: 'resumed' });
    }
    if (options.timeLimitMs !== undefined && Date.now() - startedAt >= options.timeLimitMs) {
      throw new StopRun({ status: 'time_limit', reason: `ran for longer than ${Math.round(options.timeLimitMs / 1000)} s` });
    }
  };
  const capture = (step: number): Promise<Screenshot> =>
    withRetries(() => operator.screenshot(signal), retries, {
      ...(signal ? { signal } : {}),
      onRetry: ({ attempt, attempts, delayMs, error }) => emit({ type: 'retry', step, what: 'screenshot', attempt, attempts, delayMs, error: describeError(error) }),
    });
  const generate = (step: number, messages: ReturnType<typeof agentMessages>): Promise<GenerateResult> =>
    raceAbort(
      model.generate({
        messages,
        ...generation,
        ...(signal ? { signal } : {}),
        onToken: (delta) => emit({ type: 'token', step, delta }),
        onRetry: ({ attempt, attempts, delayMs, error }) => emit({ type: 'retry', step, what: 'model', attempt, attempts, delayMs, error: describeError(error) }),
      }),
      signal,
    );

  const finish = async (decision: StopDecision): Promise<RunResult> => {
    const durationMs = Date.now() - startedAt;
    const result: RunResult = { runId, status: decision.status, reason: decision.reason, steps, durationMs, ...(decision.answer !== undefined ? { answer: decision.answer } : {}) };
    if (started && options.recorder) {
      try {
        await options.recorder.finish({ status: result.status, reason: result.reason, steps, durationMs, ...(result.answer !== undefined ? { answer: result.answer } : {}) });
      } catch (err) {
        if (result.status !== 'error') {
          const failed: RunResult = { ...result, status: 'error', reason: `the trajectory could not be finished: ${describeError(err)}` };
          emit({ type: 'run_finished', status: failed.status, reason: failed.reason, steps, durationMs });
          return failed;
        }
      }
    }
    emit({ type: 'run_finished', status: result.status, reason: result.reason, steps, durationMs, ...(result.answer !== undefined ? { answer: result.answer } : {}) });
    return result;
  };

  /** The operator's objection to any action of a step, checked before any of it runs. */
  const refusalOf = async (actions: readonly DesktopAction[]): Promise<string | undefined> => {
    if (!operator.refusal) return undefined;
    for (const action of actions) {
      const refusal = await operator.refusal(action);
      if (refusal !== undefined) return refusal;
    }
    return undefined;
  };

  /** Asks the model, and once more with the complaint if the reply does not parse or cannot be done here. */
  const decide = async (step: number, shot: Screenshot) => {
    let messages = agentMessages({ instruction, variant, history, screenshot: toImage(shot), screenshotsInContext: screenshots });
    const corrections: string[] = [];
    let modelMs = 0;
    for (;;) {
      const began = performance.now();
      const reply = await generate(step, messages);
      modelMs += performance.now() - began;
      checkAbort();
      const parsed = parseKimiResponse(reply.text, { imageSize: { width: shot.width, height: shot.height } });
      const desktopActions = parsed.ok ? parsed.actions.map((action) => mapAction(action, shot.display)) : [];
      const error = parsed.ok ? await refusalOf(desktopActions) : parsed.error;
      if (parsed.ok && error === undefined) return { reply, parsed, desktopActions, modelMs, corrections };
      if (corrections.length >= 1) {
        throw new StopRun({ status: 'error', reason: `the model's reply could not be used after a correction: ${error}` });
      }
      corrections.push(error!);
      emit({ type: 'correction', step, error: error! });
      messages = [...messages, ...correctionMessages(reply.text, error!)];
    }
  };

  try {
    checkAbort();
    let current = await capture(0);
    emit({ type: 'run_started', runId, instruction, model: model.name, display: current.display, startedAt });
    await options.recorder?.start({ runId, instruction, model: model.name, display: current.display, startedAt, initialScreenshot: current.png });
    started = true;

    for (;;) {
      await checkpoint();
      const step = steps + 1;
      const stepStarted = performance.now();
      emit({ type: 'step_started', step });
      emit({ type: 'screenshot', step, png: current.png, width: current.width, height: current.height });
      const { reply, parsed, desktopActions, modelMs, corrections } = await decide(step, current);
      emit({
        type: 'planned',
        step,
        response: reply.text,
        ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}),
        actions: parsed.actions,
        desktopActions,
        modelMs,
      });

      if (options.confirm && desktopActions.some((a) => !isTerminal(a))) {
        emit({ type: 'awaiting_confirmation', step });
        const approved = await raceAbort(
          options.confirm({ step, response: reply.text, ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}), ...(parsed.description !== undefined ? { description: parsed.description } : {}), actions: parsed.actions, desktopActions, screenshot: current }),
          signal,
        );
        if (!approved) throw new StopRun({ status: 'aborted', reason: `step ${step} was declined` });
      }

      const executeStarted = performance.now();
      let acted = false;
      for (const [index, action] of desktopActions.entries()) {
        if (isTerminal(action)) break;
        await checkpoint();
        const began = performance.now();
        await raceAbort(operator.execute(action, signal), signal);
        acted = true;
        emit({ type: 'action_executed', step, index, action, ms: performance.now() - began });
        // A wait is its own pause; after anything else, let the screen (and the person) catch up.
        if (actionDelayMs > 0 && action.kind !== 'wait') await sleep(actionDelayMs, signal);
      }
      const executeMs = performance.now() - executeStarted;

      const after = acted ? (options.settle === false ? await capture(step) : await settle(options.settle ?? {}, signal, () => capture(step))) : current;
      steps = step;
      actionHistory.push([...parsed.actions]);
      history.push({ response: reply.text, ...(parsed.description !== undefined ? { description: parsed.description } : {}), ...(parsed.code !== undefined ? { code: parsed.code } : {}), screenshot: toImage(current) });
      // Only the last few screenshots are ever sent again: let older ones go, so long runs stay small.
      for (let i = 0; i < history.length - screenshots; i++) if (history[i]!.screenshot) history[i] = { ...history[i]!, screenshot: undefined };
      const decision = stopRule({ steps, history: actionHistory, startedAt, now: Date.now() });
      const stepMs = performance.now() - stepStarted;
      await options.recorder?.step({
        step_num: step,
        action: codeOf(parsed),
        response: reply.text,
        reward: 0,
        done: decision !== undefined,
        info: {},
        ...(acted ? { screenshotAfter: after.png } : {}),
        kestrel: {
          actions: parsed.actions,
          desktop_actions: desktopActions,
          ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}),
          ...(parsed.description !== undefined ? { description: parsed.description } : {}),
          timings: { model_ms: Math.round(modelMs), execute_ms: Math.round(executeMs), step_ms: Math.round(stepMs) },
          ...(reply.usage ? { usage: { prompt_tokens: reply.usage.promptTokens, completion_tokens: reply.usage.completionTokens } } : {}),
          ...(corrections.length > 0 ? { corrections } : {}),
        },
      });
      emit({ type: 'step_finished', step, ms: stepMs });
      if (decision) return await finish(decision);
      current = after;
    }
  } catch (err) {
    if (err instanceof StopRun) return finish(err.decision);
    if (err instanceof RunAbortedError || signal?.aborted) return finish({ status: 'aborted', reason: 'stopped by the person' });
    return finish({ status: 'error', reason: describeError(err) });
  }
}
