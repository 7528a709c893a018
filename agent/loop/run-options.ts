import type { Action, DesktopAction } from '../../shared/actions.ts';
import type { AgentEvent, RunStatus } from '../events.ts';
import type { VisionLanguageModel } from '../../shared/model.ts';
import type { Operator, Screenshot } from '../operator.ts';
import type { PromptHistoryStep, PromptVariant } from '../prompts/agent-prompt.ts';
import type { TrajectorySink } from '../trajectory/index.ts';
import type { RetryOptions } from '../../shared/timing.ts';
import type { PauseController } from './pause.ts';
import type { SettleOptions } from './settle.ts';
import type { StopRule } from './stop-rules.ts';

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
  /**
   * When the run ends, as the AI SDK's stopWhen: one rule or a list, the first that decides
   * wins. Replaces the default rules (finished/fail/call_user, maxSteps, repeated action);
   * `timeLimitMs` still applies. Asked before each step and when one ends: what a rule sees
   * changes only then.
   */
  readonly stopRules?: StopRule | readonly StopRule[];
  readonly maxSteps?: number;
  /** The same action this many steps in a row ends the run (default 4). */
  readonly maxRepeats?: number;
  /** The run's one wall-clock limit, asked with the rules and also before each action. */
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
  /**
   * Shapes the history before each request (as the AI SDK's prepareStep shapes a step's
   * messages): gets the steps so far, returns the ones to keep and send. The default,
   * keepRecentScreenshots, lets screenshots older than the context go, so long runs stay small.
   */
  readonly prepareStep?: PrepareStep;
}

/** What prepareStep sees before a step: its number and the history of the steps before it. */
export interface StepContext {
  readonly step: number;
  readonly history: readonly PromptHistoryStep[];
}

export type PrepareStep = (context: StepContext) => readonly PromptHistoryStep[];

/** Keeps every step's text but only the last `screenshots - 1` steps' screenshots (the current one is the last). */
export function keepRecentScreenshots(screenshots: number): PrepareStep {
  return ({ history }) => history.map((h, i) => (i < history.length - (screenshots - 1) && h.screenshot ? { ...h, screenshot: undefined } : h));
}

export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  readonly reason: string;
  readonly steps: number;
  readonly answer?: string;
  readonly durationMs: number;
}
