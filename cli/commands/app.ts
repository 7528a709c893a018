import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_USAGE, withHelp } from './help.ts';
import { addUiHostOptions, uiHostSettings, type UiHostOptionValues } from './ui-host-options.ts';

export function registerApp(program: Command): void {
  const command = addUiHostOptions(program.command('app').description('start the desktop app; where Electron cannot start, serve the same UI for a browser'), 'fallback');
  withHelp(command, {
    examples: ['kestrel app', 'kestrel app --model-dir ~/models/kimi-vl-onnx'],
    exitCodes: [[0, 'the app (or the browser fallback) was closed'], EXIT_FAILED, EXIT_USAGE],
  });
  command.action(async (opts: UiHostOptionValues) => {
    const { launchApp } = await import('../app-launcher.ts');
    process.exitCode = await launchApp(await uiHostSettings(opts));
  });
}
