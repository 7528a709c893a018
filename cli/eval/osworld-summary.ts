import { formatResultsSummary, summarizeResults } from '../../agent/eval.ts';
import { CliError } from '../errors.ts';

/** `kestrel eval osworld <results>`: success rate per domain, like OSWorld's own summary script. */
export async function osworldSummaryCommand(resultsDir: string, options: { json?: boolean }): Promise<number> {
  let summary;
  try {
    summary = await summarizeResults(resultsDir);
  } catch (err) {
    throw new CliError(`${(err as Error).message}; give the folder \`kestrel replay --record\` wrote to`, 2);
  }
  if (summary.total.runs === 0 && summary.total.unsupported === 0) {
    throw new CliError(`${resultsDir} holds no result.txt files (expected <domain>/<task id>/result.txt inside)`);
  }
  process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `${formatResultsSummary(summary)}\n`);
  return 0;
}
