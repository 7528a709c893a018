import { stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { formatSummary, loadScreenSpotAnnotations, renderReport, ResultsFileError, runScreenSpot, ScreenSpotFormatError, ScreenSpotImageError, type GroundFn } from '../../agent/eval.ts';
import { CliError } from '../errors.ts';
import { progressBar } from './progress.ts';

export interface ScreenSpotCommandOptions {
  readonly images: string;
  readonly limit?: number;
  readonly report?: string;
  /** The resumable JSONL results file; defaults to `<annotations>.results.jsonl` beside the annotations. */
  readonly results?: string;
  readonly json?: boolean;
}

export function defaultResultsPath(annotations: string): string {
  return join(dirname(annotations), `${basename(annotations).replace(/\.json$/i, '')}.results.jsonl`);
}

/**
 * `kestrel eval screenspot`: scores every record through `ground`, appending to the results file
 * as it goes (a re-run resumes), prints the accuracy table and optionally writes the HTML report.
 * The annotations and the images folder are checked before `openGround` loads a model.
 */
export async function screenspotCommand(annotations: string, options: ScreenSpotCommandOptions, openGround: () => Promise<GroundFn>): Promise<number> {
  const resultsPath = options.results ?? defaultResultsPath(annotations);
  let records;
  try {
    records = await loadScreenSpotAnnotations(annotations);
  } catch (err) {
    if (err instanceof ScreenSpotFormatError) throw new CliError(err.message, 2);
    throw err;
  }
  const images = await stat(options.images).catch(() => undefined);
  if (!images?.isDirectory()) throw new CliError(`--images ${options.images} is not a folder; give the folder holding the screenshots the annotations name`, 2);
  const ground = await openGround();
  const bar = progressBar();
  let run;
  try {
    run = await runScreenSpot({ records, imagesDir: options.images, ground, resultsPath, limit: options.limit, onProgress: bar.update });
  } catch (err) {
    bar.finish();
    if (err instanceof ResultsFileError || err instanceof ScreenSpotImageError) throw new CliError(err.message, 2);
    throw new CliError(`${(err as Error).message} (results so far are in ${resultsPath}; re-run the same command to resume)`);
  }
  bar.finish();
  if (options.report) {
    const html = await renderReport({ title: `ScreenSpot: ${basename(annotations)}`, results: run.results, summary: run.summary, imagesDir: options.images });
    await writeFile(options.report, html);
  }
  if (options.json) process.stdout.write(`${JSON.stringify(run.summary)}\n`);
  else process.stdout.write(`${formatSummary(run.summary)}\nresults: ${resultsPath}${options.report ? `\nreport: ${options.report}` : ''}\n`);
  return 0;
}
