import { importKimiVL, MANIFEST_FILE, type ImportPlan } from '../../native-models/models/kimi-vl/import-checkpoint.ts';
import { formatBytes, type ImportPrecision } from '../../native-models/models/kimi-vl/precision.ts';
import type { Device } from '../../native-models/onnx/device.ts';
import type { CacheType } from '../../native-models/models/kimi-vl/modeling-text.ts';
import { ProgressBar } from './progress-bar.ts';
import { asCliErrors } from './run-model-command.ts';

/** The chosen precision and why, before the progress bar starts. */
function showPlan({ precision, weights, cacheType }: ImportPlan): void {
  process.stderr.write(`kestrel: precision ${precision.precision} — ${precision.reason}; ${formatBytes(weights.total)} of weights to write; KV cache ${cacheType}\n`);
  if (precision.note) process.stderr.write(`kestrel: note: ${precision.note}\n`);
}

export async function runImport(source: string, opts: { out: string; precision: ImportPrecision; device: Device; kvCache?: CacheType | 'auto'; workers?: number }): Promise<void> {
  const bar = new ProgressBar();
  const manifest = await asCliErrors(() =>
    importKimiVL({ source, out: opts.out, precision: opts.precision, device: opts.device, cacheType: opts.kvCache, workers: opts.workers, onPlan: showPlan, onProgress: (p) => bar.update(p.phase, p.done, p.total, p.detail) }),
  );
  // Both weight files, the language model's and the vision tower's, in the size as in the rate.
  process.stdout.write(
    `Imported ${manifest.source.dir} → ${opts.out} (${manifest.precision}, ${manifest.text.layers} layers, ${formatBytes(manifest.stats.weightBytesWritten)} of weights in ${manifest.stats.seconds.toFixed(1)} s, ${manifest.stats.megabytesPerSecond.toFixed(0)} MB/s); manifest: ${MANIFEST_FILE}\n`,
  );
}
