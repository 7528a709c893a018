import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.ts';

/** The window manager `--virtual` starts: small, and it speaks EWMH, which xdotool and wmctrl need. */
export const WINDOW_MANAGER = { command: 'openbox', debianPackage: 'openbox' } as const;

export interface PrivateDisplayOptions {
  readonly width?: number;
  readonly height?: number;
  /** Shell commands to start on the display once the window manager runs (`--launch`). */
  readonly launch?: readonly string[];
  /** Called when a launched command ends by itself, with its exit code and last line of stderr. */
  readonly onLaunchExit?: (command: string, code: number | null, lastLine: string) => void;
}

export interface PrivateDisplay {
  /** e.g. ":57" */
  readonly display: string;
  /**
   * Stops the launched apps and the window manager, and resolves once they have exited. The X
   * server itself ends right after this process does (see XVFB_WATCHDOG).
   */
  stop(): Promise<void>;
}

/** A child and whether it leads its own process group (then signals go to the whole group). */
interface Tracked {
  readonly child: ChildProcess;
  readonly group: boolean;
}

/** Everything --virtual started, still running; killed at once if this process exits any other way. */
const running = new Set<Tracked>();
process.on('exit', () => {
  for (const entry of running) signal(entry, 'SIGKILL');
});

function signal(entry: Tracked, name: NodeJS.Signals): void {
  const { child, group } = entry;
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    // A launched command runs in its own process group, so that whatever it started goes too.
    if (group) process.kill(-child.pid, name);
    else child.kill(name);
  } catch {
    // already gone
  }
}

