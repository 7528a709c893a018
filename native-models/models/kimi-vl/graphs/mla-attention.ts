/**
 * Multi-head latent attention (DeepSeek-V3's MLA) over the latent KV cache, in the form that is
 * cheaper for the call, chosen in the graph by an `If` on the number of new tokens:
 *
 * - **decompressed** (prefill): keys and values are rebuilt per head from the cached latent,
 *   kᵀ = W_uk · latentᵀ [H, nope, T] and v = latent · W_uv [H, T, v], so the scores are taken
 *   over nope + rope = 192 values and the context over 128 (the 16B model's widths). Rebuilding
 *   costs rank · H · (nope + v) per cached token, once per call.
 * - **absorbed** (decode, short calls): W_uk is folded into the query instead, so the scores
 *   are taken over the 512 + 64 wide latent and the context over the 512 wide latent, then
 *   W_uv turns it into 128 per head. Nothing is rebuilt, each query pays more. These calls have
 *   fewer than `decompressedFrom` new tokens, so their queries form one block, without the
 *   Loop: H × S × T scores, under 11 KB per cached token for Kimi-VL-A3B.
 *
 * Both read the same cache, [T, rank + rope] (normalised latent, then the roped shared key), and
 * neither copies the shared RoPE key into every head. The decompressed form takes it as its own
 * query/key pair; the absorbed form attends over whole cache rows, its query the latent query and
 * the roped one side by side, so a decode step neither slices nor transposes a copy of the cache.
 * Both go through the one blocked `attention` operation. In int4 imports the absorbed form's
 * per-head products run outside the `If` (mla-int4.ts).
 *
 * `mlaBlock` is MLA as one layer of the text graph: the projections, the cache rows it adds,
 * `mlaAttention`, and o_proj; `mlaCall` is what all layers of one call share.
 */
import { attention, attentionPlan, type AttentionPlan } from '../../../onnx/attention.ts';
import { attr, type GraphBuilder } from '../../../onnx/graph-builder.ts';
import { DataType, type DataTypeCode } from '../../../onnx/onnx-proto.ts';
import { KV_A_LAYERNORM_EPS, type KimiTextConfig } from '../configuration.ts';
import { LM } from './tensor-names.ts';
import { int4AbsorbWeights } from './mla-int4.ts';
import { applyRope, rmsNorm, type RopeTables, type TextGraphContext } from './text-ops.ts';
import type { WeightRecipe } from './weight-recipes.ts';

/**
 * From how many new tokens the decompressed form costs fewer operations: it spends
 * rank · H · (nope + v) per cached token rebuilding keys and values, and saves
 * H · ((rank + rope + rank) − (nope + rope + v)) per new token and cached token.
 * 171 for Kimi-VL-A3B, 32 for the tiny test checkpoint.
 */
export function decompressedFrom(t: KimiTextConfig): number {
  const rebuild = t.kvLoraRank * (t.qkNopeHeadDim + t.vHeadDim);
  const saved = 2 * t.kvLoraRank + t.qkRopeHeadDim - (t.qkNopeHeadDim + t.qkRopeHeadDim + t.vHeadDim);
  return Math.max(1, Math.ceil(rebuild / saved));
}

export interface MlaInputs {
  /** [H, S, nope], and the roped [H, S, rope], both unscaled. */
  readonly qNope: string;
  readonly qPe: string;
  /** The whole cache after this call, [T, rank + rope], in the activation type. */
  readonly cache: string;
  /** The call's causal attention plan (sizes and positions), shared by every layer. */
  readonly plan: AttentionPlan;
  /** bool [1]: take the decompressed form. */
  readonly decompressed: string;
  /** int64 [1]: the new tokens when the call takes the absorbed form, else 0. */
  readonly absorbedQueries: string;
}

