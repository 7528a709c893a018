import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { runAgent, TrajectoryRecorder, type AgentEvent, type PlannedStep } from '../../agent/index.ts';
import { DesktopOperator, DesktopUnavailableError, type TypingStrategy } from '../../agent/desktop/index.ts';
import { CliError, oneLine } from '../errors.ts';
import { generationSettings, resolveModel, type ModelOptionValues } from '../model-options.ts';
import { describeAction, EXIT_CODES, lineFor } from './step-lines.ts';

export interface RunCommandOptions extends ModelOptionValues {
  readonly maxSteps: number;
  readonly maxRepeats: number;
  readonly timeLimit?: number;
  readonly record?: string;
  readonly display?: string;
  readonly confirm?: boolean;
  readonly thinking?: boolean;
  readonly screenshots: number;
  readonly typing: TypingStrategy;
  readonly mouseSpeed: number;
  readonly actionDelay: number;
}

/** Asks y/n on stdin for each step (--confirm). */
function stdinConfirm(): { confirm: (plan: PlannedStep) => Promise<boolean>; close: () => void } {
  const rl = createInterface({ input: process.stdin });
  const lines: string[] = [];
  let waiting: ((line: string | undefined) => void) | undefined;
  let closed = false;
  rl.on('line', (line) => (waiting ? (waiting(line), (waiting = undefined)) : lines.push(line)));
  rl.on('close', () => {
    closed = true;
    waiting?.(undefined);
  });
  const next = (): Promise<string | undefined> => (lines.length > 0 ? Promise.resolve(lines.shift()) : closed ? Promise.resolve(undefined) : new Promise((done) => (waiting = done)));
  return {
    async confirm(plan) {
      process.stdout.write(`step ${plan.step} plans: ${plan.desktopActions.map(describeAction).join('; ')} — run it? [y/N] `);
      const answer = await next();
      process.stdout.write('\n');
      return /^\s*y(es)?\s*$/i.test(answer ?? '');
    },
    close: () => rl.close(),
  };
}

/** `kestrel run`: drives this desktop until the task ends; returns the exit code. */
export async function runCommand(instruction: string, options: RunCommandOptions): Promise<number> {
  if (instruction.trim() === '') throw new CliError('the instruction is empty; say what to do, e.g. kestrel run "open the Downloads folder"', 2);
  // An endpoint client is only checked options; an in-process model maps gigabytes, so a missing
  // display or permission is said before that. DesktopOperator picks this OS's adapter.
  const endpointModel = options.modelDir === undefined ? await resolveModel(options) : undefined;
  let operator: DesktopOperator;
  try {
    operator = new DesktopOperator({
      ...(options.display !== undefined ? { display: options.display } : {}),
      typing: options.typing,
      mouseSpeed: options.mouseSpeed,
      actionDelayMs: options.actionDelay,
    });
    await operator.preflight();
  } catch (err) {
    if (err instanceof DesktopUnavailableError) throw new CliError(err.message);
    throw new CliError(oneLine(err), /there is no display '/.test(oneLine(err)) ? 2 : 1);
  }
  const model = endpointModel ?? (await resolveModel(options));

  const controller = new AbortController();
  let interrupted = false;
  const onSignal = (): void => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write('kestrel: stopping (Ctrl-C again to quit at once)\n');
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const prompt = options.confirm ? stdinConfirm() : undefined;
  const planned = new Map<number, Extract<AgentEvent, { type: 'planned' }>>();
  const onEvent = (event: AgentEvent): void => {
    if (event.type === 'retry') process.stderr.write(`kestrel: step ${event.step}: ${event.what} failed (attempt ${event.attempt}), retrying: ${event.error}\n`);
    if (event.type === 'correction') process.stderr.write(`kestrel: step ${event.step}: the reply could not be used, asking again: ${event.error}\n`);
    const line = lineFor(event, planned);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  try {
    const result = await runAgent(instruction, {
      model,
      operator,
      signal: controller.signal,
      onEvent,
      maxSteps: options.maxSteps,
      maxRepeats: options.maxRepeats,
      ...(options.timeLimit !== undefined ? { timeLimitMs: options.timeLimit * 1000 } : {}),
      ...(prompt ? { confirm: prompt.confirm } : {}),
      variant: options.thinking ? 'thinking' : 'instruct',
      screenshotsInContext: options.screenshots,
      ...generationSettings(options),
      ...(options.record ? { recorder: new TrajectoryRecorder(resolve(options.record)) } : {}),
    });
    if (options.record) process.stdout.write(`trajectory: ${resolve(options.record)}\n`);
    if (result.status === 'aborted' && interrupted) return 130;
    return EXIT_CODES[result.status];
  } finally {
    prompt?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
