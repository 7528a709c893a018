import type { Action } from '../../shared/actions.ts';
import type { RunStatus } from '../events.ts';
import { RUN_DEFAULTS } from './defaults.ts';

/** What a stop rule sees after each step. */
export interface RunProgress {
  /** Steps finished so far (1-based count). */
  readonly steps: number;
  /** The actions of every finished step, oldest first. */
  readonly history: readonly (readonly Action[])[];
  readonly startedAt: number;
  readonly now: number;
}

export interface StopDecision {
  readonly status: RunStatus;
  readonly reason: string;
  readonly answer?: string;
}

/** Looks at the run so far and says whether (and why) it must end. */
export type StopRule = (progress: RunProgress) => StopDecision | undefined;

/** The model said it is done, that it cannot, or that it needs the person. */
export const terminalAction: StopRule = ({ history }) => {
  const last = history.at(-1) ?? [];
  for (const action of last) {
    if (action.kind === 'finished') return { status: 'finished', reason: 'the model said the task is done', ...(action.answer !== undefined ? { answer: action.answer } : {}) };
    if (action.kind === 'fail') return { status: 'failed', reason: action.reason ? `the model gave up: ${action.reason}` : 'the model said the task cannot be done' };
    if (action.kind === 'call_user') return { status: 'call_user', reason: action.message ? `the model needs you: ${action.message}` : 'the model asked for the person' };
  }
  return undefined;
};

export function maxSteps(limit: number): StopRule {
  return ({ steps }) => (steps >= limit ? { status: 'max_steps', reason: `reached the limit of ${limit} steps` } : undefined);
}

/** Points within 1% of the screen count as the same place: a model stuck on one spot jitters. */
function sameness(actions: readonly Action[]): string {
  return JSON.stringify(actions, (key, value: unknown) => ((key === 'x' || key === 'y') && typeof value === 'number' ? Math.round(value * 100) : value));
}

/** Stops when the last `times` steps did the same thing (the same wrong click, forever). */
export function repeatedAction(times: number): StopRule {
  return ({ history }) => {
    if (history.length < times) return undefined;
    const recent = history.slice(-times).map(sameness);
    if (recent.every((key) => key === recent[0])) {
      return { status: 'repeated_action', reason: `the same action was chosen ${times} times in a row` };
    }
    return undefined;
  };
}

export function timeLimit(ms: number): StopRule {
  return ({ startedAt, now }) => (now - startedAt >= ms ? { status: 'time_limit', reason: `ran for longer than ${Math.round(ms / 1000)} s` } : undefined);
}

/** The first rule that decides wins, in the order given. */
export function anyOf(...rules: StopRule[]): StopRule {
  return (progress) => {
    for (const rule of rules) {
      const decision = rule(progress);
      if (decision) return decision;
    }
    return undefined;
  };
}

export interface DefaultStopOptions {
  readonly maxSteps?: number;
  readonly maxRepeats?: number;
}

/**
 * finished / fail / call_user, then RUN_DEFAULTS' steps and repeats. No clock: a run's time
 * limit is its `timeLimitMs` option, which the Run adds to whichever rules it is given.
 */
export function defaultStopRules(options: DefaultStopOptions = {}): StopRule {
  return anyOf(terminalAction, maxSteps(options.maxSteps ?? RUN_DEFAULTS.maxSteps), repeatedAction(options.maxRepeats ?? RUN_DEFAULTS.maxRepeats));
}