function track(child: ChildProcess, group: boolean): Tracked {
  const entry = { child, group };
  running.add(entry);
  child.once('exit', () => running.delete(entry));
  return entry;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
function stopProcess(entry: Tracked, graceMs = 3000): Promise<void> {
  const { child } = entry;
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((done) => {
    const timer = setTimeout(() => signal(entry, 'SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    signal(entry, 'SIGTERM');
  });
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop()?.trim() ?? '';
}

/**
 * Xvfb runs under a small shell watchdog, so that it ends with this process however that ends
 * (SIGKILL included) and never before it: libnut keeps a connection to the display, and Xlib
 * ends a process whose X server went away with exit code 1 ("XIO: fatal IO error"), which
 * would turn a clean stop into a failure. The watchdog waits on its stdin: a line means "stop
 * now" (nothing of ours is connected yet); the end of the pipe means this process is going, so
 * it waits until this process is gone, then stops Xvfb.
 */
const XVFB_WATCHDOG = [
  'command -v Xvfb >/dev/null 2>&1 || exit 127',
  'Xvfb "$@" &',
  'xvfb=$!',
  // Only Xvfb keeps the -displayfd pipe, so its exit during start-up reads as the pipe's end.
  'exec 3>&-',
  'if ! read -r _; then while kill -0 "$PPID" 2>/dev/null; do sleep 0.1; done; fi',
  'kill "$xvfb" 2>/dev/null',
  'wait "$xvfb"',
].join('\n');

/** Xvfb picks a free display number itself and writes it to fd 3 (-displayfd). */
function startXvfb(width: number, height: number): { display: Promise<string>; release: () => void } {
  const args = ['-displayfd', '3', '-screen', '0', `${width}x${height}x24`, '-nolisten', 'tcp', '-noreset'];
  const watchdog = spawn('/bin/sh', ['-c', XVFB_WATCHDOG, 'sh', ...args], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'] });
  const release = () => watchdog.stdin?.end('now\n');
  const display = new Promise<string>((done, fail) => {
    let text = '';
    let stderr = '';
    const timer = setTimeout(() => fail(new CliError('Xvfb did not report a display within 15 s')), 15_000);
    watchdog.stdio[2]?.on('data', (c: Buffer) => (stderr += c.toString()));
    watchdog.stdio[3]?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        // From now on the watchdog must not keep this process alive: it ends when we do.
        watchdog.unref();
        for (const stream of [watchdog.stdin, watchdog.stdio[2], watchdog.stdio[3]]) (stream as { unref?: () => void } | null)?.unref?.();
        done(`:${text.trim()}`);
      }
    });
    watchdog.stdio[3]?.on('end', () => {
      clearTimeout(timer);
      // After a display was reported this is its normal end; before, Xvfb failed to start.
      setImmediate(() => fail(new CliError(`Xvfb exited during start-up: ${lastLine(stderr) || 'it gave no reason'}`)));
    });
    watchdog.once('exit', (code) => {
      clearTimeout(timer);
      fail(
        new CliError(
          code === 127 ? 'Xvfb is not installed, and --virtual needs it; install it with: apt-get install xvfb' : `Xvfb exited during start-up: ${lastLine(stderr) || `code ${code}`}`,
        ),
      );
    });
    watchdog.once('error', (err) => {
      clearTimeout(timer);
      fail(new CliError(`could not start Xvfb (${err.message})`));
    });
  });
  return { display, release };
}

/**
 * The window manager, started and waited for: openbox runs its `--startup` command once it
 * manages the screen, and that command marks a file, so apps launched next get frames.
 */
async function startWindowManager(env: NodeJS.ProcessEnv): Promise<Tracked> {
  const scratch = await mkdtemp(join(tmpdir(), 'kestrel-wm-'));
  const ready = join(scratch, 'ready');
  const wm = spawn(WINDOW_MANAGER.command, ['--sm-disable', '--startup', `touch '${ready}'`], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const entry = track(wm, false);
  let stderr = '';
  wm.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  try {
    await new Promise<void>((done, fail) => {
      const deadline = Date.now() + 15_000;
      const poll = setInterval(() => {
        if (existsSync(ready)) finish(done);
        else if (Date.now() > deadline) finish(() => fail(new CliError(`the window manager ${WINDOW_MANAGER.command} did not start within 15 s: ${lastLine(stderr)}`)));
      }, 25);
      const finish = (then: () => void) => {
        clearInterval(poll);
        wm.off('exit', onExit);
        then();
      };
      const onExit = (code: number | null) =>
        finish(() => fail(new CliError(`the window manager ${WINDOW_MANAGER.command} exited during start-up with code ${code}: ${lastLine(stderr)}`)));
      wm.once('exit', onExit);
      wm.once('error', (err: NodeJS.ErrnoException) =>
        finish(() =>
          fail(
            new CliError(
              err.code === 'ENOENT'
                ? `--virtual starts the ${WINDOW_MANAGER.command} window manager, which is not installed; install it with: apt-get install ${WINDOW_MANAGER.debianPackage}`
                : `could not start ${WINDOW_MANAGER.command} (${err.message})`,
            ),
          ),
        ),
      );
    });
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return entry;
}

/**
 * A fresh X display of our own for `kestrel ui --virtual`: Xvfb, a window manager, and the apps
 * asked for with `--launch`. The agent works there and never touches the person's desktop.
 * Whatever fails part-way stops what had started. `stop()` ends the apps and the window
 * manager; if this process exits without calling it, the exit hook above kills them; the X
 * server ends with this process in every case.
 */
export async function startPrivateDisplay(options: PrivateDisplayOptions = {}): Promise<PrivateDisplay> {
  let xvfb: ReturnType<typeof startXvfb> | undefined;
  let wm: Tracked | undefined;
  const apps: Tracked[] = [];
  let stopping = false;
  const stopClients = async () => {
    stopping = true;
    // Apps first (each with whatever it started), then the window manager.
    await Promise.all(apps.map((app) => stopProcess(app)));
    if (wm) await stopProcess(wm);
  };
  try {
    xvfb = startXvfb(options.width ?? 1280, options.height ?? 800);
    const display = await xvfb.display;
    const env: NodeJS.ProcessEnv = { ...process.env, DISPLAY: display };
    delete env.WAYLAND_DISPLAY;
    wm = await startWindowManager(env);
    for (const command of options.launch ?? []) {
      const app = spawn('/bin/sh', ['-c', command], { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      app.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
      app.once('exit', (code) => {
        if (!stopping) options.onLaunchExit?.(command, code, lastLine(stderr));
      });
      apps.push(track(app, true));
    }
    return { display, stop: stopClients };
  } catch (err) {
    await stopClients();
    // Nothing of ours has connected to the display yet: it can go now.
    xvfb?.release();
    throw err;
  }
}
