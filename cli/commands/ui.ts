import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { portNumber, repeatable } from '../options.ts';
import { EXIT_FAILED, EXIT_USAGE, withHelp } from './help.ts';

export function registerUi(program: Command): void {
  const command = program
    .command('ui')
    .description('serve the Kestrel UI on 127.0.0.1 for a browser')
    .option('-p, --port <port>', 'port to listen on (0 picks a free one)', portNumber, 0)
    .option('--virtual', 'run the agent on a fresh private Xvfb display, with the openbox window manager, instead of $DISPLAY')
    .option('--launch <command>', 'with --virtual: open an app on the private display (a shell command; repeat for more)', repeatable);
  withHelp(command, {
    examples: ['kestrel ui --endpoint http://gpu-box:8000/v1 --model moonshotai/Kimi-VL-A3B-Instruct', 'kestrel ui --virtual -p 8600 --launch xterm'],
    exitCodes: [[0, 'stopped with Ctrl-C'], EXIT_FAILED, EXIT_USAGE],
  });
  addModelOptions(command).action(async (opts: { port: number; virtual?: boolean; launch?: string[] } & ModelOptionValues) => {
    const { runDefaults } = await import('../ui-host/run-defaults.ts');
    const { serveUiUntilStopped } = await import('../ui-host/serve.ts');
    await serveUiUntilStopped({ port: opts.port, virtual: opts.virtual, launch: opts.launch, sessionSettings: runDefaults(opts) });
  });
}
