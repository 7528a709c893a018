import type { NormalizedPoint } from '../../../host/ui-types.ts';

/** One inspector probe: an image, what was asked, where the model pointed, where the truth is. */
export interface Probe {
  readonly imageName: string;
  readonly width: number;
  readonly height: number;
  readonly query: string;
  readonly predicted?: NormalizedPoint;
  /** The true target's box in image pixels: left, top, width, height. */
  readonly truth?: readonly [number, number, number, number];
  readonly latencyMs: number;
  readonly raw: string;
}

/** A hit when the predicted point falls inside the true box (ScreenSpot's rule). */
export function isHit(probe: Pick<Probe, 'predicted' | 'truth' | 'width' | 'height'>): boolean | undefined {
  if (!probe.truth) return undefined;
  if (!probe.predicted) return false;
  const [left, top, w, h] = probe.truth;
  const x = probe.predicted.x * probe.width;
  const y = probe.predicted.y * probe.height;
  return x >= left && x <= left + w && y >= top && y <= top + h;
}

/** A square true-target box of `size` pixels centred on a click, clamped to the image. */
export function truthBox(x: number, y: number, size: number, width: number, height: number): [number, number, number, number] {
  const half = size / 2;
  const left = Math.max(0, Math.round(x - half));
  const top = Math.max(0, Math.round(y - half));
  return [left, top, Math.min(width, Math.round(x + half)) - left, Math.min(height, Math.round(y + half)) - top];
}

/**
 * ScreenSpot's annotation layout (a JSON list; bbox is [left, top, width, height] in pixels),
 * so `kestrel eval screenspot` and other ScreenSpot tooling read the probes. Probes without a
 * marked truth are left out: they have no answer to score against.
 */
export function toScreenSpot(probes: readonly Probe[]): string {
  const rows = probes
    .filter((p) => p.truth)
    .map((p) => ({
      img_filename: p.imageName,
      bbox: [...p.truth!],
      instruction: p.query,
      data_type: 'text',
      data_source: 'kestrel-inspector',
    }));
  return `${JSON.stringify(rows, null, 2)}\n`;
}
