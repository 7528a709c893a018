import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { displayCommand, splitWords, type CommandSpec, type TaskHost, type WindowMatch } from './host.ts';
import { fillPlaceholders, type PlaceholderValues } from './placeholders.ts';
import { pythonInlineCode, readPyautoguiScript, type ScriptSegment } from './pyautogui-script.ts';
import type { TaskStep } from './task.ts';

/** A step checked and ready to run; `command` is set when it runs a program and so needs consent. */
export interface PreparedStep {
  /** e.g. "config[0] execute" */
  readonly label: string;
  /** The program it runs, as shown to the person (the password stays a placeholder). */
  readonly command?: string;
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

async function runSegments(segments: readonly ScriptSegment[], host: TaskHost, signal?: AbortSignal): Promise<void> {
  for (const segment of segments) {
    if (segment.kind === 'sleep') await host.sleep(segment.seconds * 1000, signal);
    else await host.pyautogui(segment.code, signal);
  }
}

const seconds = (value: unknown, fallback: number): number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;

function execute(label: string, run: Params, shown: Params): PreparedStep | string {
  if (run.until !== undefined) return `${label}: "until" (retrying a command until its output matches) is not supported`;
  const spec = commandSpec(run, label);
  const inline = 'argv' in spec ? pythonInlineCode(spec.argv) : undefined;
  const script = inline === undefined ? undefined : readPyautoguiScript(inline);
  if (script && 'segments' in script) {
    // Pointer and keyboard work goes through Kestrel's parser and operator: no Python, no shell.
    return { label, run: (host, signal) => runSegments(script.segments, host, signal) };
  }
  const timeoutMs = seconds(run.timeout, 120) * 1000;
  return {
    label,
    command: displayCommand(commandSpec(shown, label)),
    async run(host, signal) {
      const result = await host.run(spec, { timeoutMs, signal });
      if (result.exitCode !== 0) {
        const why = result.stderr.trim().split('\n').slice(-1)[0] ?? '';
        return { warning: `${label} exited with ${result.exitCode ?? 'a signal'}${why ? `: ${why}` : ''}` };
      }
    },
  };
}

function downloadSource(url: string, ctx: StepContext): string | undefined {
  if (url.startsWith('file://')) return fileURLToPath(url);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) return undefined;
  return isAbsolute(url) ? url : resolve(ctx.taskDir, url);
}

const BUILDERS: Record<string, Builder> = {
  sleep: (label, run) => {
    const wait = seconds(run.seconds, Number.NaN);
    if (Number.isNaN(wait)) return `${label}: "seconds" must be a number of seconds`;
    return { label, run: (host, signal) => host.sleep(wait * 1000, signal) };
  },
  execute,
  command: execute,
  launch: (label, run, shown) => {
    const spec = commandSpec(run, label);
    return { label, command: displayCommand(commandSpec(shown, label)), run: (host) => host.launch(spec) };
  },
  open: (label, run) => {
    if (typeof run.path !== 'string') return `${label}: "path" must name the file to open`;
    const path = run.path;
    return { label, run: (host) => host.open(host.resolvePath(path)) };
  },
  activate_window: (label, run) => {
    const match = windowMatch(run, label);
    return { label, run: (host) => host.activateWindow(match) };
  },
  close_window: (label, run) => {
    const match = windowMatch(run, label);
    return { label, run: (host) => host.closeWindow(match) };
  },
  download: (label, run, _shown, ctx) => {
    const files = Array.isArray(run.files) ? run.files : [];
    if (files.length === 0) return `${label}: "files" must list {"url", "path"} pairs`;
    const copies: { from: string; to: string }[] = [];
    for (const file of files as Params[]) {
      if (typeof file?.url !== 'string' || typeof file.path !== 'string') return `${label}: each file needs "url" and "path"`;
      const from = downloadSource(file.url, ctx);
      if (!from) return `${label}: download from ${file.url} (only local paths and file:// URLs are fetched)`;
      copies.push({ from, to: file.path });
    }
    // Writing files where the task says is as powerful as running a command: it needs consent too.
    return {
      label,
      command: copies.map(({ from, to }) => displayCommand({ argv: ['cp', from, to] })).join(' && '),
      async run(host) {
        for (const { from, to } of copies) {
          const target = host.resolvePath(to);
          await mkdir(dirname(target), { recursive: true });
          await copyFile(from, target);
        }
      },
    };
  },
};

/** Every step type Kestrel runs locally. */
export const SUPPORTED_STEPS = Object.keys(BUILDERS);

/**
 * Checks a list of set-up (or postconfig) steps and fills their placeholders. Nothing runs here:
 * the caller first looks at `unsupported` and at the commands that need consent.
 */
export function prepareSteps(steps: readonly TaskStep[], phase: string, ctx: StepContext): PreparedSteps {
  const prepared: PreparedStep[] = [];
  const unsupported: string[] = [];
  steps.forEach((step, index) => {
    const label = `${phase}[${index}] ${step.type}`;
    const builder = BUILDERS[step.type];
    if (!builder) {
      unsupported.push(`${label}: step type "${step.type}" is not supported on a local desktop`);
      return;
    }
    const run = fillPlaceholders(step.parameters, ctx.placeholders);
    const shown = fillPlaceholders(step.parameters, ctx.placeholders, false);
    let built: PreparedStep | string;
    try {
      built = builder(label, run, shown, ctx);
    } catch (err) {
      built = (err as Error).message;
    }
    if (typeof built === 'string') unsupported.push(built);
    else prepared.push(built);
  });
  return { steps: prepared, unsupported };
}
