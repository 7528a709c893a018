import { copyFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeFolder } from '../files.ts';
import { displayCommand, showText, splitWords, type CommandSpec, type TaskHost, type WindowMatch } from './host.ts';
import { fillPlaceholders, type PlaceholderValues } from './placeholders.ts';
import { pythonInlineCode, readPyautoguiScript, type ScriptSegment } from './pyautogui-script.ts';
import type { TaskStep } from './task.ts';

/**
 * A step checked and ready to run. `consent` is set when the step needs the person's consent
 * (--allow-exec): it runs a program, writes files, closes windows or sends keyboard and mouse
 * input. Only sleeping and raising a window need none.
 */
export interface PreparedStep {
  /** e.g. "config[0] execute" */
  readonly label: string;
  /** What it will do, as shown to the person on one line (the password stays a placeholder). */
  readonly consent?: string;
  run(host: TaskHost, signal?: AbortSignal): Promise<StepNote | void>;
}

/** Something worth telling the person after a step ran (a non-zero exit, say). */
export interface StepNote {
  readonly warning: string;
}

export interface PreparedSteps {
  readonly steps: readonly PreparedStep[];
  /** Steps Kestrel cannot run here, by label and reason. */
  readonly unsupported: readonly string[];
}

export interface StepContext {
  readonly placeholders: PlaceholderValues;
  /** The task file's folder: relative local download sources are read from here. */
  readonly taskDir: string;
}

type Params = Record<string, unknown>;
type Builder = (label: string, run: Params, shown: Params, ctx: StepContext) => PreparedStep | string;

export function commandSpec(params: Params, label: string): CommandSpec {
  const { command, shell } = params;
  if (typeof command === 'string') return shell === true ? { shell: command } : { argv: splitWords(command) };
  if (Array.isArray(command) && command.length > 0 && command.every((a) => typeof a === 'string')) {
    return shell === true ? { shell: command.join(' ') } : { argv: command };
  }
  throw new Error(`${label}: "command" must be a string or a list of strings`);
}

function windowMatch(params: Params, label: string): WindowMatch {
  if (typeof params.window_name !== 'string' || params.window_name === '') {
    throw new Error(`${label}: "window_name" must name the window`);
  }
  return { name: params.window_name, strict: params.strict === true, byClass: params.by_class === true };
}

const quoted = (text: string): string => `"${showText(text.replace(/["\\]/g, '\\$&'))}"`;

/** Keyboard and mouse work as the person is asked to allow it: the script's own statements. */
function showSegments(segments: readonly ScriptSegment[]): string {
  const statements = segments.map((s) => (s.kind === 'sleep' ? `time.sleep(${s.seconds})` : s.code));
  return `keyboard and mouse: ${showText(statements.join('; '))}`;
}

async function runSegments(segments: readonly ScriptSegment[], host: TaskHost, signal?: AbortSignal): Promise<void> {
  for (const segment of segments) {
    if (segment.kind === 'sleep') await host.sleep(segment.seconds * 1000, signal);
    else await host.pyautogui(segment.code, signal);
  }
}

const seconds = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;

/** The segments of a `python -c "import pyautogui; …"` step, or undefined for any other command. */
function inputScript(params: Params, label: string): ScriptSegment[] | undefined {
  const spec = commandSpec(params, label);
  const inline = 'argv' in spec ? pythonInlineCode(spec.argv) : undefined;
  const script = inline === undefined ? undefined : readPyautoguiScript(inline);
  return script && 'segments' in script ? script.segments : undefined;
}

function execute(label: string, run: Params, shown: Params): PreparedStep | string {
  if (run.until !== undefined) return `${label}: "until" (retrying a command until its output matches) is not supported`;
  const spec = commandSpec(run, label);
  const segments = inputScript(run, label);
  if (segments) {
    // Pointer and keyboard work goes through Kestrel's parser and operator: no Python, no shell.
    // It still needs consent: keystrokes land in whatever window has focus, a terminal included.
    const shownSegments = inputScript(shown, label);
    const input = segments.some((s) => s.kind !== 'sleep');
    return {
      label,
      ...(input ? { consent: shownSegments ? showSegments(shownSegments) : displayCommand(commandSpec(shown, label)) } : {}),
      run: (host, signal) => runSegments(segments, host, signal),
    };
  }
  const timeoutMs = seconds(run.timeout, 120) * 1000;
  return {
    label,
    consent: displayCommand(commandSpec(shown, label)),
    async run(host, signal) {
      const result = await host.run(spec, { timeoutMs, signal });
      if (result.exitCode !== 0) {
        const why = showText(result.stderr.trim().split('\n').slice(-1)[0] ?? '');
        return { warning: `${label} exited with ${result.exitCode ?? 'a signal'}${why ? `: ${why}` : ''}` };
      }
    },
  };
}

