import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { positiveInt } from '../options.ts';

export function registerEval(program: Command): void {
  const evalCommand = program.command('eval').description('evaluate grounding (ScreenSpot) or summarise OSWorld results');
  addModelOptions(
    evalCommand
      .command('screenspot')
      .description('grounding accuracy on a ScreenSpot v1/v2 or ScreenSpot-Pro annotations file')
      .argument('<annotations>', 'the annotations .json file'),
  )
    .requiredOption('--images <dir>', 'the folder holding the screenshots the annotations name')
    .option('--limit <n>', 'score only the first n records', positiveInt('--limit'))
    .option('--results <file>', 'resumable JSONL results file (default: <annotations>.results.jsonl beside it)')
    .option('--report <file>', 'also write a self-contained HTML report: each image with its box and the predicted point')
    .option('--json', 'print the accuracy summary as JSON')
    .action(async (annotations: string, options: ModelOptionValues & { images: string; limit?: number; results?: string; report?: string; json?: boolean }) => {
      const [{ screenspotCommand }, { groundWithModel }, { resolveModel, generationSettings }] = await Promise.all([
        import('../eval/screenspot-command.ts'),
        import('../eval/ground-with-model.ts'),
        import('../model-options.ts'),
      ]);
      const model = await resolveModel(options);
      process.exitCode = await screenspotCommand(annotations, options, groundWithModel(model, generationSettings(options)));
    });
  evalCommand
    .command('osworld')
    .description('success rate per domain over an OSWorld-layout results folder')
    .argument('<results>', 'the folder `kestrel replay --record` (or OSWorld) wrote results to')
    .option('--json', 'print the summary as JSON')
    .action(async (results: string, options: { json?: boolean }) => {
      const { osworldSummaryCommand } = await import('../eval/osworld-summary.ts');
      process.exitCode = await osworldSummaryCommand(results, options);
    });
}