export interface MlaWeights {
  /** kv_b_proj's key rows per head, [H, nope, rank]. */
  readonly kAbsorb: string;
  /** kv_b_proj's value rows per head, transposed: [H, rank, v]. */
  readonly vAbsorb: string;
  /**
   * int4 imports: the absorbed form's two products as a MatMulNBits per head (mla-int4.ts),
   * `apply(x, nodeName, join, on)`, over the same values as kAbsorb and vAbsorb.
   */
  readonly int4?: { readonly kAbsorb: PerHeadProduct; readonly vAbsorb: PerHeadProduct };
}

type PerHeadProduct = (x: string, nodeName: string, join: 'heads' | 'tokens', on: GraphBuilder) => string;

/** Returns the attention context token-major, [S, H · v], ready for o_proj. */
export function mlaAttention(g: GraphBuilder, t: KimiTextConfig, inputs: MlaInputs, weights: MlaWeights, act: DataTypeCode, name: string): string {
  const H = t.numAttentionHeads;
  const rank = t.kvLoraRank;
  const width = rank + t.qkRopeHeadDim;
  const i64 = (n: string, values: number[]) => g.constant(`${name}.${n}`, DataType.INT64, [values.length], values);
  const scale = g.constant(`${name}.softmax_scale`, act, [], [1 / Math.sqrt(t.qkNopeHeadDim + t.qkRopeHeadDim)]);
  const qNope = g.op('Mul', [inputs.qNope, scale], `${name}.q_nope_scaled`);
  const qPe = g.op('Mul', [inputs.qPe, scale], `${name}.q_pe_scaled`);
  const common = { plan: inputs.plan, dataType: act } as const;

  // With fp16 activations the decompressed form computes in fp32: its keys and values, rebuilt
  // from the latent and rounded to fp16, cost WebGPU (lavapipe) 4.3e-2 of the logits against
  // fp32's on the tiny checkpoint, where the absorbed form cost 8.6e-3 and the fp32 branch costs
  // 6.0e-3 (the CPU provider: 1.6e-3 to 1.7e-3 in all three). Its price: fp32 copies of W_uk and W_uv
  // (onnxruntime folds the Cast of a weight; 8 MB a layer for Kimi-VL-A3B) and fp32 rebuilt keys.
  const F32 = DataType.FLOAT;
  const wide = (b: GraphBuilder, x: string, n: string) => (act === F32 ? x : b.op('Cast', [x], n, [attr.int('to', F32)]));
  const kAbsorbF32 = wide(g, weights.kAbsorb, `${name}.k_absorb_f32`);
  const vAbsorbF32 = wide(g, weights.vAbsorb, `${name}.v_absorb_f32`);
  const decompressed = g.subgraph();
  {
    const d = `${name}.decompressed`;
    const local = (n: string, values: number[]) => decompressed.constant(`${d}.${n}`, DataType.INT64, [values.length], values);
    const columns = (from: number, to: number, n: string) => decompressed.op('Slice', [inputs.cache, local(`${n}_start`, [from]), local(`${n}_end`, [to]), local(`${n}_axis`, [1])], `${d}.${n}`);
    const latent = columns(0, rank, 'latent'); // [T, rank]
    const latentT = decompressed.op('Transpose', [latent], `${d}.latent_t`, [attr.ints('perm', [1, 0])]);
    const keyPeT = decompressed.op('Transpose', [columns(rank, width, 'k_pe')], `${d}.k_pe_t`, [attr.ints('perm', [1, 0])]);
    const keysT = decompressed.op('MatMul', [kAbsorbF32, wide(decompressed, latentT, `${d}.latent_t_f32`)], `${d}.k_nope_t`); // [H, nope, T]
    const values = decompressed.op('MatMul', [wide(decompressed, latent, `${d}.latent_f32`), vAbsorbF32], `${d}.values`); // [H, T, v]
    const context = attention(decompressed, { ...common, dataType: F32, scores: [{ query: wide(decompressed, qNope, `${d}.q_nope_f32`), keysT }, { query: wide(decompressed, qPe, `${d}.q_pe_f32`), keysT: wide(decompressed, keyPeT, `${d}.k_pe_t_f32`) }], values, valueWidth: t.vHeadDim, output: 'merged', name: `${d}.attention` });
    const back = act === F32 ? decompressed.op('Identity', [context], `${d}.context`) : decompressed.op('Cast', [context], `${d}.context`, [attr.int('to', act)]);
    decompressed.output(back, act, ['sequence', H * t.vHeadDim]);
  }

  const int4 = weights.int4;
  const absorbed = g.subgraph();
  const a = `${name}.absorbed`;
  /**
   * The absorbed form's attention, straight over the cache rows [T, rank + rope]: the query is
   * the latent query and the roped one side by side, so one product with the whole row gives
   * the scores, and the context over whole rows keeps its first `rank` columns. Slicing the
   * cache into its two parts and transposing them copied it twice a layer for every step; the
   * one Transpose left is folded into the product on the CPU (a FusedMatMul).
   */
  const attendLatent = (b: GraphBuilder, qLatent: string): string => {
    const query = b.op('Concat', [qLatent, qPe], `${a}.query`, [attr.int('axis', -1)]); // [H, S, rank + rope]
    const keysT = b.op('Transpose', [inputs.cache], `${a}.cache_t`, [attr.ints('perm', [1, 0])]);
    const rows = attention(b, { ...common, scores: [{ query, keysT }], values: inputs.cache, valueWidth: width, output: 'heads', name: `${a}.attention`, blocks: 'one' }); // [H, S, rank + rope]
    const local = (n: string, values: number[]) => b.constant(`${a}.${n}`, DataType.INT64, [values.length], values);
    return b.op('Slice', [rows, local('latent_start', [0]), local('latent_end', [rank]), local('latent_axis', [2])], `${a}.context_latent`); // [H, S, rank]
  };
  if (!int4) {
    const qLatent = absorbed.op('MatMul', [qNope, weights.kAbsorb], `${a}.q_latent`); // [H, S, rank]
    const contextLatent = attendLatent(absorbed, qLatent);
    const heads = absorbed.op('MatMul', [contextLatent, weights.vAbsorb], `${a}.context_heads`); // [H, S, v]
    const tokenMajor = absorbed.op('Transpose', [heads], `${a}.context_token_major`, [attr.ints('perm', [1, 0, 2])]);
    absorbed.output(absorbed.op('Reshape', [tokenMajor, absorbed.constant(`${a}.merge_heads`, DataType.INT64, [2], [0, H * t.vHeadDim])], `${a}.context`), act, ['sequence', H * t.vHeadDim]);
    return g.op('If', [inputs.decompressed], `${name}.context_merged`, [
      { name: 'then_branch', kind: 'graph', value: decompressed.toGraph(`${name}.decompressed`) },
      { name: 'else_branch', kind: 'graph', value: absorbed.toGraph(`${name}.absorbed`) },
    ]);
  }

  // int4: the absorbed form's 2 × H per-head MatMulNBits run outside the If, on the call's
  // queries when it takes the absorbed form and on none (a [H, 0, ·] slice) when it does not:
  // inside the branch they made a decode step 4–9% slower (docs/int4-on-the-cpu.md).
  // The If returns the decompressed context ([S, H · v], or none) and the attended latent
  // ([H, S, rank], or none); of the two contexts, one is empty, and their Concat is the other.
  const rows = (x: string, n: string) => g.op('Slice', [x, i64('rows_start', [0]), inputs.absorbedQueries, i64('query_axis', [1])], n);
  const qLatent = int4.kAbsorb(rows(qNope, `${a}.q_nope`), `${a}.q_latent`, 'heads', g); // [H, S or 0, rank]
  const contextLatent = attendLatent(absorbed, qLatent);
  absorbed.output(absorbed.constant(`${a}.no_decompressed`, act, [0, H * t.vHeadDim], []), act, [0, H * t.vHeadDim]);
  absorbed.output(contextLatent, act, [H, 'sequence', rank]);
  decompressed.output(decompressed.constant(`${name}.decompressed.no_latent`, act, [H, 0, rank], []), act, [H, 0, rank]);
  const [fromDecompressed, attended] = g.node('If', [inputs.decompressed], `${name}.context_forms`, {
    outputs: 2,
    attrs: [
      { name: 'then_branch', kind: 'graph', value: decompressed.toGraph(`${name}.decompressed`) },
      { name: 'else_branch', kind: 'graph', value: absorbed.toGraph(`${name}.absorbed`) },
    ],
  }) as [string, string];
  const fromAbsorbed = int4.vAbsorb(attended, `${a}.context`, 'tokens', g); // [S or 0, H · v]
  return g.op('Concat', [fromDecompressed, fromAbsorbed], `${name}.context_merged`, [attr.int('axis', 0)]);
}

