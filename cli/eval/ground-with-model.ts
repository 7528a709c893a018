import { ground, type VisionLanguageModel } from '../../agent/index.ts';
import type { GroundFn } from '../../agent/eval.ts';

/** agent/ground.ts behind the ScreenSpot seam: the model's normalised point becomes image pixels. */
export function groundWithModel(model: VisionLanguageModel, settings: { maxTokens?: number; temperature?: number }): GroundFn {
  return async (png, query, { width, height, signal }) => {
    const result = await ground(model, { mimeType: 'image/png', data: png, width, height }, query, { ...settings, ...(signal ? { signal } : {}) });
    return { point: result.point ? { x: result.point.x * width, y: result.point.y * height } : null, raw: result.raw, ms: result.ms };
  };
}
