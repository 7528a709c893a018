/**
 * The Kimi-VL language model (DeepSeek-V3 architecture) as an ONNX graph, built node by node
 * from the config — no tracing. Reads top to bottom: inputs, positions and RoPE tables,
 * one loop over decoder layers (MLA attention over a latent KV cache; dense or MoE feed-forward),
 * final norm and lm_head on the last position.
 *
 * Op choices (docs/onnxruntime.md#operators-kestrel-uses): the cache holds only the normalised
 * latent plus the roped shared key (kv_lora_rank + qk_rope_head_dim values per token and layer);
 * attention over it is MLA in the decompressed form for prefills and the absorbed form for
 * decode steps (mla-attention.ts), both through the blocked attention operation
 * (onnx/attention.ts), so no call holds more than a fixed number of scores whatever the prompt's
 * length. Routed experts use com.microsoft.MoE
 * (interleaved SwiGLU) with Kimi's sigmoid + bias top-k routing computed in the graph and fed
 * as log-weights, so the op's softmax renormalisation reproduces the normalised weights exactly.
 */
import { GraphBuilder, INT64_MAX, attr } from '../../../onnx/graph-builder.ts';
import { int4ExpertBlockSize } from '../../../quantization/int4-blocks.ts';
import { int4Embedding } from '../../../quantization/int4-embedding.ts';
import { int4ExpertsPerExpert } from '../../../quantization/int4-experts.ts';
import { int4Experts, int4Linear, type Int4AccuracyLevel } from '../../../quantization/matmul-nbits.ts';
import { DataType, type DataTypeCode } from '../../../onnx/onnx-proto.ts';
import { isMoeLayer, KV_A_LAYERNORM_EPS, type KimiTextConfig } from '../configuration.ts';
import { decompressedFrom, mlaAttention } from './mla-attention.ts';
import { attentionPlan } from '../../../onnx/attention.ts';
import { LM } from './tensor-names.ts';
import type { WeightRecipe } from './weight-recipes.ts';

/**
 * int4: dense projections as com.microsoft.MatMulNBits and routed experts as com.microsoft.QMoE
 * (block-wise 4-bit, block 64 where the input width allows, else 32; QMoE computes in fp16), the
 * embedding as com.microsoft.GatherBlockQuantized (same blocks), everything else (activations,
 * cache, absorbed kv_b, norms, router) in fp32.
 */
export type Precision = 'fp32' | 'fp16' | 'int4';

/** The KV cache's element type; `fp16` halves what crosses to a CUDA device every step. */
export type CacheType = 'fp32' | 'fp16';

/** fp16 models keep an fp16 cache; others keep fp32 unless asked otherwise. */
export function defaultCacheType(precision: Precision): CacheType {
  return precision === 'fp16' ? 'fp16' : 'fp32';
}

export interface TextGraphOptions {
  readonly precision: Precision;
  /** Default: `defaultCacheType(precision)`. An fp16 cache under fp32 activations is cast on the way in and out. */
  readonly cacheType?: CacheType;
  /** Turns a recipe into the producer that streams its values when the model is written. */
  readonly produce: (recipe: WeightRecipe) => () => AsyncIterable<Float32Array>;
  /** Intermediate values (by node name) to expose as extra outputs, for comparisons with a reference. */
  readonly debugOutputs?: readonly string[];
  /** int4: MatMulNBits' compute (default 4, int8 activations; 0: fp32, for exact comparisons). */
  readonly int4AccuracyLevel?: Int4AccuracyLevel;
  /**
   * int4: the routed experts' form — `qmoe` (default: one com.microsoft.QMoE, which CUDA, WebGPU
   * and the CPU all run) or `per-expert` (a MatMulNBits pair per expert under an If, the CPU's
   * fastest; quantization/int4-experts.ts).
   */
  readonly int4Experts?: Int4ExpertForm;
  /** Calls with at least this many new tokens take MLA's decompressed form. Default: `decompressedFrom(config)`; tests force either form. */
  readonly decompressedFrom?: number;
}

export type Int4ExpertForm = 'qmoe' | 'per-expert';