/** What every layer's attention shares within one call. */
export interface MlaCall {
  /** bool [1]: this call takes the decompressed form. */
  readonly decompressed: string;
  /** int64 [1]: the new tokens when the call takes the absorbed form, else 0. */
  readonly absorbedQueries: string;
  readonly plan: AttentionPlan;
  /** The query positions' RoPE tables. */
  readonly rope: RopeTables;
  /** The cache's element type (fp16 under fp32 activations is cast on the way in and out). */
  readonly cacheType: DataTypeCode;
  /** int64 shapes: the query's [0, H, nope + rope]; its split [nope, rope]; a cache row's split [rank, rope]. */
  readonly qShape: string;
  readonly qSplit: string;
  readonly cacheSplit: string;
}

/**
 * The call's choice of MLA form and its attention plan, made once and shared by every layer:
 * `newLength` new tokens after `pastLength` cached, `totalLength` in all.
 */
export function mlaCall(c: TextGraphContext, lengths: { readonly pastLength: string; readonly newLength: string; readonly totalLength: string }, rope: RopeTables, cacheType: DataTypeCode): MlaCall {
  const { g, t, opts, i64 } = c;
  const H = t.numAttentionHeads;
  const nope = t.qkNopeHeadDim;
  const qShape = i64('attn.q_shape', [0, H, nope + t.qkRopeHeadDim]);
  const qSplit = i64('attn.q_split', [nope, t.qkRopeHeadDim]);
  const cacheSplit = i64('attn.cache_split', [t.kvLoraRank, t.qkRopeHeadDim]);
  const decompressed = g.op('GreaterOrEqual', [lengths.newLength, i64('attn.decompressed_from', [opts.decompressedFrom ?? decompressedFrom(t)])], 'attn.plan.decompressed');
  const absorbedQueries = g.op('Where', [decompressed, i64('attn.none', [0]), lengths.newLength], 'attn.plan.absorbed_queries');
  const plan = attentionPlan(g, { queries: lengths.newLength, keys: lengths.totalLength, heads: H, firstPosition: lengths.pastLength, name: 'attn.plan' });
  return { decompressed, absorbedQueries, plan, rope, cacheType, qShape, qSplit, cacheSplit };
}

