import { describe, expect, test } from 'vitest';
import { isMoeLayer, parseKimiVLConfig } from './configuration.ts';
import { tinyConfigJson } from './testing/tiny-checkpoint.ts';

const withText = (text: Record<string, unknown>) => tinyConfigJson({ text });

describe('parseKimiVLConfig', () => {
  test('reads the DeepSeek-V3 text_config and MoonViT vision_config', () => {
    const c = parseKimiVLConfig(tinyConfigJson());
    expect(c.text).toMatchObject({ vocabSize: 163840, hiddenSize: 64, kvLoraRank: 32, qkRopeHeadDim: 8, routedScalingFactor: 2.446, ropeTheta: 800000, firstKDenseReplace: 1 });
    expect(c.vision.mergeKernelSize).toEqual([2, 2]);
    expect(c.mediaPlaceholderTokenId).toBe(163605);
    expect([0, 1, 2].map((i) => isMoeLayer(c.text, i))).toEqual([false, true, true]);
  });

  test.each([
    [{ ...tinyConfigJson(), model_type: 'llava' }, /config\.json: model_type is "llava"; Kestrel imports Kimi-VL checkpoints \("kimi_vl"\) only/],
    [withText({ q_lora_rank: 1536 }), /text_config\.q_lora_rank=1536: only q_lora_rank null/],
    [withText({ scoring_func: 'softmax' }), /scoring_func 'softmax' is not supported/],
    [withText({ n_group: 8, topk_group: 3 }), /group-limited routing/],
    [withText({ rope_scaling: { type: 'yarn' } }), /rope_scaling is set/],
    [withText({ hidden_size: undefined }), /text_config\.hidden_size is missing/],
    [withText({ hidden_size: 'big' }), /text_config\.hidden_size must be a number, got "big"/],
    [{ ...tinyConfigJson(), text_config: undefined }, /text_config is missing/],
    // Null is not "the default": transformers would keep it and fail at run time.
    [withText({ rms_norm_eps: null }), /^config\.json: text_config\.rms_norm_eps is null; give a number, or leave it out for the default 0\.000001$/],
    [withText({ rope_theta: null }), /text_config\.rope_theta is null/],
    [withText({ hidden_size: null }), /^config\.json: text_config\.hidden_size is null; give a number$/],
    [withText({ rms_norm_eps: 0 }), /text_config\.rms_norm_eps must be above 0, got 0/],
    [withText({ rope_theta: -1 }), /text_config\.rope_theta must be above 0, got -1/],
    [withText({ num_hidden_layers: 0 }), /text_config\.num_hidden_layers must be a whole number ≥ 1, got 0/],
    [{ ...tinyConfigJson(), vision_config: { ...(tinyConfigJson().vision_config as object), merge_kernel_size: ['2', 2] } }, /vision_config\.merge_kernel_size must be \[h, w\], two whole numbers ≥ 1, got \["2",2\]/],
  ])('refuses %#', (raw, message) => {
    // (JSON round trip: what a config.json can hold; undefined means the key is left out.)
    expect(() => parseKimiVLConfig(JSON.parse(JSON.stringify(raw)))).toThrow(message);
  });
});
