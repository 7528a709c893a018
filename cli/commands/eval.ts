import type { Command } from 'commander';
import { addModelOptions, type ModelOptionValues } from '../model-options.ts';
import { positiveInt } from '../options.ts';
import { EXIT_FAILED, EXIT_USAGE, withHelp } from './help.ts';

export function registerEval(program: Command): void {
  const evalCommand = program.command('eval').description('evaluate grounding (ScreenSpot) or summarise OSWorld results');
  withHelp(evalCommand, {
    examples: ['kestrel eval screenspot annotations/vscode_macos.json --images images --model-dir ~/models/kimi-vl-onnx', 'kestrel eval osworld results/'],
    exitCodes: [[0, 'done'], EXIT_FAILED, EXIT_USAGE],
  });
  const screenspot = addModelOptions(
    evalCommand
      .command('screenspot')
      .description('grounding accuracy on a ScreenSpot v1/v2 or ScreenSpot-Pro annotations file')
      .argument('<annotations>', 'the annotations .json file'),
  );
  withHelp(screenspot, {
    examples: [
      'kestrel eval screenspot ScreenSpot-Pro/annotations/vscode_macos.json --images ScreenSpot-Pro/images --endpoint http://gpu:8000/v1 --model kimi-vl --report vscode.html',
      'kestrel eval screenspot screenspot_web.json --images images --model-dir ~/models/kimi-vl-onnx --limit 50 --json',
    ],
    exitCodes: [
      [0, 'every record was scored; the accuracy table (or --json) is on stdout'],
      [1, 'a failure while working; the results so far are kept, and the same command resumes'],
      [2, 'usage: a bad flag, annotations or results file, or an image the annotations name that is missing'],
    ],
  });
  screenspot
    .requiredOption('--images <dir>', 'the folder holding the screenshots the annotations name')
    .option('--limit <n>', 'score only the first n records', positiveInt('--limit'))
    .option('--results <file>', 'resumable JSONL results file (default: <annotations>.results.jsonl beside it)')
    .option('--report <file>', 'also write a self-contained HTML report: each image with its box and the predicted point')
    .option('--json', 'print the accuracy summary as JSON')
    .action(async (annotations: string, options: ModelOptionValues & { images: string; limit?: number; results?: string; report?: string; json?: boolean }) => {
      const [{ screenspotCommand }, { groundWithModel }, { modelOpener, generationSettings }] = await Promise.all([
        import('../eval/screenspot-command.ts'),
        import('../eval/ground-with-model.ts'),
        import('../model-options.ts'),
      ]);
      // The model flags now, the model itself only once the annotations and images have been checked.
      const openModel = modelOpener(options);
      process.exitCode = await screenspotCommand(annotations, options, async () => groundWithModel(await openModel(), generationSettings(options)));
    });
  const osworld = evalCommand
    .command('osworld')
    .description('success rate per domain over an OSWorld-layout results folder');
  withHelp(osworld, {
    examples: ['kestrel eval osworld results/', 'kestrel eval osworld results/ --json'],
    exitCodes: [[0, 'the summary is on stdout'], [2, 'usage: a bad flag, or a folder that does not hold OSWorld results']],
  });
  osworld
    .argument('<results>', 'the folder `kestrel replay --record` (or OSWorld) wrote results to')
    .option('--json', 'print the summary as JSON')
    .action(async (results: string, options: { json?: boolean }) => {
      const { osworldSummaryCommand } = await import('../eval/osworld-summary.ts');
      process.exitCode = await osworldSummaryCommand(results, options);
    });
}
