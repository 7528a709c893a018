import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { portNumber, repeatable } from '../options.ts';

export type UiHostOptionValues = { port: number; virtual?: boolean; launch?: string[] } & ModelOptionValues;

/** The flags of the commands that serve the UI (`kestrel ui`, and `kestrel app` for its browser fallback), model flags included. */
export function addUiHostOptions(command: Command, help: { port: string; virtual: string }): Command {
  command
    .option('-p, --port <port>', help.port, portNumber, 0)
    .option('--virtual', help.virtual)
    .option('--launch <command>', 'with --virtual: open an app on the private display (a shell command; repeat for more)', repeatable);
  return addModelOptions(command);
}

/** What a UI-serving command passes on to the host it starts. */
export async function uiHostSettings(opts: UiHostOptionValues) {
  const { runDefaults } = await import('../ui-host/run-defaults.ts');
  return { port: opts.port, virtual: opts.virtual, launch: opts.launch, sessionSettings: runDefaults(opts) };
}
