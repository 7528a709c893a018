import type { Command } from 'commander';
import type { Device } from '../../native-models/onnx/device.ts';
import { deviceOption } from '../model-options.ts';
import { portNumber } from '../options.ts';
import { EXIT_USAGE, withHelp } from './help.ts';

export function registerServe(program: Command): void {
  const command = program.command('serve');
  withHelp(command, {
    examples: [
      'kestrel serve --model-dir ~/models/kimi-vl-onnx',
      'kestrel serve --model-dir ~/models/kimi-vl-onnx -p 8001 --device auto',
      'kestrel ground shot.png "the Save button" --endpoint http://127.0.0.1:8000/v1 --model kimi-vl   # from another terminal',
    ],
    exitCodes: [
      [0, 'stopped with Ctrl-C or SIGTERM'],
      [1, 'the port cannot be listened on, or the model cannot be loaded'],
      EXIT_USAGE,
    ],
  });
  command
    .description('serve the in-process model as an OpenAI-compatible endpoint on 127.0.0.1')
    .requiredOption('--model-dir <dir>', 'an imported model folder (kestrel model import)')
    .option('--host <address>', 'address to listen on; anything but loopback needs --allow-remote', '127.0.0.1')
    .option('-p, --port <n>', 'port to listen on (0 picks a free one)', portNumber, 8000)
    .option('--model-name <name>', 'the name clients send as "model"', 'kimi-vl')
    .addOption(deviceOption())
    .option('--allow-remote', 'allow a --host other than loopback (no authentication: only on networks you trust)')
    .action(async (opts: { modelDir: string; host: string; port: number; modelName: string; allowRemote?: boolean; device: Device }) => {
      const { serveCommand } = await import('../serve/serve-command.ts');
      await serveCommand(opts);
    });
}
