/**
 * The Kimi-VL language model (DeepSeek-V3 architecture) as an ONNX graph, built node by node
 * from the config — no tracing. `buildTextGraph` reads top to bottom as the model does: inputs,
 * positions and RoPE tables, the embeddings, one loop over decoder layers (RMSNorm, MLA attention
 * over a latent KV cache, RMSNorm, dense MLP or MoE block, each with its residual), final norm
 * and lm_head on the last position. Each step is a shared operation: RMSNorm, RoPE and the SwiGLU
 * MLP in text-ops.ts, MLA attention in mla-attention.ts, the MoE block in moe-block.ts.
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
import { type GraphBuilder, INT64_MAX, attr } from '../../../onnx/graph-builder.ts';
import { int4Embedding } from '../../../quantization/int4-embedding.ts';
import type { Int4AccuracyLevel } from '../../../quantization/matmul-nbits.ts';
import { DataType, type DataTypeCode } from '../../../onnx/onnx-proto.ts';
import { isMoeLayer, type KimiTextConfig } from '../configuration.ts';
import { mlaBlock, mlaCall } from './mla-attention.ts';
import { expertsNode, moeBlock } from './moe-block.ts';
import { LM } from './tensor-names.ts';
import { denseMlp, rmsNorm, textGraphContext, type RopeTables, type TextGraphContext } from './text-ops.ts';
import type { WeightRecipe } from './weight-recipes.ts';

const F32 = DataType.FLOAT;
const I64 = DataType.INT64;

/**
 * int4: dense projections as com.microsoft.MatMulNBits and routed experts as com.microsoft.QMoE
 * (block-wise 4-bit, block 64 where the input width allows, else 32; QMoE computes in fp16), the
 * embedding as com.microsoft.GatherBlockQuantized (same blocks), kv_b's absorbed halves as a
 * MatMulNBits per head (mla-int4.ts), everything else (activations, cache, norms, router) in fp32.
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
  /**
   * The greedy next token, [1, 1] int64: the first index of the largest logit, as
   * generation/sampling.ts's argmax. A greedy caller fetches it instead of the 655 KB of logits.
   * Folders imported before it existed lack it.
   */
  nextToken: 'next_token',
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

/** Values per token and layer in the latent KV cache. */
export function cacheWidth(t: KimiTextConfig): number {
  return t.kvLoraRank + t.qkRopeHeadDim;
}

/**
 * The whole text graph: embed → per layer (RMSNorm → MLA attention → residual → RMSNorm → dense
 * MLP or MoE block → residual) → final norm → lm_head, each step one shared operation
 * (text-ops.ts, mla-attention.ts, moe-block.ts).
 */
export function buildTextGraph(t: KimiTextConfig, opts: TextGraphOptions): GraphBuilder {
  const c = textGraphContext(t, opts);
  const { g } = c;
  const D = t.hiddenSize;
  const width = cacheWidth(t);
  const cacheType: DataTypeCode = (opts.cacheType ?? defaultCacheType(opts.precision)) === 'fp16' ? DataType.FLOAT16 : DataType.FLOAT;

  const ids = g.input(TEXT_IO.inputIds, I64, [1, 'sequence']);
  const pasts = Array.from({ length: t.numHiddenLayers }, (_, i) => g.input(TEXT_IO.past(i), cacheType, [1, 'past_sequence', width]));
  const positions = callPositions(c, ids, pasts[0]!);
  let x = embed(c, ids);
  const call = mlaCall(c, positions, positions.rope, cacheType);
  const presents: string[] = [];
  const latents: string[] = [];

  for (let i = 0; i < t.numHiddenLayers; i++) {
    const p = `layers.${i}`;
    const hf = `${LM}.layers.${i}`;
    // Both norms' weights are declared first: the order of the weights is the data file's layout.
    const inputNorm = c.copy(`${p}.input_layernorm`, [D], `${hf}.input_layernorm.weight`, F32);
    const postNorm = c.copy(`${p}.post_attention_layernorm`, [D], `${hf}.post_attention_layernorm.weight`, F32);

    const h = rmsNorm(c, x, inputNorm, t.rmsNormEps, `${p}.input_layernorm`);
    const attention = mlaBlock(c, call, h, i, { past: pasts[i]!, present: TEXT_IO.present(i), latent: TEXT_IO.latent(i) });
    presents.push(attention.present);
    latents.push(attention.latent);
    x = g.op('Add', [x, attention.output], `${p}.attn_residual`);

    const h2 = rmsNorm(c, x, postNorm, t.rmsNormEps, `${p}.post_attention_layernorm`);
    const ffn = isMoeLayer(t, i) ? moeBlock(c, h2, i) : denseMlp(c, h2, t.intermediateSize, `${hf}.mlp`, `${p}.mlp`);
    x = g.op('Add', [x, ffn], `${p}.output`);
  }

  const logits = lmHead(c, x);
  g.output(logits, F32, [1, t.vocabSize]);
  // `logits` then `present.*` stay the first outputs: WebGPU's fetch relies on their order
  // (runtime/text-session.ts, `greedyInGraph`).
  for (const present of presents) g.output(present, cacheType, [1, 'total_sequence', width]);
  for (const latent of latents) g.output(latent, cacheType, [1, 'sequence', width]);
  g.output(greedyToken(c, logits), I64, [1, 1]);
  for (const name of opts.debugOutputs ?? []) g.output(name, c.act);
  return g;
}

