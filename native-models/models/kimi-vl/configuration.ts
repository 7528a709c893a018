/**
 * Kimi-VL's config.json: top-level `kimi_vl` with a DeepSeek-V3-style `text_config` and a
 * MoonViT `vision_config`. Parsed into typed objects; anything this runtime cannot run (q-LoRA,
 * softmax routing, group-limited routing, RoPE scaling) is refused with a clear message rather
 * than silently mis-computed.
 */
import { CheckpointError } from '../../checkpoint/errors.ts';

export interface KimiTextConfig {
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly intermediateSize: number;
  readonly moeIntermediateSize: number;
  readonly numHiddenLayers: number;
  readonly numAttentionHeads: number;
  readonly nRoutedExperts: number;
  readonly nSharedExperts: number;
  readonly numExpertsPerTok: number;
  readonly firstKDenseReplace: number;
  readonly moeLayerFreq: number;
  readonly kvLoraRank: number;
  readonly qkNopeHeadDim: number;
  readonly qkRopeHeadDim: number;
  readonly vHeadDim: number;
  readonly normTopkProb: boolean;
  readonly routedScalingFactor: number;
  readonly ropeTheta: number;
  readonly rmsNormEps: number;
  readonly maxPositionEmbeddings: number;
  readonly bosTokenId: number;
  readonly eosTokenId: number;
}

export interface KimiVisionConfig {
  readonly patchSize: number;
  readonly hiddenSize: number;
  readonly numAttentionHeads: number;
  readonly numHiddenLayers: number;
  readonly intermediateSize: number;
  readonly initPosEmbHeight: number;
  readonly initPosEmbWidth: number;
  readonly mergeKernelSize: readonly [number, number];
}

export interface KimiVLConfig {
  readonly modelType: 'kimi_vl';
  readonly mediaPlaceholderTokenId: number;
  readonly text: KimiTextConfig;
  readonly vision: KimiVisionConfig;
}

/** eps of kv_a_layernorm: the HF module is built without rms_norm_eps, so it keeps the class default. */
export const KV_A_LAYERNORM_EPS = 1e-6;

type Json = Record<string, unknown>;

function fail(message: string): never {
  throw new CheckpointError(`config.json: ${message}`);
}

