import type { Command } from 'commander';
import { EXIT_FAILED, EXIT_USAGE, withHelp } from './help.ts';
import { addUiHostOptions, uiHostSettings, type UiHostOptionValues } from './ui-host-options.ts';

export function registerUi(program: Command): void {
  const command = addUiHostOptions(program.command('ui').description('serve the Kestrel UI on 127.0.0.1 for a browser'), 'server');
  withHelp(command, {
    examples: ['kestrel ui --endpoint http://gpu-box:8000/v1 --model moonshotai/Kimi-VL-A3B-Instruct', 'kestrel ui --virtual -p 8600 --launch xterm'],
    exitCodes: [[0, 'stopped with Ctrl-C'], EXIT_FAILED, EXIT_USAGE],
  });
  command.action(async (opts: UiHostOptionValues) => {
    const { serveUiUntilStopped } = await import('../ui-host/serve.ts');
    await serveUiUntilStopped(await uiHostSettings(opts));
  });
}
