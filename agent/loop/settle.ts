import type { Screenshot } from '../operator.ts';
import { sleep } from '../../shared/timing.ts';

export interface SettleOptions {
  /** Wait at least this long after acting before the first capture (default 150 ms). */
  readonly initialDelayMs?: number;
  /** Between captures (default 250 ms). */
  readonly intervalMs?: number;
  /** Give up waiting for a still screen after this long (default 3000 ms). */
  readonly timeoutMs?: number;
}

function samePixels(a: Screenshot, b: Screenshot): boolean {
  if (a.width !== b.width || a.height !== b.height || a.png.length !== b.png.length) return false;
  return Buffer.from(a.png.buffer, a.png.byteOffset, a.png.byteLength).equals(Buffer.from(b.png.buffer, b.png.byteOffset, b.png.byteLength));
}

/**
 * Waits for the screen to stop changing after an action: captures until two in a row match,
 * or the timeout passes. Returns the last capture, which becomes the next step's screenshot.
 */
export async function settle(options: SettleOptions, signal: AbortSignal | undefined, capture: () => Promise<Screenshot>): Promise<Screenshot> {
  const deadline = performance.now() + (options.timeoutMs ?? 3000);
  await sleep(options.initialDelayMs ?? 150, signal);
  let previous = await capture();
  while (performance.now() < deadline) {
    await sleep(options.intervalMs ?? 250, signal);
    const next = await capture();
    if (samePixels(previous, next)) return next;
    previous = next;
  }
  return previous;
}
