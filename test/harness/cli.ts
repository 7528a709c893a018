import { execFile, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { spawnTracked, stopTracked, waitFor } from './processes.ts';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');
export const KESTREL_BIN = resolve(REPO_ROOT, 'bin/kestrel.js');

/** A running `kestrel` process whose output is collected as it arrives. */
export interface CliProcess {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` in stdout. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(): Promise<number | null>;
  stop(): Promise<void>;
}

export function startKestrel(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliProcess {
  const child = spawnTracked(process.execPath, [KESTREL_BIN, ...args], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exit = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForOutput: (pattern, timeoutMs = 30_000) =>
      waitFor(`kestrel ${args.join(' ')} to print ${pattern} (stderr: ${err.trim().slice(-300)})`, () => {
        if (child.exitCode !== null) throw new Error(`kestrel exited with ${child.exitCode}: ${err.trim()}`);
        return out.match(pattern) ?? undefined;
      }, timeoutMs),
    exited: () => exit,
    stop: () => stopTracked(child),
  };
}

export interface KestrelResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs `kestrel …` to completion and returns its exit code and output, whatever the code.
 * `maxBuffer` is large because `model logits --json` prints a whole vocabulary of logits.
 */
export function runKestrel(args: readonly string[], env: NodeJS.ProcessEnv = process.env, timeoutMs = 90_000): Promise<KestrelResult> {
  return new Promise((done) => {
    execFile(process.execPath, [KESTREL_BIN, ...args], { cwd: REPO_ROOT, env, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** A line of the in-process model's load progress, which every `--model-dir` command prints on stderr. */
export const LOAD_PROGRESS_LINE = /^(loading weights[ :]|loading model: |model loaded in )/;

/** stderr with the load progress lines taken out, for tests about what comes after the load. */
export function withoutLoadProgress(stderr: string): string {
  return stderr
    .split('\n')
    .filter((line) => !LOAD_PROGRESS_LINE.test(line))
    .join('\n');
}
