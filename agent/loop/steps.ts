import { isTerminal, type DesktopAction } from '../../shared/actions.ts';
import { mapAction } from '../coordinates.ts';
import type { GenerateResult, ImageContent } from '../../shared/model.ts';
import type { Screenshot } from '../operator.ts';
import { parseKimiResponse, type ParseResult } from '../parser/index.ts';
import { agentMessages, correctionMessages } from '../prompts/agent-prompt.ts';
import { raceAbort, sleep } from '../../shared/timing.ts';
import { StopRun, type Run } from './run.ts';
import { settle } from './settle.ts';
import type { StopDecision } from './stop-rules.ts';

// One agent step in four named parts, each given the run and the step explicitly:
// observe → decide → act → record. runAgent (run-agent.ts) calls them in turn.

/** The step under way: its number, the screen it began on and when it began. */
export interface Step {
  readonly number: number;
  readonly shot: Screenshot;
  /** performance.now() when the step began. */
  readonly startedAt: number;
}

/** What decide chose: the reply, its parse and the actions mapped onto the desktop. */
export interface Plan {
  readonly reply: GenerateResult;
  readonly parsed: Extract<ParseResult, { ok: true }>;
  readonly desktopActions: readonly DesktopAction[];
  readonly modelMs: number;
  /** The complaints sent back to the model before its reply could be used. */
  readonly corrections: readonly string[];
}

/** What act did: whether anything ran, the screen afterwards and how long it took. */
export interface Outcome {
  readonly acted: boolean;
  readonly after: Screenshot;
  readonly executeMs: number;
}

function toImage(shot: Screenshot): ImageContent {
  return { mimeType: 'image/png', data: shot.png };
}

/** The code to record for a step: what the model wrote, or the bare words it used. */
function codeOf(parsed: Extract<ParseResult, { ok: true }>): string {
  return parsed.code ?? parsed.actions.map((a) => a.kind).join('; ');
}

/** The operator's objection to any action of a step, checked before any of it runs. */
async function refusalOf(run: Run, actions: readonly DesktopAction[]): Promise<string | undefined> {
  const { operator } = run.options;
  if (!operator.refusal) return undefined;
  for (const action of actions) {
    const refusal = await operator.refusal(action);
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

/** Observe: the step begins on the screen as it is now. */
export function observe(run: Run, step: Step): void {
  const { number, shot } = step;
  run.emit({ type: 'step_started', step: number });
  run.emit({ type: 'screenshot', step: number, png: shot.png, width: shot.width, height: shot.height });
}

/** Decide: prepareStep shapes the history, then the model is asked, and once more with the complaint if the reply does not parse or cannot be done here. */
export async function decide(run: Run, step: Step): Promise<Plan> {
  const { number, shot } = step;
  run.history = run.prepareStep({ step: number, history: run.history });
  let messages = agentMessages({ instruction: run.instruction, variant: run.variant, history: run.history, screenshot: toImage(shot), screenshotsInContext: run.screenshots });
  const corrections: string[] = [];
  let modelMs = 0;
  for (;;) {
    const began = performance.now();
    const reply = await run.generate(number, messages);
    modelMs += performance.now() - began;
    run.checkAbort();
    const parsed = parseKimiResponse(reply.text, { imageSize: { width: shot.width, height: shot.height } });
    const desktopActions = parsed.ok ? parsed.actions.map((action) => mapAction(action, shot.display)) : [];
    const error = parsed.ok ? await refusalOf(run, desktopActions) : parsed.error;
    if (parsed.ok && error === undefined) {
      run.emit({ type: 'planned', step: number, response: reply.text, ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}), actions: parsed.actions, desktopActions, modelMs });
      return { reply, parsed, desktopActions, modelMs, corrections };
    }
    if (corrections.length >= 1) {
      throw new StopRun({ status: 'error', reason: `the model's reply could not be used after a correction: ${error}` });
    }
    corrections.push(error!);
    run.emit({ type: 'correction', step: number, error: error! });
    messages = [...messages, ...correctionMessages(reply.text, error!)];
  }
}

/** Act: asks the person under confirm mode, runs the step's actions with the run's pacing, and waits for the screen. */
export async function act(run: Run, step: Step, plan: Plan): Promise<Outcome> {
  const { number, shot } = step;
  const { reply, parsed, desktopActions } = plan;
  const { confirm, operator } = run.options;
  const { signal } = run;
  if (confirm && desktopActions.some((a) => !isTerminal(a))) {
    run.emit({ type: 'awaiting_confirmation', step: number });
    const approved = await raceAbort(
      confirm({ step: number, response: reply.text, ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}), ...(parsed.description !== undefined ? { description: parsed.description } : {}), actions: parsed.actions, desktopActions, screenshot: shot }),
      signal,
    );
    if (!approved) throw new StopRun({ status: 'aborted', reason: `step ${number} was declined` });
  }
  const executeStarted = performance.now();
  let acted = false;
  for (const [index, action] of desktopActions.entries()) {
    if (isTerminal(action)) break;
    await run.checkpoint('action');
    const began = performance.now();
    await raceAbort(operator.execute(action, signal), signal);
    acted = true;
    run.emit({ type: 'action_executed', step: number, index, action, ms: performance.now() - began });
    // A wait is its own pause; after anything else, let the screen (and the person) catch up.
    if (run.actionDelayMs > 0 && action.kind !== 'wait') await sleep(run.actionDelayMs, signal);
  }
  const executeMs = performance.now() - executeStarted;
  const { settle: settleOptions } = run.options;
  const after = acted ? (settleOptions === false ? await run.capture(number) : await settle(settleOptions ?? {}, signal, () => run.capture(number))) : shot;
  return { acted, after, executeMs };
}

/** Record: the step joins the history and the trajectory; the stop conditions say whether the run ends. */
export async function record(run: Run, step: Step, plan: Plan, outcome: Outcome): Promise<StopDecision | undefined> {
  const { number, shot } = step;
  const { reply, parsed, desktopActions, modelMs, corrections } = plan;
  run.actions.push([...parsed.actions]);
  run.history = [...run.history, { response: reply.text, ...(parsed.description !== undefined ? { description: parsed.description } : {}), ...(parsed.code !== undefined ? { code: parsed.code } : {}), screenshot: toImage(shot) }];
  const decision = run.stopDecision();
  const stepMs = performance.now() - step.startedAt;
  await run.options.recorder?.step({
    step_num: number,
    action: codeOf(parsed),
    response: reply.text,
    reward: 0,
    done: decision !== undefined,
    info: {},
    ...(outcome.acted ? { screenshotAfter: outcome.after.png } : {}),
    kestrel: {
      actions: parsed.actions,
      desktop_actions: desktopActions,
      ...(parsed.thinking !== undefined ? { thinking: parsed.thinking } : {}),
      ...(parsed.description !== undefined ? { description: parsed.description } : {}),
      timings: { model_ms: Math.round(modelMs), execute_ms: Math.round(outcome.executeMs), step_ms: Math.round(stepMs) },
      ...(reply.usage ? { usage: { prompt_tokens: reply.usage.promptTokens, completion_tokens: reply.usage.completionTokens } } : {}),
      ...(corrections.length > 0 ? { corrections } : {}),
    },
  });
  run.emit({ type: 'step_finished', step: number, ms: stepMs });
  return decision;
}
