/**
 * Deterministic random MoonViT + projector weights under the exact Hugging Face names
 * (KIMI-VL-FACTS.md §2.2–2.3), shaped by a small vision_config, for tests of the vision path.
 * Scales keep activations near unit size through the blocks, so a mistake shows up in the
 * outputs instead of vanishing.
 */
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

/** Names and shapes of every vision_tower.* and multi_modal_projector.* tensor. */
export function visionTensorList(cfg: MoonViTShape, textHidden: number): Array<[string, number[]]> {
  const d = cfg.hiddenSize;
  const wide = d * cfg.mergeKernelSize[0] * cfg.mergeKernelSize[1];
  const list: Array<[string, number[]]> = [
    ['vision_tower.patch_embed.proj.weight', [d, 3, cfg.patchSize, cfg.patchSize]],
    ['vision_tower.patch_embed.proj.bias', [d]],
    ['vision_tower.patch_embed.pos_emb.weight', [cfg.initPosEmbHeight, cfg.initPosEmbWidth, d]],
  ];
  for (let n = 0; n < cfg.numHiddenLayers; n++) {
    const p = `vision_tower.encoder.blocks.${n}`;
    list.push(
      [`${p}.norm0.weight`, [d]],
      [`${p}.norm0.bias`, [d]],
      [`${p}.wqkv.weight`, [3 * d, d]],
      [`${p}.wqkv.bias`, [3 * d]],
      [`${p}.wo.weight`, [d, d]],
      [`${p}.wo.bias`, [d]],
      [`${p}.norm1.weight`, [d]],
      [`${p}.norm1.bias`, [d]],
      [`${p}.mlp.fc0.weight`, [cfg.intermediateSize, d]],
      [`${p}.mlp.fc0.bias`, [cfg.intermediateSize]],
      [`${p}.mlp.fc1.weight`, [d, cfg.intermediateSize]],
      [`${p}.mlp.fc1.bias`, [d]],
    );
  }
  list.push(
    ['vision_tower.encoder.final_layernorm.weight', [d]],
    ['vision_tower.encoder.final_layernorm.bias', [d]],
    ['multi_modal_projector.pre_norm.weight', [d]],
    ['multi_modal_projector.pre_norm.bias', [d]],
    ['multi_modal_projector.linear_1.weight', [wide, wide]],
    ['multi_modal_projector.linear_1.bias', [wide]],
    ['multi_modal_projector.linear_2.weight', [textHidden, wide]],
    ['multi_modal_projector.linear_2.bias', [textHidden]],
  );
  return list;
}

/** Uniform values in [−1, 1) from a generator seeded by the tensor name and the seed. */
function uniform(name: string, seed: number, length: number): Float32Array {
  let state = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < name.length; i++) state = Math.imul(state ^ name.charCodeAt(i), 0x01000193) >>> 0;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    out[i] = (((z ^ (z >>> 15)) >>> 0) / 2 ** 31) - 1;
  }
  return out;
}

/** Every vision tensor with deterministic random values; the same arguments give the same values. */
export function tinyVisionWeights(cfg: MoonViTShape = TINY_VISION, textHidden = 64, seed = 1): Map<string, FixtureTensor> {
  const weights = new Map<string, FixtureTensor>();
  for (const [name, shape] of visionTensorList(cfg, textHidden)) {
    const length = shape.reduce((a, b) => a * b, 1);
    const data = uniform(name, seed, length);
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