/** One layer's attention output before the residual, and the cache values it writes. */
export interface MlaBlockOutput {
  /** o_proj's output, [S, hidden]. */
  readonly output: string;
  /** The whole cache after this call, under the `present` name given. */
  readonly present: string;
  /** Only the rows this call added, under the `latent` name given. */
  readonly latent: string;
}

/**
 * Layer `layer`'s attention on the normalised hidden state `h`: the query and the compressed
 * key-value projections, the new cache rows (the normalised latent and the roped shared key)
 * appended to `past`, MLA attention over the whole cache (`mlaAttention`), and o_proj.
 */
export function mlaBlock(c: TextGraphContext, call: MlaCall, h: string, layer: number, cache: { readonly past: string; readonly present: string; readonly latent: string }): MlaBlockOutput {
  const { g, t, act, axis0, weight, proj, copy, copyProj } = c;
  const F32 = DataType.FLOAT;
  const H = t.numAttentionHeads;
  const D = t.hiddenSize;
  const nope = t.qkNopeHeadDim;
  const rope = t.qkRopeHeadDim;
  const rank = t.kvLoraRank;
  const qHead = nope + rope;
  const width = rank + rope;
  const castIfNeeded = (x: string, from: DataTypeCode, to: DataTypeCode, name: string) => (from === to ? x : g.op('Cast', [x], name, [attr.int('to', to)]));
  const a = `layers.${layer}.attn`;
  const hf = `${LM}.layers.${layer}`;
  const wq = proj(`${a}.q_proj`, [H * qHead, D], { kind: 'rope-rows', tensor: `${hf}.self_attn.q_proj.weight`, blockRows: qHead, ropeOffset: nope, ropeDim: rope });
  const wkva = proj(`${a}.kv_a_proj_with_mqa`, [width, D], { kind: 'rope-rows', tensor: `${hf}.self_attn.kv_a_proj_with_mqa.weight`, blockRows: width, ropeOffset: rank, ropeDim: rope });
  const lnKv = copy(`${a}.kv_a_layernorm`, [rank], `${hf}.self_attn.kv_a_layernorm.weight`, F32);
  const kvb = `${hf}.self_attn.kv_b_proj.weight`;
  const kRecipe: WeightRecipe = { kind: 'absorb-k', tensor: kvb, heads: H, nope, v: t.vHeadDim, rank };
  const vRecipe: WeightRecipe = { kind: 'absorb-v', tensor: kvb, heads: H, nope, v: t.vHeadDim, rank };
  // int4: also a MatMulNBits per head for the absorbed form (mla-int4.ts), which takes the v rows as stored.
  const absorb: MlaWeights = c.int4
    ? int4AbsorbWeights(g, a, t, c.opts.produce(kRecipe), c.opts.produce({ ...vRecipe, kind: 'absorb-v-rows' }))
    : { kAbsorb: weight(`${a}.k_absorb`, [H, nope, rank], kRecipe), vAbsorb: weight(`${a}.v_absorb`, [H, rank, t.vHeadDim], vRecipe) };
  const wo = copyProj(`${a}.o_proj`, [D, H * t.vHeadDim], `${hf}.self_attn.o_proj.weight`);

  const q = g.op('Transpose', [g.op('Reshape', [wq(h, `${a}.q_proj`), call.qShape], `${a}.q_heads`)], `${a}.q_head_major`, [attr.ints('perm', [1, 0, 2])]);
  const [qNope, qPe] = g.node('Split', [q, call.qSplit], `${a}.q_split`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];

  const [latent, kPe] = g.node('Split', [wkva(h, `${a}.kv_a_proj`), call.cacheSplit], `${a}.kv_split`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
  const entry = g.op('Concat', [rmsNorm(c, latent, lnKv, KV_A_LAYERNORM_EPS, `${a}.kv_a_layernorm`), applyRope(c, call.rope, kPe, `${a}.k_rope`)], `${a}.cache_entry`, [attr.int('axis', -1)]);
  const added = castIfNeeded(g.op('Unsqueeze', [entry, axis0], `${a}.cache_entry_batched`), act, call.cacheType, `${a}.cache_entry_stored`);
  const present = g.op('Concat', [cache.past, added], cache.present, [attr.int('axis', 1)]);
  const latentRows = g.op('Identity', [added], cache.latent);
  const whole = castIfNeeded(g.op('Squeeze', [present, axis0], `${a}.cache_stored`), call.cacheType, act, `${a}.cache`);
  const qRoped = applyRope(c, call.rope, qPe, `${a}.q_rope`);
  const merged = mlaAttention(g, t, { qNope, qPe: qRoped, cache: whole, plan: call.plan, decompressed: call.decompressed, absorbedQueries: call.absorbedQueries }, absorb, act, a);
  return { output: wo(merged, `${a}.o_proj`), present, latent: latentRows };
}
