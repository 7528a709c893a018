import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DesktopToolError } from './tools.ts';
import { encodedCommand, WINDOWS_HELPER_CSHARP, WINDOWS_HELPER_POWERSHELL } from './windows-helper-source.ts';

/** One request to the Windows helper: its reply's `result`, or a WindowsHelperError. */
export interface WindowsHelperChannel {
  request(op: string, args?: readonly (string | number)[]): Promise<unknown>;
}

/** The helper answered a request with a failure; `code` says which ('secure-desktop', …). */
export class WindowsHelperError extends Error {
  override readonly name = 'WindowsHelperError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface HelperProcessOptions {
  /** The program and arguments to start (default: Windows PowerShell 5.1 with the helper script). */
  readonly command?: string;
  readonly args?: readonly string[];
  /** How long compiling the C# may take before giving up (Add-Type takes 1–3 s). */
  readonly startTimeoutMs?: number;
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

/**
 * The helper as a long-lived child process: started on the first request, sent the C# source,
 * then one request line per call. It ends when Kestrel closes its stdin (or exits). Its pipes
 * keep Node alive only while a request is waiting for its answer.
 */
export class HelperProcess implements WindowsHelperChannel {
  private child: ChildProcess | undefined;
  private ready: Promise<void> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private stderr = '';

  constructor(private readonly options: HelperProcessOptions = {}) {}

  private start(): Promise<void> {
    const command = this.options.command ?? 'powershell.exe';
    const args = this.options.args ?? ['-NoLogo', '-NoProfile', '-NonInteractive', '-ExecutionPolicy', 'Bypass', '-EncodedCommand', encodedCommand(WINDOWS_HELPER_POWERSHELL)];
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    this.child = child;
    const lines = createInterface({ input: child.stdout! });
    child.stderr!.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-2000)));
    child.stdin!.on('error', () => undefined);
    let readyNow: (() => void) | undefined;
    let failStart: ((error: Error) => void) | undefined;
    const ready = new Promise<void>((resolve, reject) => {
      readyNow = resolve;
      failStart = reject;
    });
    const timer = setTimeout(() => failStart!(new DesktopToolError(`the Windows helper (${command}) did not start within ${Math.round((this.options.startTimeoutMs ?? 30_000) / 1000)} s${this.said()}`)), this.options.startTimeoutMs ?? 30_000);
    lines.on('line', (line) => {
      let reply: { ready?: boolean; id?: number; ok?: boolean; result?: unknown; code?: string; error?: string };
      try {
        reply = JSON.parse(line) as typeof reply;
      } catch {
        return; // PowerShell's own chatter
      }
      if (reply.ready) {
        clearTimeout(timer);
        readyNow!();
        this.idle();
        return;
      }
      const waiting = reply.id !== undefined ? this.pending.get(reply.id) : undefined;
      if (!waiting) return;
      this.pending.delete(reply.id!);
      if (reply.ok) waiting.resolve(reply.result);
      else waiting.reject(new WindowsHelperError(reply.code ?? 'error', reply.error ?? 'the Windows helper failed'));
      this.idle();
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why =
        error.code === 'ENOENT'
          ? new DesktopToolError(`${command} was not found; Kestrel drives Windows through Windows PowerShell 5.1, which is part of Windows 10 and 11`)
          : new DesktopToolError(`the Windows helper could not start: ${error.message}`);
      failStart!(why);
      this.fail(why);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const why = new DesktopToolError(`the Windows helper stopped (${signal ?? `exit code ${code}`})${this.said()}`);
      failStart!(why);
      this.fail(why);
    });
    child.stdin!.write(`${Buffer.from(WINDOWS_HELPER_CSHARP, 'utf8').toString('base64')}\n`);
    return ready;
  }

  private said(): string {
    const last = this.stderr.trim().split('\n').at(-1)?.trim();
    return last ? `: ${last}` : '';
  }

  private fail(error: Error): void {
    this.child = undefined;
    this.ready = undefined;
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  /** Lets Node exit while nothing is asked of the helper; holds it while something is. */
  private idle(): void {
    const busy = this.pending.size > 0;
    for (const stream of [this.child?.stdout, this.child?.stderr, this.child?.stdin] as const) {
      const handle = stream as unknown as { ref?: () => void; unref?: () => void } | null | undefined;
      if (busy) handle?.ref?.();
      else handle?.unref?.();
    }
    if (busy) this.child?.ref();
    else this.child?.unref();
  }

  async request(op: string, args: readonly (string | number)[] = []): Promise<unknown> {
    if (!this.child) this.ready = this.start();
    const started = this.ready!;
    const id = this.nextId++;
    const answer = new Promise<unknown>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    answer.catch(() => undefined); // a failed start rejects it too; the caller gets that failure below
    this.idle();
    try {
      await started;
    } catch (err) {
      this.pending.delete(id);
      throw err;
    }
    this.child?.stdin!.write(`${[id, op, ...args].map(String).join('\t')}\n`);
    return answer;
  }

  /** Ends the helper (it also ends by itself when Kestrel exits and its stdin closes). */
  close(): void {
    this.child?.stdin?.end();
    this.child = undefined;
    this.ready = undefined;
  }
}
