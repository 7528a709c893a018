import { createInterface } from 'node:readline';
import { runAgent, TrajectoryRecorder, type AgentEvent, type PlannedStep } from '../../agent/index.ts';
import { DesktopOperator, DesktopUnavailableError, type TypingStrategy } from '../../agent/desktop.ts';
import { CliError } from '../errors.ts';
import { oneLine } from '../../shared/one-line.ts';
import { catchInterrupt } from '../interrupt.ts';
import { generationSettings, modelOpener, type ModelOptionValues } from '../model-options.ts';
import { recordFolder } from '../record-folder.ts';
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
  const record = options.record === undefined ? undefined : await recordFolder(options.record, { fresh: true });
  // Cheap checks first (the flags, the record folder, the desktop), the model last: an in-process
  // one maps gigabytes. DesktopOperator picks this OS's adapter.
  const openModel = modelOpener(options);
  let operator: DesktopOperator;
  try {
    operator = new DesktopOperator({
      ...(options.display !== undefined ? { display: options.display } : {}),
      typing: options.typing,
      mouseSpeed: options.mouseSpeed,
    });
    await operator.preflight();
  } catch (err) {
    // Already one line with its exit code; the test below is for other failures.
    if (err instanceof DesktopUnavailableError) throw err;
    throw new CliError(oneLine(err), /there is no display '/.test(oneLine(err)) ? 2 : 1);
  }
  const model = await openModel();

  const interrupt = catchInterrupt();
  const prompt = options.confirm ? stdinConfirm() : undefined;
  const planned = new Map<number, Extract<AgentEvent, { type: 'planned' }>>();
  const onEvent = (event: AgentEvent): void => {
    if (event.type === 'retry') {
      const what = event.what === 'model' ? 'the model request' : 'the screenshot';
      process.stderr.write(`kestrel: step ${event.step}: ${what} failed (attempt ${event.attempt} of ${event.attempts}), trying again in ${(event.delayMs / 1000).toFixed(1)} s: ${event.error}\n`);
    }
    if (event.type === 'correction') process.stderr.write(`kestrel: step ${event.step}: the reply could not be used, asking again: ${event.error}\n`);
    const line = lineFor(event, planned);
    if (line !== undefined) process.stdout.write(`${line}\n`);
  };
  try {
    const result = await runAgent(instruction, {
      model,
      operator,
      signal: interrupt.signal,
      onEvent,
      maxSteps: options.maxSteps,
      maxRepeats: options.maxRepeats,
      actionDelayMs: options.actionDelay,
      ...(options.timeLimit !== undefined ? { timeLimitMs: options.timeLimit * 1000 } : {}),
      ...(prompt ? { confirm: prompt.confirm } : {}),
      variant: options.thinking ? 'thinking' : 'instruct',
      screenshotsInContext: options.screenshots,
      ...generationSettings(options),
      ...(record ? { recorder: new TrajectoryRecorder(record) } : {}),
    });
    if (record) process.stdout.write(`trajectory: ${record}\n`);
    if (result.status === 'aborted' && interrupt.requested) return 130;
    return EXIT_CODES[result.status];
  } finally {
    prompt?.close();
    interrupt.dispose();
  }
}
