import { access } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { isAbsolute, resolve } from 'node:path';
import { displayCommand, showText, type TaskHost } from './host.ts';
import { commandSpec } from './steps.ts';
import type { GetterConfig } from './task.ts';

export interface Getter {
  /** The program this getter would run (shown for consent), if it runs one. */
  command?(config: GetterConfig, shown: GetterConfig): string;
  get(host: TaskHost, config: GetterConfig, ctx: { readonly taskDir: string }, signal?: AbortSignal): Promise<unknown>;
}

async function existing(path: string): Promise<string | null> {
  try {
    await access(path);
    return path;
  } catch {
    return null;
  }
}

const commandOutput = (stream: 'stdout' | 'stderr'): Getter => ({
  command: (_config, shown) => displayCommand(commandSpec(shown, `getter ${shown.type}`)),
  async get(host, config, _ctx, signal) {
    const result = await host.run(commandSpec(config, `getter ${config.type}`), { timeoutMs: 120_000, ...(signal ? { signal } : {}) });
    return result[stream];
  },
});

/** A local file: OSWorld's vm_file copies it out of the VM; here it already is local. Missing → null. */
const localFile: Getter = {
  async get(host, config) {
    const paths = config.multi === true ? config.path : [config.path];
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === 'string')) {
      throw new Error(`getter ${config.type}: "path" must be a path${config.multi === true ? ' list' : ''}`);
    }
    const found = await Promise.all(paths.map((p: string) => existing(host.resolvePath(p))));
    return config.multi === true ? found : found[0];
  },
};

/**
 * OSWorld's getters that make sense on the local desktop, by name (a Map: a task's
 * "constructor" or "__proto__" finds nothing). vm_command_line and vm_command_error run a
 * command and therefore need consent.
 */
export const GETTERS: ReadonlyMap<string, Getter> = new Map(Object.entries({
  rule: { get: async (_host, config) => config.rules },
  vm_command_line: commandOutput('stdout'),
  vm_command_error: commandOutput('stderr'),
  vm_file: localFile,
  /** A file the task ships (local path or file:// only); relative paths are read beside the task. */
  cache_file: {
    async get(_host, config, ctx) {
      const path = String(config.path ?? '');
      if (/^https?:\/\//.test(path)) throw new Error(`getter cache_file: ${path} is remote; only local files are read`);
      const local = path.startsWith('file://') ? fileURLToPath(path) : isAbsolute(path) ? path : resolve(ctx.taskDir, path);
      return existing(local);
    },
  },
  vm_screen_size: { get: async (host) => ({ width: host.screen.width, height: host.screen.height }) },
} satisfies Record<string, Getter>));

/** Getters whose config points at a remote URL are unsupported rather than failing at run time. */
export function unsupportedGetterReason(config: GetterConfig): string | undefined {
  if (!GETTERS.has(config.type)) return `getter "${showText(config.type)}" is not supported on a local desktop`;
  if (config.type === 'cache_file' && typeof config.path === 'string' && /^https?:\/\//.test(config.path)) {
    return `getter cache_file fetches ${config.path} (only local files are read)`;
  }
  return undefined;
}
