import { MANIFEST_FILE, formatBytes, type CacheType, type Device, type ImportPlan, type ImportPrecision } from '../../native-models/index.ts';
import { importKimiVL } from '../../native-models/runtime.ts';
import { catchInterrupt } from '../interrupt.ts';
import { ProgressBar } from './progress-bar.ts';

/** The chosen precision and why, before the progress bar starts. */
function showPlan({ precision, weights, cacheType }: ImportPlan): void {
  process.stderr.write(`kestrel: precision ${precision.precision} — ${precision.reason}; ${formatBytes(weights.total)} of weights to write; KV cache ${cacheType}\n`);
  if (precision.note) process.stderr.write(`kestrel: note: ${precision.note}\n`);
}

/**
 * `kestrel model import`. Ctrl-C cancels it: what it wrote is removed and it exits 130. A second
 * Ctrl-C quits at once, leaving the output marked as an interrupted import, which the same
 * command run again takes over.
 */
export async function runImport(source: string, opts: { out: string; precision: ImportPrecision; device: Device; kvCache?: CacheType | 'auto'; hashSource?: boolean; workers?: number }): Promise<void> {
  const bar = new ProgressBar();
  const interrupt = catchInterrupt(() => {
    bar.end();
    process.stderr.write(`kestrel: stopped at once; \`kestrel model import\` into ${opts.out} again takes over what was left\n`);
  });
  let manifest;
  try {
    manifest = await importKimiVL({
      source,
      out: opts.out,
      precision: opts.precision,
      device: opts.device,
      cacheType: opts.kvCache,
      workers: opts.workers,
      hashSource: opts.hashSource,
      signal: interrupt.signal,
      onPlan: showPlan,
      onNote: (note) => {
        bar.end();
        process.stderr.write(`kestrel: ${note}\n`);
      },
      onProgress: (p) => bar.update(p.phase, p.done, p.total, p.detail),
    });
  } catch (err) {
    bar.end();
    throw err;
  } finally {
    interrupt.dispose();
  }
  // Both weight files, the language model's and the vision tower's, in the size as in the rate.
  process.stdout.write(
    `Imported ${manifest.source.dir} → ${opts.out} (${manifest.precision}, ${manifest.text.layers} layers, ${formatBytes(manifest.stats.weightBytesWritten)} of weights in ${manifest.stats.seconds.toFixed(1)} s, ${manifest.stats.megabytesPerSecond.toFixed(0)} MB/s); manifest: ${MANIFEST_FILE}\n`,
  );
}