function downloadSource(url: string, ctx: StepContext, label: string): string | undefined {
  if (url.startsWith('file://')) {
    try {
      return fileURLToPath(url);
    } catch (err) {
      throw new Error(`${label}: ${showText(url)} is not a usable file:// URL (${(err as Error).message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  return isAbsolute(url) ? url : resolve(ctx.taskDir, url);
}

/** Step types by name; a Map, so a task's "constructor" or "__proto__" finds nothing. */
const BUILDERS = new Map<string, Builder>(Object.entries({
  sleep: (label, run) => {
    const wait = seconds(run.seconds, Number.NaN);
    if (Number.isNaN(wait)) return `${label}: "seconds" must be a number of seconds`;
    return { label, run: (host, signal) => host.sleep(wait * 1000, signal) };
  },
  execute,
  command: execute,
  launch: (label, run, shown) => {
    const spec = commandSpec(run, label);
    return { label, consent: displayCommand(commandSpec(shown, label)), run: (host) => host.launch(spec) };
  },
  // Opening a file starts whatever program the desktop associates with it: consent, like launch.
  open: (label, run, shown) => {
    if (typeof run.path !== 'string' || typeof shown.path !== 'string') return `${label}: "path" must name the file to open`;
    const path = run.path;
    return { label, consent: displayCommand({ argv: ['xdg-open', shown.path] }), run: (host) => host.open(host.resolvePath(path)) };
  },
  activate_window: (label, run) => {
    const match = windowMatch(run, label);
    return { label, run: (host) => host.activateWindow(match) };
  },
  // Closing destroys the window without asking the program, unsaved work and all: consent.
  close_window: (label, run) => {
    const match = windowMatch(run, label);
    const which = `${match.byClass ? 'of class' : 'titled'} ${match.strict ? '' : 'containing '}${quoted(match.name)}`;
    return { label, consent: `close every window ${which}`, run: (host) => host.closeWindow(match) };
  },
  download: (label, run, _shown, ctx) => {
    const files = Array.isArray(run.files) ? run.files : [];
    if (files.length === 0) return `${label}: "files" must list {"url", "path"} pairs`;
    const copies: { from: string; to: string }[] = [];
    for (const file of files as Params[]) {
      if (typeof file?.url !== 'string' || typeof file.path !== 'string') return `${label}: each file needs "url" and "path"`;
      const from = downloadSource(file.url, ctx, label);
      if (!from) return `${label}: download from ${showText(file.url)} (only local paths and file:// URLs are fetched)`;
      copies.push({ from, to: file.path });
    }
    // Writing files where the task says is as powerful as running a command: it needs consent too.
    return {
      label,
      consent: copies.map(({ from, to }) => displayCommand({ argv: ['cp', from, to] })).join(' && '),
      async run(host) {
        for (const { from, to } of copies) {
          const target = host.resolvePath(to);
          await makeFolder(dirname(target));
          await copyFile(from, target);
        }
      },
    };
  },
} satisfies Record<string, Builder>));

/** Every step type Kestrel runs locally. */
export const SUPPORTED_STEPS: readonly string[] = [...BUILDERS.keys()];

/**
 * Checks a list of set-up (or postconfig) steps and fills their placeholders. Nothing runs here:
 * the caller first looks at `unsupported` and at the commands that need consent.
 */
export function prepareSteps(steps: readonly TaskStep[], phase: string, ctx: StepContext): PreparedSteps {
  const prepared: PreparedStep[] = [];
  const unsupported: string[] = [];
  steps.forEach((step, index) => {
    const label = `${phase}[${index}] ${showText(step.type)}`;
    const builder = BUILDERS.get(step.type);
    if (!builder) {
      unsupported.push(`${label}: step type ${quoted(step.type)} is not supported on a local desktop`);
      return;
    }
    const run = fillPlaceholders(step.parameters, ctx.placeholders);
    const shown = fillPlaceholders(step.parameters, ctx.placeholders, false);
    let built: PreparedStep | string;
    try {
      built = builder(label, run, shown, ctx);
    } catch (err) {
      // Every reason names its step, whichever helper found the problem.
      const message = showText((err as Error).message);
      built = message.startsWith(`${label}:`) ? message : `${label}: ${message}`;
    }
    if (typeof built === 'string') unsupported.push(built);
    else prepared.push(built);
  });
  return { steps: prepared, unsupported };
}

/** A set-up or postconfig step that failed while running; the message names the step. */
export class StepFailedError extends Error {
  override readonly name = 'StepFailedError';
}

/** What a list of prepared steps needs consent for, in order. */
export function consentOf(steps: readonly PreparedStep[]): string[] {
  return steps.flatMap((s) => (s.consent ? [s.consent] : []));
}

/** Runs prepared steps in order, collecting their warnings; a failure names its step. */
export async function runSteps(steps: readonly PreparedStep[], host: TaskHost, signal?: AbortSignal): Promise<string[]> {
  const warnings: string[] = [];
  for (const step of steps) {
    signal?.throwIfAborted();
    let note: StepNote | void;
    try {
      note = await step.run(host, signal);
    } catch (err) {
      if (signal?.aborted) throw err;
      throw new StepFailedError(`${step.label}: ${showText((err as Error).message)}`, { cause: err });
    }
    if (note) warnings.push(note.warning);
  }
  return warnings;
}