/** Names of the graph's inputs and outputs, shared with the session code. */
export const TEXT_IO = {
  inputIds: 'input_ids',
  logits: 'logits',
  past: (i: number) => `past.${i}`,
  /** The whole cache after this call, [1, past + sequence, width]: kept on the GPU where it can be. */
  present: (i: number) => `present.${i}`,
  /** Only the rows this call added, [1, sequence, width]: what a host-side cache appends. */
  latent: (i: number) => `latent.${i}`,
  /** Projector rows [n, hidden] (fp32) written over the embeddings at `imagePositions`; n = 0 for text. */
  imageFeatures: 'image_features',
  /** Positions within this call's `input_ids`, [n] int64. */
  imagePositions: 'image_positions',
} as const;

/**
 * The routed-expert nodes (MoE or QMoE), one per MoE layer. Under WebGPU they run on the CPU
 * provider: MoE has no WebGPU kernel, and onnxruntime 1.30's WebGPU QMoE is wrong at random for
 * more than one token — its gate shader clears the per-expert token counts in workgroup 0 only,
 * while the other workgroups may already be counting (test/webgpu/qmoe-race.test.ts).
 */
export function routedExpertNodes(t: KimiTextConfig): string[] {
  return Array.from({ length: t.numHiddenLayers }, (_, i) => i).filter((i) => isMoeLayer(t, i)).map(expertsNode);
}

const expertsNode = (layer: number) => `layers.${layer}.mlp.experts`;

/** Values per token and layer in the latent KV cache. */
export function cacheWidth(t: KimiTextConfig): number {
  return t.kvLoraRank + t.qkRopeHeadDim;
}

