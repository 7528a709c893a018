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

/**
 * A number from the config. Left out, it takes `fallback` (the Hugging Face class default) when
 * there is one; written as null it is refused, not defaulted: transformers would keep the null
 * and fail (or compute nonsense) at run time.
 */
function num(obj: Json, key: string, where: string, fallback?: number): number {
  const v = obj[key];
  if (v === undefined) {
    if (fallback !== undefined) return fallback;
    fail(`${where}.${key} is missing`);
  }
  if (v === null) fail(`${where}.${key} is null; give a number${fallback !== undefined ? `, or leave it out for the default ${fallback}` : ''}`);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(`${where}.${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/** A number that must be above 0 (an epsilon, a RoPE base, a scaling factor). */
function positive(obj: Json, key: string, where: string, fallback?: number): number {
  const v = num(obj, key, where, fallback);
  if (!(v > 0)) fail(`${where}.${key} must be above 0, got ${v}`);
  return v;
}

/** A whole number ≥ `min` (0 for counts that may be zero, 1 for sizes). */
function int(obj: Json, key: string, where: string, fallback?: number, min = 0): number {
  const v = num(obj, key, where, fallback);
  if (!Number.isInteger(v) || v < min) fail(`${where}.${key} must be a whole number ≥ ${min}, got ${v}`);
  return v;
}

/** A size: a whole number ≥ 1. */
function size(obj: Json, key: string, where: string, fallback?: number): number {
  return int(obj, key, where, fallback, 1);
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
    vocabSize: size(t, 'vocab_size', w),
    hiddenSize: size(t, 'hidden_size', w),
    intermediateSize: size(t, 'intermediate_size', w),
    moeIntermediateSize: int(t, 'moe_intermediate_size', w),
    numHiddenLayers: size(t, 'num_hidden_layers', w),
    numAttentionHeads: size(t, 'num_attention_heads', w),
    nRoutedExperts: int(t, 'n_routed_experts', w),
    nSharedExperts: int(t, 'n_shared_experts', w, 0),
    numExpertsPerTok: int(t, 'num_experts_per_tok', w),
    firstKDenseReplace: int(t, 'first_k_dense_replace', w, 0),
    moeLayerFreq: size(t, 'moe_layer_freq', w, 1),
    kvLoraRank: size(t, 'kv_lora_rank', w),
    qkNopeHeadDim: size(t, 'qk_nope_head_dim', w),
    qkRopeHeadDim: size(t, 'qk_rope_head_dim', w),
    vHeadDim: size(t, 'v_head_dim', w),
    normTopkProb: t.norm_topk_prob !== false,
    routedScalingFactor: positive(t, 'routed_scaling_factor', w, 1),
    ropeTheta: positive(t, 'rope_theta', w, 10000),
    rmsNormEps: positive(t, 'rms_norm_eps', w, 1e-6),
    maxPositionEmbeddings: size(t, 'max_position_embeddings', w, 131072),
    bosTokenId: int(t, 'bos_token_id', w, 163584),
    eosTokenId: int(t, 'eos_token_id', w, 163585),
  };
  if (cfg.qkRopeHeadDim % 2) fail(`${w}.qk_rope_head_dim must be even, got ${cfg.qkRopeHeadDim}`);
  if (cfg.numExpertsPerTok > cfg.nRoutedExperts) fail(`${w}.num_experts_per_tok (${cfg.numExpertsPerTok}) exceeds n_routed_experts (${cfg.nRoutedExperts})`);
  return cfg;
}

function parseVision(v: Json): KimiVisionConfig {
  const w = 'vision_config';
  if (v.model_type !== undefined && v.model_type !== 'moonvit') fail(`${w}.model_type '${String(v.model_type)}' is not supported (expected 'moonvit')`);
  const merge = (v.merge_kernel_size ?? [2, 2]) as unknown[];
  if (!Array.isArray(merge) || merge.length !== 2 || !merge.every((k) => Number.isInteger(k) && (k as number) >= 1)) {
    fail(`${w}.merge_kernel_size must be [h, w], two whole numbers ≥ 1, got ${JSON.stringify(v.merge_kernel_size)}`);
  }
  return {
    patchSize: size(v, 'patch_size', w, 14),
    hiddenSize: size(v, 'hidden_size', w),
    numAttentionHeads: size(v, 'num_attention_heads', w),
    numHiddenLayers: size(v, 'num_hidden_layers', w),
    intermediateSize: size(v, 'intermediate_size', w),
    initPosEmbHeight: size(v, 'init_pos_emb_height', w, 64),
    initPosEmbWidth: size(v, 'init_pos_emb_width', w, 64),
    mergeKernelSize: [merge[0] as number, merge[1] as number],
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
