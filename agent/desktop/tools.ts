import { spawn } from 'node:child_process';
import { KestrelError } from '../../shared/errors.ts';

/** A system tool Kestrel's desktop operator needs is missing or failed. */
export class DesktopToolError extends KestrelError {
  override readonly name = 'DesktopToolError';
}

const PACKAGES: Readonly<Record<string, string>> = {
  xdotool: 'xdotool',
  xclip: 'xclip',
  xrandr: 'x11-xserver-utils',
  xmodmap: 'x11-xserver-utils',
  import: 'imagemagick',
};

export interface ToolRun {
  readonly stdout: Buffer;
  readonly stderr: string;
}

export interface ToolOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly input?: string | Uint8Array;
  readonly signal?: AbortSignal;
  /** Exit codes that are not failures (default [0]). */
  readonly okCodes?: readonly number[];
  readonly timeoutMs?: number;
  /** For tools that leave a daemon behind (xclip -i): don't hold its output pipes open. */
  readonly noOutput?: boolean;
}

/**
 * Runs a tool to completion and returns its output. The child is killed when the signal
 * fires, so an abort stops a long `xdotool type` mid-text. Failures are one line.
 */
export function runTool(command: string, args: readonly string[], options: ToolOptions = {}): Promise<ToolRun> {
  return new Promise((done, fail) => {
    if (options.signal?.aborted) return fail(new DesktopToolError(`${command} was not started: the run was stopped`));
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', options.noOutput ? 'ignore' : 'pipe', options.noOutput ? 'ignore' : 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const kill = (): void => {
      child.kill('SIGKILL');
    };
    options.signal?.addEventListener('abort', kill, { once: true });
    const timer = options.timeoutMs ? setTimeout(kill, options.timeoutMs) : undefined;
    child.once('error', (error: NodeJS.ErrnoException) => {
      options.signal?.removeEventListener('abort', kill);
      clearTimeout(timer);
      if (error.code === 'ENOENT') {
        const pkg = PACKAGES[command];
        fail(new DesktopToolError(`${command} is not installed; Kestrel needs it to control the desktop${pkg ? ` (Debian/Ubuntu: sudo apt-get install ${pkg})` : ''}`));
      } else fail(new DesktopToolError(`${command} could not start: ${error.message}`));
    });
    child.once(options.noOutput ? 'exit' : 'close', (code, signal) => {
      options.signal?.removeEventListener('abort', kill);
      clearTimeout(timer);
      if (code !== null && (options.okCodes ?? [0]).includes(code)) return done({ stdout: Buffer.concat(out), stderr: err });
      const why = signal ? `was killed (${signal})` : `failed with exit code ${code}`;
      const said = err.trim().split('\n').at(-1);
      fail(new DesktopToolError(`${command} ${args[0] ?? ''} ${why}${said ? `: ${said}` : ''}`.replace(/\s+/g, ' ')));
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(options.input ?? '');
  });
}
