/**
 * The mid-size random Kimi-VL language model the benchmark scripts build: MLA at half of
 * Kimi-VL-A3B's widths, its real vocabulary, hidden 1024, MoE layers with 2 shared experts and
 * top-6 routing. Big enough that its timings are the weights' (about 0.5 B parameters at 4 layers
 * and 32 experts), small enough for this machine.
 */
export function midTextConfig(layers: number, experts = 32) {
  return {
    hidden_size: 1024,
    intermediate_size: 2816,
    moe_intermediate_size: 512,
    num_hidden_layers: layers,
    num_attention_heads: 8,
    n_routed_experts: experts,
    n_shared_experts: 2,
    num_experts_per_tok: 6,
    kv_lora_rank: 256,
    qk_nope_head_dim: 64,
    qk_rope_head_dim: 32,
    v_head_dim: 64,
  };
}

/**
 * Issue 14's mid-size checkpoint: the mid-size model above with Kimi-VL-A3B's own MLA widths and
 * 16 heads, 64 routed experts (0.98 B parameters at 6 layers).
 */
export function kimiWidthsTextConfig(layers = 6) {
  return { ...midTextConfig(layers, 64), num_attention_heads: 16, kv_lora_rank: 512, qk_nope_head_dim: 128, qk_rope_head_dim: 64, v_head_dim: 128 };
}
