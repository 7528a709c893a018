/**
 * MoonViT at the real width (hidden 1152, 16 heads, MLP 4304, 64×64 position table, real
 * projector) with a chosen number of blocks and random weights, for the vision benchmarks.
 */
import { visionTensorShapes } from '../native-models/models/kimi-vl/graphs/tensor-names.ts';
import type { MoonViTShape } from '../native-models/models/kimi-vl/testing/vision-reference.ts';
import { noise } from '../test/fixtures/images/png.ts';

export const TEXT_HIDDEN = 2048;

export const visionShapeWith = (layers: number): MoonViTShape => ({
  patchSize: 14,
  hiddenSize: 1152,
  numAttentionHeads: 16,
  numHiddenLayers: layers,
  intermediateSize: 4304,
  initPosEmbHeight: 64,
  initPosEmbWidth: 64,
  mergeKernelSize: [2, 2],
});

/** Finite values of a sensible size; one noise block is repeated to fill each tensor. */
export function randomVisionSource(cfg: MoonViTShape) {
  const sizes = new Map([...visionTensorShapes(cfg, TEXT_HIDDEN)].map(([name, dims]) => [name, dims.reduce((a, b) => a * b, 1)]));
  return async function* (name: string): AsyncGenerator<Float32Array> {
    const scale = /norm/.test(name) ? 1 : name.endsWith('.weight') ? 0.02 : 0.1;
    const block = Float32Array.from(noise(1 << 20, name.length + 7), (v) => (v / 127.5 - 1) * scale);
    for (let left = sizes.get(name)!; left > 0; left -= block.length) yield block.subarray(0, Math.min(left, block.length));
  };
}
