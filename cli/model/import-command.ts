import { importKimiVL, MANIFEST_FILE } from '../../native-models/models/kimi-vl/import-checkpoint.ts';
import type { Precision } from '../../native-models/models/kimi-vl/modeling-text.ts';
import { ProgressBar } from './progress-bar.ts';
import { asCliErrors } from './run-model-command.ts';

export async function runImport(source: string, opts: { out: string; precision: Precision }): Promise<void> {
  const bar = new ProgressBar();
  const manifest = await asCliErrors(() =>
    importKimiVL({ source, out: opts.out, precision: opts.precision, onProgress: (p) => bar.update(p.phase, p.done, p.total, p.detail) }),
  );
  const gb = (manifest.text.weights.bytes / 1e9).toFixed(2);
  process.stdout.write(
    `Imported ${manifest.source.dir} → ${opts.out} (${manifest.precision}, ${manifest.text.layers} layers, ${gb} GB of weights in ${manifest.stats.seconds.toFixed(1)} s, ${manifest.stats.megabytesPerSecond.toFixed(0)} MB/s); manifest: ${MANIFEST_FILE}\n`,
  );
}
