import type { Command } from 'commander';
import { addModelOptions } from '../model-options.ts';

export function registerGround(program: Command): void {
  addModelOptions(
    program
      .command('ground')
      .description('find a UI element in an image and print the point the model picks')
      .argument('<image>', 'a PNG or JPEG screenshot')
      .argument('<query>', 'what to find, e.g. "the Save button"'),
  )
    .option('--json', 'print one JSON object {"x","y","px","py","raw","ms"} (x, y normalised; null when no point)')
    .action(async (image: string, query: string, options) => {
      const { groundCommand } = await import('../ground/ground-command.ts');
      process.exitCode = await groundCommand(image, query, options);
    });
}
