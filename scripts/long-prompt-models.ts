/**
 * The checkpoints scripts/bench-long-prompt.ts measures, as config.json text overrides of the
 * tiny test checkpoint (whose vocabulary is the real one).
 */
import { kimiWidthsTextConfig } from './mid-checkpoint.ts';

export interface BenchModel {
  readonly label: string;
  readonly text: Record<string, unknown>;
}

// Measured (README, docs/attention.md) with experts 576 wide and 16 key/value heads spelled out.
const MID_TEXT = { ...kimiWidthsTextConfig(6), moe_intermediate_size: 576, num_key_value_heads: 16 };

export const BENCH_MODELS: Readonly<Record<string, BenchModel>> = {
  tiny: { label: 'tiny test checkpoint (hidden 64, 3 layers, 4 heads, kv_lora 32)', text: {} },
  // Issue 14's mid-size checkpoint: Kimi-VL-A3B's attention widths and vocabulary, 0.98 B parameters.
  mid: {
    label: 'mid-size (hidden 1024, 6 layers, 16 heads, kv_lora 512, nope 128 + rope 64, v 128, 64 experts top-6 + 2 shared)',
    text: MID_TEXT,
  },
  // The same with 16 routed experts instead of 64: the same work per token (top-6 plus 2 shared
  // either way) and the same attention, with a quarter of the expert weights (2.3 GB of fp32 in
  // all instead of 3.9), so a 32k-token prefill stays under 4 GB on a shared machine.
  mid16: { label: 'mid-size with 16 routed experts (top-6 + 2 shared; otherwise as mid)', text: { ...MID_TEXT, n_routed_experts: 16 } },
};
