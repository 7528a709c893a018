import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { portNumber, repeatable } from '../options.ts';

export function registerUi(program: Command): void {
  const command = program
    .command('ui')
    .description('serve the Kestrel UI on 127.0.0.1 for a browser')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', portNumber, 0)
    .option('--virtual', 'run the agent on a fresh private Xvfb display, with the openbox window manager, instead of $DISPLAY')
    .option('--launch <command>', 'with --virtual: open an app on the private display (a shell command; repeat for more)', repeatable);
  addModelOptions(command).action(async (opts: { port: number; virtual?: boolean; launch?: string[] } & ModelOptionValues) => {
    const { runDefaults } = await import('../ui-host/run-defaults.ts');
    const { serveUiUntilStopped } = await import('../ui-host/serve.ts');
    await serveUiUntilStopped({ port: opts.port, virtual: opts.virtual, launch: opts.launch, sessionSettings: runDefaults(opts) });
  });
}
