import { GETTERS, unsupportedGetterReason } from './getters.ts';
import { METRICS } from './metrics.ts';
import { showText, type TaskHost } from './host.ts';
import { fillPlaceholders } from './placeholders.ts';
import { consentOf, prepareSteps, runSteps, type PreparedStep, type StepContext } from './steps.ts';
import type { GetterConfig, TaskEvaluator } from './task.ts';

/** How the run being scored ended, as far as the evaluator cares. */
export interface RunOutcome {
  /** The run's last action was `fail` (the agent declared the task infeasible). */
  readonly endedWithFail: boolean;
}

interface MetricCall {
  readonly func: string;
  readonly result: GetterConfig | null;
  readonly resultShown: GetterConfig | null;
  readonly expected: GetterConfig | null;
  readonly expectedShown: GetterConfig | null;
  readonly options: Record<string, unknown>;
}

export interface PreparedEvaluator {
  readonly postconfig: readonly PreparedStep[];
  /** Metric, getter and postconfig parts Kestrel cannot run; non-empty means "unsupported". */
  readonly unsupported: readonly string[];
  /** What postconfig and the getters would do that needs consent (programs, input), one line each. */
  readonly consent: readonly string[];
  /** Runs postconfig, the getters and the metrics; returns 0..1. */
  score(host: TaskHost, outcome: RunOutcome, signal?: AbortSignal): Promise<EvaluationScore>;
}

export interface EvaluationScore {
  readonly score: number;
  readonly warnings: readonly string[];
}

function listOf<T>(value: T | readonly T[] | undefined, count: number): (T | null)[] {
  if (Array.isArray(value)) return value.map((v) => v ?? null);
  if (value === undefined) return Array.from({ length: count }, () => null);
  return [value as T];
}

const isEmptyObject = (v: unknown): boolean => typeof v === 'object' && v !== null && Object.keys(v).length === 0;

/**
 * Checks an evaluator against what Kestrel can do locally and fills its placeholders. OSWorld's
 * rules: `infeasible` scores 1 only when the run ended with fail; for every other metric a run
 * ending with fail scores 0; a list of metrics combines with `conj` ("and": all must pass,
 * the mean of the scores; "or": any passing scores 1).
 */
export function prepareEvaluator(evaluator: TaskEvaluator, ctx: StepContext): PreparedEvaluator {
  const unsupported: string[] = [];
  const post = prepareSteps(evaluator.postconfig ?? [], 'postconfig', ctx);
  unsupported.push(...post.unsupported);

  const funcs = Array.isArray(evaluator.func) ? (evaluator.func as string[]) : [evaluator.func as string];
  if (funcs.length === 1 && funcs[0] === 'infeasible') {
    return {
      postconfig: post.steps,
      unsupported,
      consent: consentOf(post.steps),
      async score(host, outcome, signal) {
        const warnings = await runSteps(post.steps, host, signal);
        return { score: outcome.endedWithFail ? 1 : 0, warnings };
      },
    };
  }

  const resultRaw = isEmptyObject(evaluator.result) ? undefined : evaluator.result;
  const expectedRaw = isEmptyObject(evaluator.expected) ? undefined : evaluator.expected;
  const results = listOf(fillPlaceholders(resultRaw, ctx.placeholders), funcs.length);
  const resultsShown = listOf(fillPlaceholders(resultRaw, ctx.placeholders, false), funcs.length);
  const expecteds = listOf(fillPlaceholders(expectedRaw, ctx.placeholders), funcs.length);
  const expectedsShown = listOf(fillPlaceholders(expectedRaw, ctx.placeholders, false), funcs.length);
  const optionList = listOf<Record<string, unknown>>(evaluator.options as Record<string, unknown> | undefined, funcs.length);

  const calls: MetricCall[] = funcs.map((func, i) => ({
    func,
    result: results[i] ?? null,
    resultShown: resultsShown[i] ?? null,
    expected: expecteds[i] ?? null,
    expectedShown: expectedsShown[i] ?? null,
    options: optionList[i] ?? ({} as Record<string, unknown>),
  }));
  const consent = consentOf(post.steps);
  for (const [i, call] of calls.entries()) {
    const at = funcs.length > 1 ? `evaluator.func[${i}]` : 'evaluator.func';
    if (!METRICS.has(call.func)) unsupported.push(`${at}: metric "${showText(call.func)}" is not supported`);
    for (const [role, config, shown] of [
      ['result', call.result, call.resultShown],
      ['expected', call.expected, call.expectedShown],
    ] as const) {
      if (!config) continue;
      const reason = unsupportedGetterReason(config);
      if (reason) unsupported.push(`${at} ${role}: ${reason}`);
      else {
        const command = GETTERS.get(config.type)!.command?.(config, shown!);
        if (command) consent.push(command);
      }
    }
  }
  const conj = evaluator.conj ?? 'and';

  return {
    postconfig: post.steps,
    unsupported,
    consent,
    async score(host, outcome, signal) {
      const warnings = await runSteps(post.steps, host, signal);
      if (outcome.endedWithFail) return { score: 0, warnings };
      const scores: number[] = [];
      for (const call of calls) {
        let value: number;
        try {
          const result = call.result ? await GETTERS.get(call.result.type)!.get(host, call.result, ctx, signal) : null;
          const expected = call.expected ? await GETTERS.get(call.expected.type)!.get(host, call.expected, ctx, signal) : undefined;
          value = await METRICS.get(call.func)!(result, expected, call.options);
        } catch (err) {
          if (signal?.aborted) throw err;
          warnings.push(`${call.func}: ${(err as Error).message}`);
          value = 0;
        }
        if (conj === 'and' && value === 0) return { score: 0, warnings };
        if (conj === 'or' && value === 1) return { score: 1, warnings };
        scores.push(value);
      }
      const score = conj === 'and' ? scores.reduce((a, b) => a + b, 0) / scores.length : Math.max(...scores);
      return { score, warnings };
    },
  };
}
