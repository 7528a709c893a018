import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { portNumber, repeatable } from '../options.ts';
import { EXIT_FAILED, EXIT_USAGE, withHelp } from './help.ts';

export function registerApp(program: Command): void {
  const command = program
    .command('app')
    .description('start the desktop app; where Electron cannot start, serve the same UI for a browser')
    .option('-p, --port <port>', 'port for the browser fallback (0 picks a free one)', portNumber, 0)
    .option('--virtual', 'in the browser fallback, run the agent on a fresh private Xvfb display')
    .option('--launch <command>', 'with --virtual: open an app on the private display (a shell command; repeat for more)', repeatable);
  withHelp(command, {
    examples: ['kestrel app', 'kestrel app --model-dir ~/models/kimi-vl-onnx'],
    exitCodes: [[0, 'the app (or the browser fallback) was closed'], EXIT_FAILED, EXIT_USAGE],
  });
  addModelOptions(command).action(async (opts: { port: number; virtual?: boolean; launch?: string[] } & ModelOptionValues) => {
    const { runDefaults } = await import('../ui-host/run-defaults.ts');
    const { launchApp } = await import('../app-launcher.ts');
    process.exitCode = await launchApp({ port: opts.port, virtual: opts.virtual, launch: opts.launch, sessionSettings: runDefaults(opts) });
  });
}
