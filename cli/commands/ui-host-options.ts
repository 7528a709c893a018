import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { portNumber, repeatable } from '../options.ts';

export type UiHostOptionValues = { port: number; virtual?: boolean; launch?: string[] } & ModelOptionValues;

/**
 * The flags of the commands that serve the UI, model flags included: `kestrel ui` is the
 * server; `kestrel app` starts one only as its fallback where Electron cannot start, which its
 * help says.
 */
export function addUiHostOptions(command: Command, role: 'server' | 'fallback'): Command {
  const fallback = role === 'fallback';
  command
    .option('-p, --port <port>', `port ${fallback ? 'for the browser fallback' : 'to listen on'} (0 picks a free one)`, portNumber, 0)
    .option('--virtual', `${fallback ? 'in the browser fallback, ' : ''}run the agent on a fresh private Xvfb display, with the openbox window manager, instead of $DISPLAY`)
    .option('--launch <command>', 'with --virtual: open an app on the private display (a shell command; repeat for more)', repeatable);
  return addModelOptions(command);
}

/** What a UI-serving command passes on to the host it starts. */
export async function uiHostSettings(opts: UiHostOptionValues) {
  const { runDefaults } = await import('../ui-host/run-defaults.ts');
  return { port: opts.port, virtual: opts.virtual, launch: opts.launch, sessionSettings: runDefaults(opts) };
}
