import type { ScreenSpotProgress } from '../../agent/eval.ts';

/**
 * A progress bar on stderr. On a terminal it redraws one line; elsewhere (logs, CI) it prints a
 * line about every 5% so that the output stays short.
 */
export function progressBar(stream: NodeJS.WriteStream = process.stderr, width = 30): {
  update(progress: ScreenSpotProgress): void;
  finish(): void;
} {
  const started = Date.now();
  let lastPrinted = -1;
  let drawn = false;
  const line = (p: ScreenSpotProgress): string => {
    const fraction = p.total === 0 ? 1 : p.done / p.total;
    const filled = Math.round(fraction * width);
    const fresh = p.done - p.resumed;
    const elapsed = (Date.now() - started) / 1000;
    const eta = fresh > 0 && p.done < p.total ? ` eta ${Math.ceil((elapsed / fresh) * (p.total - p.done))}s` : '';
    const accuracy = p.done > 0 ? ((p.correct / p.done) * 100).toFixed(1) : '0.0';
    const resumed = p.resumed > 0 ? ` (${p.resumed} resumed)` : '';
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.done}/${p.total} accuracy ${accuracy}%${resumed}${eta}`;
  };
  return {
    update(progress) {
      if (stream.isTTY) {
        stream.write(`\r${line(progress)}\x1b[K`);
        drawn = true;
        return;
      }
      const step = Math.max(1, Math.floor(progress.total / 20));
      if (progress.done === progress.total || progress.done - lastPrinted >= step || lastPrinted < 0) {
        lastPrinted = progress.done;
        stream.write(`${line(progress)}\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