/** This call's positions (after the cached ones) and their RoPE tables, shared by every layer. */
function callPositions(c: TextGraphContext, ids: string, firstPast: string) {
  const { g, t, axis0, i64, toAct } = c;
  const rope = t.qkRopeHeadDim;
  const pastLength = g.op('Shape', [firstPast], 'positions.past_length', [attr.int('start', 1), attr.int('end', 2)]);
  const newLength = g.op('Shape', [ids], 'positions.new_length', [attr.int('start', 1), attr.int('end', 2)]);
  const totalLength = g.op('Add', [pastLength, newLength], 'positions.total_length');
  const one = g.constant('const.one_i64', I64, [], [1]);
  const start = g.op('Squeeze', [pastLength, axis0], 'positions.start');
  const end = g.op('Squeeze', [totalLength, axis0], 'positions.end');
  const positions = g.op('Range', [start, end, one], 'positions.query');
  const axis1 = i64('axes.1', [1]);
  const queryColumn = g.op('Unsqueeze', [positions, axis1], 'positions.query_column');
  const invFreq = Float32Array.from({ length: rope / 2 }, (_, j) => 1 / t.ropeTheta ** ((2 * j) / rope));
  const freqs = g.op('Mul', [g.op('Cast', [queryColumn], 'rope.positions_f32', [attr.int('to', F32)]), g.constant('rope.inv_freq', F32, [1, rope / 2], invFreq)], 'rope.freqs');
  const angles = g.op('Concat', [freqs, freqs], 'rope.angles', [attr.int('axis', -1)]);
  const cos = toAct(g.op('Cos', [angles], 'rope.cos_f32'), 'rope.cos');
  const sin = toAct(g.op('Sin', [angles], 'rope.sin_f32'), 'rope.sin');
  const tables: RopeTables = { cos, sin, halves: i64('rope.split', [rope / 2, rope / 2]) };
  return { pastLength, newLength, totalLength, rope: tables };
}

/**
 * The token embeddings, with image features written over the `<|media_pad|>` rows
 * (docs/kimi-vl.md#image-features-in-the-prompt); text-only calls feed none. int4 stores the
 * table in the MatMulNBits block layout (asymmetric) and dequantises only the rows it gathers,
 * into fp32.
 */
function embed(c: TextGraphContext, ids: string): string {
  const { g, t, axis0, i64, toAct } = c;
  const D = t.hiddenSize;
  const flatIds = g.op('Squeeze', [ids, axis0], 'input_ids.flat');
  const embedRecipe: WeightRecipe = { kind: 'copy', tensor: `${LM}.embed_tokens.weight` };
  const tokens = c.int4
    ? int4Embedding(g, 'embed_tokens', t.vocabSize, D, c.opts.produce(embedRecipe))(flatIds, 'embed')
    : g.op('Gather', [c.weight('embed_tokens', [t.vocabSize, D], embedRecipe), flatIds], 'embed', [attr.int('axis', 0)]);
  const imageFeatures = toAct(g.input(TEXT_IO.imageFeatures, F32, ['image_tokens', D]), 'image.features');
  const imageRows = g.op('Unsqueeze', [g.input(TEXT_IO.imagePositions, I64, ['image_tokens']), i64('axes.image', [1])], 'image.positions');
  return g.op('ScatterND', [tokens, imageRows, imageFeatures], 'embed.with_images');
}

/** The final norm and lm_head on the last position only, as fp32 logits. */
function lmHead(c: TextGraphContext, x: string): string {
  const { g, t, axis0, i64 } = c;
  const last = g.op('Slice', [x, i64('head.last_start', [-1]), g.constant('head.last_end', I64, [1], [INT64_MAX]), axis0], 'head.last_hidden');
  const normed = rmsNorm(c, last, c.copy('norm', [t.hiddenSize], `${LM}.norm.weight`, F32), t.rmsNormEps, 'norm');
  const logits = c.toF32(c.copyProj('lm_head', [t.vocabSize, t.hiddenSize], 'language_model.lm_head.weight')(normed, 'lm_head'), 'lm_head_f32');
  return g.op('Identity', [logits], TEXT_IO.logits);
}

/**
 * The likeliest next token. TopK with k = 1 rather than ArgMax: ONNX defines its ties to go to
 * the lower index (ArgMax's too, by default), and every provider's kernel tables already hold it
 * at this signature (the MoE router uses it), so no provider gains a node it lacks.
 */
function greedyToken(c: TextGraphContext, logits: string): string {
  const { g, i64 } = c;
  const [, index] = g.node('TopK', [logits, i64('head.greedy_k', [1])], 'head.greedy', { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
  return g.op('Identity', [index], TEXT_IO.nextToken);
}
