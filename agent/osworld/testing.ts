import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { displayCommand, type CommandResult, type CommandSpec, type TaskHost } from './host.ts';

/** Test double for TaskHost: records every call as one line and answers commands from a script. */
export interface RecordingHost extends TaskHost {
  readonly calls: string[];
}

export function recordingHost(
  answer: (command: string) => Partial<CommandResult> = () => ({}),
  options: { width?: number; height?: number; home?: string } = {},
): RecordingHost {
  const calls: string[] = [];
  const home = options.home ?? homedir();
  return {
    calls,
    screen: { width: options.width ?? 1280, height: options.height ?? 800 },
    async run(command: CommandSpec) {
      const shown = displayCommand(command);
      calls.push(`run ${shown}`);
      return { stdout: '', stderr: '', exitCode: 0, ...answer(shown) };
    },
    async launch(command) {
      calls.push(`launch ${displayCommand(command)}`);
    },
    async open(path) {
      calls.push(`open ${path}`);
    },
    async activateWindow(match) {
      calls.push(`activate ${match.name}${match.strict ? ' (strict)' : ''}`);
    },
    async closeWindow(match) {
      calls.push(`close ${match.name}`);
    },
    async pyautogui(code) {
      calls.push(`pyautogui ${code}`);
    },
    resolvePath(path) {
      if (path === '~' || path.startsWith('~/')) return join(home, path.slice(1));
      return isAbsolute(path) ? path : resolve(home, path);
    },
    async sleep(ms) {
      calls.push(`sleep ${ms}`);
    },
  };
}
