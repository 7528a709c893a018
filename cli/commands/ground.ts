import type { Command } from 'commander';
import { addModelOptions } from '../model-options.ts';
import { EXIT_USAGE, withHelp } from './help.ts';

export function registerGround(program: Command): void {
  const command = addModelOptions(
    program
      .command('ground')
      .description('find a UI element in an image and print the point the model picks')
      .argument('<image>', 'a PNG or JPEG screenshot')
      .argument('<query>', 'what to find, e.g. "the Save button"'),
  );
  withHelp(command, {
    examples: [
      'kestrel ground shot.png "the Save button" --endpoint http://gpu-box:8000/v1 --model moonshotai/Kimi-VL-A3B-Instruct',
      'kestrel ground shot.png "the search field" --model-dir ~/models/kimi-vl-onnx --json',
    ],
    exitCodes: [
      [0, 'the reply named a point'],
      [1, 'the reply held no point (the reason is on stderr), or the model failed'],
      EXIT_USAGE,
    ],
  });
  command
    .option('--json', 'print one JSON object {"x","y","px","py","raw","ms"} (x, y normalised; null when no point)')
    .action(async (image: string, query: string, options) => {
      const { groundCommand } = await import('../ground/ground-command.ts');
      process.exitCode = await groundCommand(image, query, options);
    });
}
