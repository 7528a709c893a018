import { describe, expect, test } from 'vitest';
import { parseKimiVLConfig } from '../configuration.ts';
import { decodeCost } from './text-costs.ts';
import { tinyConfigJson } from '../testing/tiny-checkpoint.ts';

// Kimi-VL-A3B-Instruct's text_config (docs/kimi-vl.md#configuration).
const real = parseKimiVLConfig(
  tinyConfigJson({
    text: { hidden_size: 2048, intermediate_size: 11264, moe_intermediate_size: 1408, num_hidden_layers: 27, num_attention_heads: 16, n_routed_experts: 64, n_shared_experts: 2, num_experts_per_tok: 6, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 },
  }),
).text;

describe('decodeCost', () => {
  test('the real model touches ≈2.6 B parameters per token (the "A3B"), 576 cache values per layer', () => {
    const fp16 = decodeCost(real, 'fp16');
    expect(fp16.parameters / 1e9).toBeCloseTo(2.58, 2);
    expect(fp16.cacheBytesPerContextToken).toBe(27 * 576 * 2);
    expect(decodeCost(real, 'fp32').weightBytes / fp16.weightBytes).toBeCloseTo(2, 2);
  });

  test('int4 counts the absorbed kv_b halves at fp32, the rest at 4-bit blocks', () => {
    const int4 = decodeCost(real, 'int4');
    expect(int4.parameters).toBe(decodeCost(real, 'fp32').parameters);
    const absorbed = 27 * 16 * 512 * (128 + 128);
    const fp32Small = 2048 + 27 * (2 * 2048 + 512) + 26 * (64 * 2048 + 64);
    const int4Width = (4 + 32 / 64 + 4 / 64) / 8;
    expect(int4.weightBytes).toBeCloseTo((int4.parameters - absorbed - fp32Small) * int4Width + absorbed * 4 + fp32Small * 4, 0);
  });
});
