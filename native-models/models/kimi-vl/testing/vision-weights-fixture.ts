/**
 * Deterministic random MoonViT + projector weights under the exact Hugging Face names
 * (docs/kimi-vl.md#weights), shaped by a small vision_config, for tests of the vision path.
 * Scales keep activations near unit size through the blocks, so a mistake shows up in the
 * outputs instead of vanishing.
 */
import { SeededRandom } from '../../../numeric/random.ts';
import { visionTensorShapes } from '../graphs/tensor-names.ts';
import type { MoonViTShape, WeightLookup } from './vision-reference.ts';

/** A small vision_config: 2 heads of 16 (a multiple of 4, as the 2-D RoPE needs), 8×8 position table. */
export const TINY_VISION: MoonViTShape = {
  patchSize: 14,
  hiddenSize: 32,
  numAttentionHeads: 2,
  numHiddenLayers: 2,
  intermediateSize: 48,
  initPosEmbHeight: 8,
  initPosEmbWidth: 8,
  mergeKernelSize: [2, 2],
};

export interface FixtureTensor {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

/** Every vision tensor with deterministic random values; the same arguments give the same values. */
export function tinyVisionWeights(cfg: MoonViTShape = TINY_VISION, textHidden = 64, seed = 1): Map<string, FixtureTensor> {
  const weights = new Map<string, FixtureTensor>();
  for (const [name, shape] of visionTensorShapes(cfg, textHidden)) {
    const length = shape.reduce((a, b) => a * b, 1);
    const rng = SeededRandom.fromString(name, seed);
    const data = Float32Array.from({ length }, () => rng.next() * 2 - 1);
    const fanIn = shape.length >= 2 ? length / shape[0]! : 1;
    let scale: number;
    let offset = 0;
    if (/norm\d?\.weight$|layernorm\.weight$/.test(name)) {
      scale = 0.2;
      offset = 1;
    } else if (name.endsWith('pos_emb.weight')) {
      scale = 0.5;
    } else if (name.endsWith('.bias')) {
      scale = 0.1;
    } else {
      scale = Math.sqrt(3 / fanIn);
    }
    for (let i = 0; i < length; i++) data[i] = offset + scale * data[i]!;
    weights.set(name, { shape, data });
  }
  return weights;
}

/** A WeightLookup over a tensor map that names the missing tensor. */
export function lookupIn(weights: ReadonlyMap<string, FixtureTensor>): WeightLookup {
  return (name) => {
    const tensor = weights.get(name);
    if (!tensor) throw new Error(`no tensor named ${name}`);
    return tensor.data;
  };
}
