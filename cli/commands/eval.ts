import type { Command } from 'commander';
import { notBuilt } from './not-built.ts';

export function registerEval(program: Command): void {
  const evalCommand = program.command('eval').description('evaluate grounding (ScreenSpot) or summarise OSWorld results');
  evalCommand
    .command('screenspot')
    .description('grounding accuracy on a ScreenSpot v1/v2 or ScreenSpot-Pro annotations file')
    .argument('<annotations>', 'the annotations .json file')
    .action(notBuilt('eval screenspot', 7));
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
