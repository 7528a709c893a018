import { spawn, type ChildProcess } from 'node:child_process';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { sleep } from '../../shared/timing.ts';
import type { CommandResult, CommandSpec, TaskHost, WindowMatch } from './host.ts';
import { KestrelError } from '../../shared/errors.ts';

export interface LocalHostOptions {
  readonly screen: { readonly width: number; readonly height: number };
  /** Environment for every program (DISPLAY, HOME, PATH…); defaults to this process's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Runs one pyautogui call through Kestrel's parser and operator. */
  readonly pyautogui: (code: string, signal?: AbortSignal) => Promise<void>;
}

export interface LocalTaskHost extends TaskHost {
  /** Stops every program the task launched. */
  dispose(): Promise<void>;
}

export class TaskHostError extends KestrelError {
  override readonly name = 'TaskHostError';
}

function argvOf(command: CommandSpec, home: string): [string, string[]] {
  if ('shell' in command) return ['sh', ['-c', command.shell]];
  // OSWorld's server expands a leading ~/ in argument lists; a shell does it for shell strings.
  const argv = command.argv.map((arg) => (arg.startsWith('~/') ? join(home, arg.slice(2)) : arg));
  return [argv[0]!, argv.slice(1)];
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

const escapeRegex = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The local desktop as a TaskHost: programs through child_process (each in its own process
 * group so a timeout ends the whole tree), windows through xdotool, files through xdg-open.
 */
export function localTaskHost(options: LocalHostOptions): LocalTaskHost {
  const env = options.env ?? process.env;
  const home = env.HOME ?? homedir();
  const launched = new Set<ChildProcess>();

  const start = (command: CommandSpec, stdio: 'pipe' | 'ignore'): ChildProcess => {
    const [file, args] = argvOf(command, home);
    return spawn(file, args, { env, cwd: home, stdio: ['ignore', stdio, stdio], detached: true });
  };

  const run: TaskHost['run'] = (command, runOptions = {}) =>
    new Promise<CommandResult>((done, fail) => {
      const child = start(command, 'pipe');
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), runOptions.timeoutMs ?? 120_000);
      const abort = (): void => killGroup(child, 'SIGKILL');
      runOptions.signal?.addEventListener('abort', abort, { once: true });
      child.once('error', (err) => {
        clearTimeout(timer);
        fail(new TaskHostError(`cannot start ${'argv' in command ? command.argv[0] : 'sh'}: ${err.message}`));
      });
      child.once('close', (code) => {
        clearTimeout(timer);
        runOptions.signal?.removeEventListener('abort', abort);
        done({ stdout, stderr, exitCode: code });
      });
    });

  const spawnKept = (command: CommandSpec, what: string): Promise<void> =>
    new Promise((done, fail) => {
      const child = start(command, 'ignore');
      launched.add(child);
      child.once('exit', () => launched.delete(child));
      child.once('error', (err) => fail(new TaskHostError(`cannot ${what}: ${err.message}`)));
      child.once('spawn', () => done());
    });

  const findWindows = async (match: WindowMatch): Promise<string[]> => {
    const pattern = match.strict ? `^${escapeRegex(match.name)}$` : escapeRegex(match.name);
    const result = await run({ argv: ['xdotool', 'search', '--onlyvisible', match.byClass ? '--class' : '--name', pattern] });
    const ids = result.stdout.split('\n').filter((line) => /^\d+$/.test(line.trim()));
    if (ids.length === 0) throw new TaskHostError(`no visible window ${match.byClass ? 'of class' : 'named'} "${match.name}" to act on`);
    return ids;
  };

  return {
    screen: options.screen,
    run,
    launch: (command) => spawnKept(command, `launch ${'argv' in command ? command.argv[0] : command.shell}`),
    open: (path) => spawnKept({ argv: ['xdg-open', path] }, `open ${path} (xdg-open comes with the xdg-utils package)`),
    async activateWindow(match) {
      const [id] = await findWindows(match);
      const activated = await run({ argv: ['xdotool', 'windowactivate', '--sync', id!] }, { timeoutMs: 5000 });
      // Without a window manager (a bare X server) there is no _NET_ACTIVE_WINDOW: raise and focus instead.
      if (activated.exitCode !== 0) await run({ argv: ['xdotool', 'windowraise', id!, 'windowfocus', id!] });
    },
    async closeWindow(match) {
      for (const id of await findWindows(match)) await run({ argv: ['xdotool', 'windowclose', id] });
    },
    pyautogui: options.pyautogui,
    resolvePath(path) {
      if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
      return isAbsolute(path) ? path : resolve(home, path);
    },
    sleep,
    async dispose() {
      for (const child of launched) killGroup(child, 'SIGTERM');
      launched.clear();
    },
  };
}