function num(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    fail(`${where}.${key} is missing`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

function int(obj: Json, key: string, where: string, fallback?: number): number {
  const v = num(obj, key, where, fallback);
  if (!Number.isInteger(v) || v < 0) fail(`${where}.${key} must be a whole number ≥ 0, got ${v}`);
  return v;
}

function parseText(t: Json): KimiTextConfig {
  const w = 'text_config';
  if (t.q_lora_rank !== null && t.q_lora_rank !== undefined) fail(`${w}.q_lora_rank=${String(t.q_lora_rank)}: only q_lora_rank null (plain q_proj, as in Kimi-VL) is supported`);
  if ((t.scoring_func ?? 'sigmoid') !== 'sigmoid') fail(`${w}.scoring_func '${String(t.scoring_func)}' is not supported (Kimi-VL uses 'sigmoid')`);
  if ((t.topk_method ?? 'noaux_tc') !== 'noaux_tc') fail(`${w}.topk_method '${String(t.topk_method)}' is not supported (Kimi-VL uses 'noaux_tc')`);
  if ((t.n_group ?? 1) !== 1 || (t.topk_group ?? 1) !== 1) fail(`${w}: group-limited routing (n_group ${String(t.n_group)}, topk_group ${String(t.topk_group)}) is not supported; Kimi-VL uses 1/1`);
  if (t.rope_scaling !== null && t.rope_scaling !== undefined) fail(`${w}.rope_scaling is set; only unscaled RoPE (null, as in Kimi-VL) is supported`);
  if (t.hidden_act !== undefined && t.hidden_act !== 'silu') fail(`${w}.hidden_act '${String(t.hidden_act)}' is not supported (expected 'silu')`);
  if (t.attention_bias === true) fail(`${w}.attention_bias true is not supported (Kimi-VL has no biases)`);
  const cfg: KimiTextConfig = {
    vocabSize: int(t, 'vocab_size', w),
    hiddenSize: int(t, 'hidden_size', w),
    intermediateSize: int(t, 'intermediate_size', w),
    moeIntermediateSize: int(t, 'moe_intermediate_size', w),
    numHiddenLayers: int(t, 'num_hidden_layers', w),
    numAttentionHeads: int(t, 'num_attention_heads', w),
    nRoutedExperts: int(t, 'n_routed_experts', w),
    nSharedExperts: int(t, 'n_shared_experts', w, 0),
    numExpertsPerTok: int(t, 'num_experts_per_tok', w),
    firstKDenseReplace: int(t, 'first_k_dense_replace', w, 0),
    moeLayerFreq: int(t, 'moe_layer_freq', w, 1),
    kvLoraRank: int(t, 'kv_lora_rank', w),
    qkNopeHeadDim: int(t, 'qk_nope_head_dim', w),
    qkRopeHeadDim: int(t, 'qk_rope_head_dim', w),
    vHeadDim: int(t, 'v_head_dim', w),
    normTopkProb: t.norm_topk_prob !== false,
    routedScalingFactor: num(t, 'routed_scaling_factor', w, 1),
    ropeTheta: num(t, 'rope_theta', w, 10000),
    rmsNormEps: num(t, 'rms_norm_eps', w, 1e-6),
    maxPositionEmbeddings: int(t, 'max_position_embeddings', w, 131072),
    bosTokenId: int(t, 'bos_token_id', w, 163584),
    eosTokenId: int(t, 'eos_token_id', w, 163585),
  };
  if (cfg.qkRopeHeadDim % 2) fail(`${w}.qk_rope_head_dim must be even, got ${cfg.qkRopeHeadDim}`);
  if (cfg.numExpertsPerTok > cfg.nRoutedExperts) fail(`${w}.num_experts_per_tok (${cfg.numExpertsPerTok}) exceeds n_routed_experts (${cfg.nRoutedExperts})`);
  if (cfg.moeLayerFreq < 1) fail(`${w}.moe_layer_freq must be ≥ 1`);
  return cfg;
}

function parseVision(v: Json): KimiVisionConfig {
  const w = 'vision_config';
  if (v.model_type !== undefined && v.model_type !== 'moonvit') fail(`${w}.model_type '${String(v.model_type)}' is not supported (expected 'moonvit')`);
  const merge = (v.merge_kernel_size ?? [2, 2]) as number[];
  if (!Array.isArray(merge) || merge.length !== 2) fail(`${w}.merge_kernel_size must be [h, w]`);
  return {
    patchSize: int(v, 'patch_size', w, 14),
    hiddenSize: int(v, 'hidden_size', w),
    numAttentionHeads: int(v, 'num_attention_heads', w),
    numHiddenLayers: int(v, 'num_hidden_layers', w),
    intermediateSize: int(v, 'intermediate_size', w),
    initPosEmbHeight: int(v, 'init_pos_emb_height', w, 64),
    initPosEmbWidth: int(v, 'init_pos_emb_width', w, 64),
    mergeKernelSize: [merge[0]!, merge[1]!],
  };
}

export function parseKimiVLConfig(raw: unknown): KimiVLConfig {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('must be a JSON object');
  const c = raw as Json;
  if (c.model_type !== 'kimi_vl') {
    fail(`model_type is ${JSON.stringify(c.model_type)}; Kestrel imports Kimi-VL checkpoints ("kimi_vl") only`);
  }
  if (!c.text_config || typeof c.text_config !== 'object') fail('text_config is missing');
  if (!c.vision_config || typeof c.vision_config !== 'object') fail('vision_config is missing');
  return {
    modelType: 'kimi_vl',
    mediaPlaceholderTokenId: int(c, 'media_placeholder_token_id', 'config', 163605),
    text: parseText(c.text_config as Json),
    vision: parseVision(c.vision_config as Json),
  };
}

/** Whether decoder layer `i` uses the MoE block (DeepSeek-V3 rule) or the dense MLP. */
export function isMoeLayer(t: KimiTextConfig, i: number): boolean {
  return t.nRoutedExperts > 0 && i >= t.firstKDenseReplace && i % t.moeLayerFreq === 0;
}
