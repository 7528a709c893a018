/** `kestrel bench`: the table (or one JSON object) on stdout, progress on stderr. */
import { basename } from 'node:path';
import { formatBytes, type BenchReport, type Device } from '../../native-models/index.ts';
import { runModelBench } from '../../host/index.ts';
import { oneLine } from '../../shared/one-line.ts';
import { CliError } from '../errors.ts';
import { readImage } from '../ground/read-image.ts';
import { ProgressBar } from './progress-bar.ts';

export interface BenchCommandOptions {
  readonly device?: readonly Device[];
  readonly repetitions: number;
  readonly prompt: number;
  readonly decode: number;
  readonly image?: string;
  readonly json?: boolean;
}

/** A markdown table, one row per test, as llama-bench prints. */
export function benchTable(report: BenchReport): string {
  const rows: string[][] = [['model', 'precision', 'size', 'device', 'test', 'result']];
  for (const r of report.results) {
    const about = [basename(r.model), r.precision, formatBytes(r.weightBytes), r.deviceLabel];
    if (r.error !== undefined) rows.push([...about, 'failed', 'see below']);
    for (const t of r.tests) rows.push([...about, t.label, t.display]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => (c === 5 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = `| ${widths.map((w, c) => (c === 5 ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  const failures = report.results.filter((r) => r.error !== undefined).map((r) => `${basename(r.model)} on ${r.device} failed: ${oneLine(r.error)}`);
  return [line(rows[0]!), rule, ...rows.slice(1).map(line), ...(failures.length ? ['', ...failures] : [])].join('\n');
}

export async function runBench(dirs: readonly string[], opts: BenchCommandOptions): Promise<number> {
  // Cheap checks first: every folder (its manifest and weight files) and the image, before any model loads.
  const { checkBenchFolders } = await import('../../native-models/runtime.ts');
  try {
    await checkBenchFolders(dirs);
  } catch (err) {
    throw new CliError(oneLine(err), 2);
  }
  const screenshot = opts.image ? await readImage(opts.image) : undefined;
  const bar = new ProgressBar();
  const report = await runModelBench(dirs, opts.device ?? ['auto'], {
    repetitions: opts.repetitions,
    promptTokens: opts.prompt,
    decodeTokens: opts.decode,
    ...(screenshot ? { screenshot: { mimeType: screenshot.mimeType, data: screenshot.data } } : {}),
    onProgress: (line) => bar.note('bench:', line),
  }).finally(() => bar.end());
  if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    const { machine } = report;
    process.stdout.write(
      `${benchTable(report)}\n\n${report.repetitions} repetition${report.repetitions === 1 ? '' : 's'} from a fresh load each, mean ± sd; ${machine.cpus} cores, ${formatBytes(machine.memoryBytes)}, load average ${machine.loadAverage.map((l) => l.toFixed(1)).join(' ')} at the end\n`,
    );
  }
  return report.results.some((r) => r.error !== undefined) ? 1 : 0;
}