export function buildTextGraph(t: KimiTextConfig, opts: TextGraphOptions): GraphBuilder {
  const g = new GraphBuilder();
  const act: DataTypeCode = opts.precision === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const int4 = opts.precision === 'int4';
  const F32 = DataType.FLOAT;
  const I64 = DataType.INT64;
  const H = t.numAttentionHeads;
  const D = t.hiddenSize;
  const nope = t.qkNopeHeadDim;
  const rope = t.qkRopeHeadDim;
  const rank = t.kvLoraRank;
  const qHead = nope + rope;
  const width = cacheWidth(t);
  const cacheType: DataTypeCode = (opts.cacheType ?? defaultCacheType(opts.precision)) === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;
  const castIfNeeded = (x: string, from: DataTypeCode, to: DataTypeCode, name: string) => (from === to ? x : g.op('Cast', [x], name, [attr.int('to', to)]));

  // Weights: big matrices in the chosen precision, norms and the router in fp32 (HF computes
  // both in fp32).
  const weight = (name: string, dims: number[], recipe: WeightRecipe, dataType: DataTypeCode = act) =>
    g.weight({ name: name.endsWith('bias') ? name : `${name}.weight`, dims, dataType, produce: opts.produce(recipe) });
  const copy = (name: string, dims: number[], tensor: string, dataType: DataTypeCode = act) => weight(name, dims, { kind: 'copy', tensor }, dataType);

  const i64 = (name: string, values: number[]) => g.constant(name, I64, [values.length], values);
  const scalar = (name: string, value: number, dataType: DataTypeCode = act) => g.constant(name, dataType, [], [value]);
  const toAct = (x: string, name: string) => (act === F32 ? x : g.op('Cast', [x], name, [attr.int('to', act)]));
  const toF32 = (x: string, name: string) => (act === F32 ? x : g.op('Cast', [x], name, [attr.int('to', F32)]));
  const linear = (x: string, w: string, name: string) => g.op('Gemm', [x, w], name, [attr.int('transB', 1)]);
  /** A Linear layer's [out, in] weight and the node applying it (Gemm, or MatMulNBits for int4). */
  type Projection = (x: string, nodeName: string) => string;
  const proj = (name: string, dims: [number, number], recipe: WeightRecipe): Projection => {
    if (int4) return int4Linear(g, name, dims[0], dims[1], opts.produce(recipe), { accuracyLevel: opts.int4AccuracyLevel });
    const w = weight(name, dims, recipe);
    return (x, nodeName) => linear(x, w, nodeName);
  };
  const copyProj = (name: string, dims: [number, number], tensor: string) => proj(name, dims, { kind: 'copy', tensor });

  const axisLast = i64('axes.last', [-1]);
  const rmsNorm = (x: string, w: string, eps: number, name: string): string => {
    const xf = toF32(x, `${name}.to_f32`);
    const sq = g.op('Mul', [xf, xf], `${name}.square`);
    const mean = g.op('ReduceMean', [sq, axisLast], `${name}.mean`, [attr.int('keepdims', 1)]);
    const std = g.op('Sqrt', [g.op('Add', [mean, scalar(`${name}.eps`, eps, F32)], `${name}.add_eps`)], `${name}.rms`);
    const y = g.op('Mul', [g.op('Div', [xf, std], `${name}.normalised`), w], `${name}.scaled`);
    return toAct(y, `${name}.to_act`);
  };
  const silu = (x: string, name: string) => g.op('Mul', [x, g.op('Sigmoid', [x], `${name}.sigmoid`)], name);
  const swiglu = (x: string, gate: Projection, up: Projection, down: Projection, name: string) =>
    down(g.op('Mul', [silu(gate(x, `${name}.gate_proj`), `${name}.silu`), up(x, `${name}.up_proj`)], `${name}.gated`), `${name}.down_proj`);

  // ---- inputs ------------------------------------------------------------------------------
  const ids = g.input(TEXT_IO.inputIds, I64, [1, 'sequence']);
  const pasts = Array.from({ length: t.numHiddenLayers }, (_, i) => g.input(TEXT_IO.past(i), cacheType, [1, 'past_sequence', width]));

  // ---- positions, RoPE tables ---------------------------------------------------------------
  const pastLen = g.op('Shape', [pasts[0]!], 'positions.past_length', [attr.int('start', 1), attr.int('end', 2)]);
  const newLen = g.op('Shape', [ids], 'positions.new_length', [attr.int('start', 1), attr.int('end', 2)]);
  const totalLen = g.op('Add', [pastLen, newLen], 'positions.total_length');
  const axis0 = i64('axes.0', [0]);
  const one = g.constant('const.one_i64', I64, [], [1]);
  const start = g.op('Squeeze', [pastLen, axis0], 'positions.start');
  const end = g.op('Squeeze', [totalLen, axis0], 'positions.end');
  const positions = g.op('Range', [start, end, one], 'positions.query');
  const axis1 = i64('axes.1', [1]);
  const queryColumn = g.op('Unsqueeze', [positions, axis1], 'positions.query_column');
  const invFreq = Float32Array.from({ length: rope / 2 }, (_, j) => 1 / t.ropeTheta ** ((2 * j) / rope));
  const freqs = g.op('Mul', [g.op('Cast', [queryColumn], 'rope.positions_f32', [attr.int('to', F32)]), g.constant('rope.inv_freq', F32, [1, rope / 2], invFreq)], 'rope.freqs');
  const angles = g.op('Concat', [freqs, freqs], 'rope.angles', [attr.int('axis', -1)]);
  const cos = toAct(g.op('Cos', [angles], 'rope.cos_f32'), 'rope.cos');
  const sin = toAct(g.op('Sin', [angles], 'rope.sin_f32'), 'rope.sin');
  const ropeSplit = i64('rope.split', [rope / 2, rope / 2]);
  const applyRope = (x: string, name: string): string => {
    const [a, b] = g.node('Split', [x, ropeSplit], `${name}.halves`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
    const rotated = g.op('Concat', [g.op('Neg', [b], `${name}.neg`), a], `${name}.rotate_half`, [attr.int('axis', -1)]);
    return g.op('Add', [g.op('Mul', [x, cos], `${name}.cos`), g.op('Mul', [rotated, sin], `${name}.sin`)], name);
  };

  // ---- embeddings ----------------------------------------------------------------------------
  // int4 stores the table in the MatMulNBits block layout (asymmetric) and dequantises only the
  // rows it gathers, into fp32.
  const flatIds = g.op('Squeeze', [ids, axis0], 'input_ids.flat');
  const embedRecipe: WeightRecipe = { kind: 'copy', tensor: `${LM}.embed_tokens.weight` };
  let x = int4
    ? int4Embedding(g, 'embed_tokens', t.vocabSize, D, opts.produce(embedRecipe))(flatIds, 'embed')
    : g.op('Gather', [weight('embed_tokens', [t.vocabSize, D], embedRecipe), flatIds], 'embed', [attr.int('axis', 0)]);
  // Image features replace the <|media_pad|> embeddings (docs/kimi-vl.md#image-features-in-the-prompt); text-only calls feed none.
  const imageFeatures = toAct(g.input(TEXT_IO.imageFeatures, F32, ['image_tokens', D]), 'image.features');
  const imageRows = g.op('Unsqueeze', [g.input(TEXT_IO.imagePositions, I64, ['image_tokens']), i64('axes.image', [1])], 'image.positions');
  x = g.op('ScatterND', [x, imageRows, imageFeatures], 'embed.with_images');

  const qShape = i64('attn.q_shape', [0, H, qHead]);
  const qSplit = i64('attn.q_split', [nope, rope]);
  const cacheSplit = i64('attn.cache_split', [rank, rope]);
  // One choice of MLA form and one attention plan per call, shared by every layer.
  const decompressed = g.op('GreaterOrEqual', [newLen, i64('attn.decompressed_from', [opts.decompressedFrom ?? decompressedFrom(t)])], 'attn.plan.decompressed');
  const plan = attentionPlan(g, { queries: newLen, keys: totalLen, heads: H, firstPosition: pastLen, name: 'attn.plan' });
  const presents: string[] = [];
  const latents: string[] = [];

  // ---- decoder layers ------------------------------------------------------------------------
  for (let i = 0; i < t.numHiddenLayers; i++) {
    const p = `layers.${i}`;
    const hf = `${LM}.layers.${i}`;
    const lnIn = copy(`${p}.input_layernorm`, [D], `${hf}.input_layernorm.weight`, F32);
    const lnPost = copy(`${p}.post_attention_layernorm`, [D], `${hf}.post_attention_layernorm.weight`, F32);

    // Multi-head latent attention.
    const a = `${p}.attn`;
    const wq = proj(`${a}.q_proj`, [H * qHead, D], { kind: 'rope-rows', tensor: `${hf}.self_attn.q_proj.weight`, blockRows: qHead, ropeOffset: nope, ropeDim: rope });
    const wkva = proj(`${a}.kv_a_proj_with_mqa`, [width, D], { kind: 'rope-rows', tensor: `${hf}.self_attn.kv_a_proj_with_mqa.weight`, blockRows: width, ropeOffset: rank, ropeDim: rope });
    const lnKv = copy(`${a}.kv_a_layernorm`, [rank], `${hf}.self_attn.kv_a_layernorm.weight`, F32);
    const kvb = `${hf}.self_attn.kv_b_proj.weight`;
    const wuk = weight(`${a}.k_absorb`, [H, nope, rank], { kind: 'absorb-k', tensor: kvb, heads: H, nope, v: t.vHeadDim, rank });
    const wuv = weight(`${a}.v_absorb`, [H, rank, t.vHeadDim], { kind: 'absorb-v', tensor: kvb, heads: H, nope, v: t.vHeadDim, rank });
    const wo = copyProj(`${a}.o_proj`, [D, H * t.vHeadDim], `${hf}.self_attn.o_proj.weight`);

    const h = rmsNorm(x, lnIn, t.rmsNormEps, `${p}.input_layernorm`);
    const q = g.op('Transpose', [g.op('Reshape', [wq(h, `${a}.q_proj`), qShape], `${a}.q_heads`)], `${a}.q_head_major`, [attr.ints('perm', [1, 0, 2])]);
    const [qNope, qPe] = g.node('Split', [q, qSplit], `${a}.q_split`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];

    const [latent, kPe] = g.node('Split', [wkva(h, `${a}.kv_a_proj`), cacheSplit], `${a}.kv_split`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
    const entry = g.op('Concat', [rmsNorm(latent, lnKv, KV_A_LAYERNORM_EPS, `${a}.kv_a_layernorm`), applyRope(kPe, `${a}.k_rope`)], `${a}.cache_entry`, [attr.int('axis', -1)]);
    const added = castIfNeeded(g.op('Unsqueeze', [entry, axis0], `${a}.cache_entry_batched`), act, cacheType, `${a}.cache_entry_stored`);
    const present = g.op('Concat', [pasts[i]!, added], TEXT_IO.present(i), [attr.int('axis', 1)]);
    presents.push(present);
    latents.push(g.op('Identity', [added], TEXT_IO.latent(i)));
    const cache = castIfNeeded(g.op('Squeeze', [present, axis0], `${a}.cache_stored`), cacheType, act, `${a}.cache`);
    const qRoped = applyRope(qPe, `${a}.q_rope`);
    const merged = mlaAttention(g, t, { qNope, qPe: qRoped, cache, plan, decompressed }, { kAbsorb: wuk, vAbsorb: wuv }, act, a);
    x = g.op('Add', [x, wo(merged, `${a}.o_proj`)], `${p}.attn_residual`);

    // Feed-forward: dense SwiGLU, or routed experts plus shared experts.
    const h2 = rmsNorm(x, lnPost, t.rmsNormEps, `${p}.post_attention_layernorm`);
    const m = `${p}.mlp`;
    let ffn: string;
    if (!isMoeLayer(t, i)) {
      const gate = copyProj(`${m}.gate_proj`, [t.intermediateSize, D], `${hf}.mlp.gate_proj.weight`);
      const up = copyProj(`${m}.up_proj`, [t.intermediateSize, D], `${hf}.mlp.up_proj.weight`);
      const down = copyProj(`${m}.down_proj`, [D, t.intermediateSize], `${hf}.mlp.down_proj.weight`);
      ffn = swiglu(h2, gate, up, down, m);
    } else {
      ffn = moeBlock(h2, i);
    }
    x = g.op('Add', [x, ffn], `${p}.output`);
  }

  function moeBlock(h: string, i: number): string {
    const hf = `${LM}.layers.${i}.mlp`;
    const m = `layers.${i}.mlp`;
    const E = t.nRoutedExperts;
    const I = t.moeIntermediateSize;
    const router = copy(`${m}.gate`, [E, D], `${hf}.gate.weight`, F32);
    const bias = copy(`${m}.gate.e_score_correction_bias`, [E], `${hf}.gate.e_score_correction_bias`, F32);
    const fc1Recipe: WeightRecipe = { kind: 'experts-fc1', prefix: `${hf}.experts`, experts: E };
    const fc2Recipe: WeightRecipe = { kind: 'experts-fc2', prefix: `${hf}.experts`, experts: E };
    // int4: symmetric blocks (zero point 8), one block size for fc1 and fc2.
    const block = int4ExpertBlockSize(D, I);
    const perExpert = int4 && opts.int4Experts === 'per-expert';
    const cpuExperts = perExpert ? int4ExpertsPerExpert(g, `${m}.experts`, { experts: E, hidden: D, intermediate: I, blockSize: block, fc1: opts.produce(fc1Recipe), fc2: opts.produce(fc2Recipe), accuracyLevel: opts.int4AccuracyLevel }) : undefined;

    const scores = g.op('Sigmoid', [linear(toF32(h, `${m}.router_input`), router, `${m}.router_logits`)], `${m}.router_scores`);
    const choice = g.op('Add', [scores, bias], `${m}.router_choice`);
    const [, chosen] = g.node('TopK', [choice, i64(`${m}.top_k`, [t.numExpertsPerTok])], `${m}.router_topk`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
    let weights = g.op('GatherElements', [scores, chosen], `${m}.router_weights_raw`, [attr.int('axis', -1)]);
    const total = g.op('ReduceSum', [weights, axisLast], `${m}.router_weight_sum`, [attr.int('keepdims', 1)]);
    if (t.normTopkProb) weights = g.op('Div', [weights, g.op('Add', [total, scalar(`${m}.router_eps`, 1e-20, F32)], `${m}.router_denominator`)], `${m}.router_weights`);
    const shared = () => {
      if (t.nSharedExperts === 0) return undefined;
      const s = I * t.nSharedExperts;
      const se = `${m}.shared_experts`;
      const gate = copyProj(`${se}.gate_proj`, [s, D], `${hf}.shared_experts.gate_proj.weight`);
      const up = copyProj(`${se}.up_proj`, [s, D], `${hf}.shared_experts.up_proj.weight`);
      const down = copyProj(`${se}.down_proj`, [D, s], `${hf}.shared_experts.down_proj.weight`);
      return swiglu(h, gate, up, down, se);
    };
    if (cpuExperts) {
      // Each token's scaled weight for each expert, 0 for the experts it did not choose.
      const scaled = g.op('Mul', [weights, scalar(`${m}.routed_scaling`, t.routedScalingFactor, F32)], `${m}.router_weights_scaled`);
      const none = g.op('Expand', [scalar(`${m}.router_unrouted`, 0, F32), g.op('Shape', [scores], `${m}.router_shape`)], `${m}.router_unrouted_full`);
      const routed = cpuExperts(h, g.op('ScatterElements', [none, chosen, scaled], `${m}.routing`, [attr.int('axis', -1)]), `${m}.experts`);
      const sharedOut = shared();
      return sharedOut ? g.op('Add', [routed, sharedOut], `${m}.output`) : routed;
    }
    // QMoE takes each fc as packed codes + block scales.
    const [fc1, fc1Scales] = int4 ? int4Experts(g, `${m}.experts.fc1`, E, 2 * I, D, opts.produce(fc1Recipe), block) : [weight(`${m}.experts.fc1`, [E, 2 * I, D], fc1Recipe), undefined];
    const [fc2, fc2Scales] = int4 ? int4Experts(g, `${m}.experts.fc2`, E, D, I, opts.produce(fc2Recipe), block) : [weight(`${m}.experts.fc2`, [E, D, I], fc2Recipe), undefined];
    // MoE renormalises the softmax of these logits over the chosen experts: log-weights with
    // −inf elsewhere give back exactly `weights / sum(weights)`.
    const blocked = g.op('Expand', [scalar(`${m}.router_blocked`, -Infinity, F32), g.op('Shape', [scores], `${m}.router_shape`)], `${m}.router_blocked_full`);
    const logits = g.op('ScatterElements', [blocked, chosen, g.op('Log', [weights], `${m}.router_log_weights`)], `${m}.router_probs`, [attr.int('axis', -1)]);
    // int4: QMoE runs in fp16 — its input, routing and block scales — because onnxruntime's
    // CUDA kernel takes nothing else (docs/onnxruntime.md); the CPU and WebGPU ones take it too.
    const toHalf = (x: string, name: string) => g.op('Cast', [x], name, [attr.int('to', DataType.FLOAT16)]);
    const moeInputs = fc1Scales && fc2Scales
      ? [toHalf(h, `${m}.experts_input_f16`), toHalf(logits, `${m}.router_probs_f16`), fc1, fc1Scales, '', fc2, fc2Scales]
      : [h, toAct(logits, `${m}.router_probs_act`), fc1, '', fc2];
    const quantAttrs = int4 ? [attr.int('expert_weight_bits', 4), attr.int('block_size', block)] : [];
    const experts = g.op(int4 ? 'QMoE' : 'MoE', moeInputs, expertsNode(i), [
      ...quantAttrs,
      attr.int('k', t.numExpertsPerTok),
      attr.string('activation_type', 'swiglu'),
      attr.int('swiglu_fusion', 1),
      attr.int('normalize_routing_weights', 1),
      attr.float('activation_alpha', 1),
      attr.float('activation_beta', 0),
      attr.float('swiglu_limit', 3.4e38),
    ], 'com.microsoft');
    const routed = int4 ? g.op('Cast', [experts], `${m}.experts_output`, [attr.int('to', act)]) : experts;
    // Unnormalised routing (norm_topk_prob false) multiplies back the sum the op divided out.
    const factor = t.normTopkProb ? scalar(`${m}.routed_scaling`, t.routedScalingFactor) : toAct(g.op('Mul', [total, scalar(`${m}.routed_scaling`, t.routedScalingFactor, F32)], `${m}.routed_factor_f32`), `${m}.routed_factor`);
    let out = g.op('Mul', [routed, factor], `${m}.routed`);
    const sharedOut = shared();
    if (sharedOut) out = g.op('Add', [out, sharedOut], `${m}.output`);
    return out;
  }

  // ---- head: last position only --------------------------------------------------------------
  const last = g.op('Slice', [x, i64('head.last_start', [-1]), g.constant('head.last_end', I64, [1], [INT64_MAX]), axis0], 'head.last_hidden');
  const normed = rmsNorm(last, copy('norm', [D], `${LM}.norm.weight`, F32), t.rmsNormEps, 'norm');
  const logits = toF32(copyProj('lm_head', [t.vocabSize, D], 'language_model.lm_head.weight')(normed, 'lm_head'), 'lm_head_f32');
  const out = g.op('Identity', [logits], TEXT_IO.logits);
  g.output(out, F32, [1, t.vocabSize]);
  for (const present of presents) g.output(present, cacheType, [1, 'total_sequence', width]);
  for (const latent of latents) g.output(latent, cacheType, [1, 'sequence', width]);
  for (const name of opts.debugOutputs ?? []) g.output(name, act);
  return g;
}
