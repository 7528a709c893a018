/**
 * MoonViT + projector as an ONNX graph (docs/kimi-vl.md#vision-tower-moonvit), run once per image so each
 * image attends only within itself. The grid-dependent tables (bicubic resize matrices for the
 * position table, 2-D RoPE cos/sin) are computed here in TypeScript and fed as inputs: they are
 * tiny and exact. Attention is the blocked attention operation shared with the language model
 * (onnx/attention.ts): a 4K screenshot's ~16k patches would otherwise hold 16 heads × 16k² scores
 * (17 GB) per block. It replaced com.microsoft.MultiHeadAttention, which is memory-efficient on
 * the CPU only without a mask and differs from the CPU by up to 1e-1 on WebGPU (lavapipe).
 *
 * fp16 weights (fp16 and int4 imports): the linear layers' weights, biases and the position
 * table are stored in fp16 and only their products run in fp16 — the activation is cast to
 * fp16 going in and the result back to fp32 coming out. The weights themselves are never cast:
 * onnxruntime constant-folds a Cast of an initializer into a new fp32 initializer, which would
 * put the fp32 bytes back in memory (on a GPU, in device memory). Norms, RoPE, attention, GELU
 * and the residual stream stay fp32, as do the graph's inputs and output.
 */
import { attention, attentionPlan } from '../../../onnx/attention.ts';
import { GraphBuilder, attr } from '../../../onnx/graph-builder.ts';
import type { FeedValue, ModelSession } from '../../../onnx/backend.ts';
import { DataType, type DataTypeCode } from '../../../onnx/onnx-proto.ts';
import { concatFloat32 } from '../../../numeric/float32.ts';
import type { KimiVisionConfig } from '../configuration.ts';
import { bicubicMatrix, ropeFrequencies, type Grid } from './vision-positions.ts';

/** Streams a Hugging Face tensor's values (fp32, row-major) when the model is written. */
export type TensorSource = (hfName: string) => AsyncIterable<Float32Array>;

export const VISION_INPUTS = {
  pixels: 'pixel_values',
  posRows: 'pos_emb_rows',
  posColsT: 'pos_emb_cols_t',
  ropeCos: 'rope_cos',
  ropeSin: 'rope_sin',
} as const;
export const VISION_OUTPUT = 'image_features';

const EPS = 1e-5;
const F = DataType.FLOAT;
const F16 = DataType.FLOAT16;

/** The element type of the vision tower's matrices; norms stay fp32 either way. */
export type VisionWeights = 'fp32' | 'fp16';

/** fp16 and int4 imports keep the vision matrices in fp16 (half of fp32's 1.8 GB for the 16B model). */
export function visionWeightsFor(precision: 'fp32' | 'fp16' | 'int4'): VisionWeights {
  return precision === 'fp32' ? 'fp32' : 'fp16';
}

/** A Linear layer of the vision graph: its checkpoint prefix, its output width, its node's name. */
interface VisionLinear {
  readonly hf: string;
  readonly out: number;
  readonly name: string;
}

/** Builds the graph for one image: [gh·gw, 3, p, p] pixel values → [gh·gw/4, text hidden] features. */
export function buildVisionGraph(cfg: KimiVisionConfig, textHidden: number, source: TensorSource, weights: VisionWeights = 'fp32'): GraphBuilder {
  const g = new GraphBuilder();
  const d = cfg.hiddenSize;
  const heads = cfg.numAttentionHeads;
  const headDim = d / heads;
  const patchLen = 3 * cfg.patchSize * cfg.patchSize;
  const [mh, mw] = cfg.mergeKernelSize;
  const wide = d * mh * mw;
  const mat: DataTypeCode = weights === 'fp16' ? F16 : F;
  const weight = (hfName: string, dims: readonly number[], dataType: DataTypeCode = F): string => g.weight({ name: hfName, dims, dataType, produce: () => source(hfName) });
  /** A linear layer's weight or bias, or the position table: in the import's matrix type. */
  const matrix = (hfName: string, dims: readonly number[]): string => weight(hfName, dims, mat);
  const shape = (name: string, dims: readonly number[]): string => g.constant(name, DataType.INT64, [dims.length], dims);
  const toMat = (x: string, name: string): string => (mat === F ? x : g.op('Cast', [x], `${name}.to_f16`, [attr.int('to', F16)]));
  /** `op` on the matrix type's inputs; under fp16 weights the fp16 result is cast back to fp32 as `name`. */
  const onMatrices = (opType: string, inputs: readonly string[], name: string, a: Parameters<typeof g.op>[3] = []): string => {
    if (mat === F) return g.op(opType, inputs, name, a);
    const half = g.op(opType, [toMat(inputs[0]!, name), ...inputs.slice(1)], `${name}.f16`, a);
    return g.op('Cast', [half], name, [attr.int('to', F)]);
  };
  const gemm = (x: string, w: string, b: string, name: string): string => onMatrices('Gemm', [x, w, b], name, [attr.int('transB', 1)]);
  const layerNorm = (x: string, prefix: string, name: string): string =>
    g.op('LayerNormalization', [x, weight(`${prefix}.weight`, [d]), weight(`${prefix}.bias`, [d])], name, [attr.int('axis', -1), attr.float('epsilon', EPS)]);
  /** A Linear layer with its bias, `<hf>.weight` [out, in] and `<hf>.bias`, applied as `name`. */
  const linear = (x: string, inWidth: number, l: VisionLinear): string => gemm(x, matrix(`${l.hf}.weight`, [l.out, inWidth]), matrix(`${l.hf}.bias`, [l.out]), l.name);
  /** Linear → GELU → linear: each block's MLP (GELU's tanh form) and the projector (the exact one). */
  const geluMlp = (x: string, inWidth: number, up: VisionLinear, gelu: { readonly name: string; readonly tanh: boolean }, down: VisionLinear): string => {
    const activated = g.op('Gelu', [linear(x, inWidth, up)], gelu.name, gelu.tanh ? [attr.string('approximate', 'tanh')] : []);
    return linear(activated, up.out, down);
  };

  // Inputs: the patches and the per-grid tables from visionInputs().
  const pixels = g.input(VISION_INPUTS.pixels, F, ['patches', 3, cfg.patchSize, cfg.patchSize]);
  const posRows = g.input(VISION_INPUTS.posRows, F, ['grid_h', cfg.initPosEmbHeight]);
  const posColsT = g.input(VISION_INPUTS.posColsT, F, [cfg.initPosEmbWidth, 'grid_w']);
  const ropeCos = g.input(VISION_INPUTS.ropeCos, F, ['patches', headDim / 2]);
  const ropeSin = g.input(VISION_INPUTS.ropeSin, F, ['patches', headDim / 2]);

  // Weights used outside the block loop.
  const patchW = matrix('vision_tower.patch_embed.proj.weight', [d, patchLen]);
  const patchB = matrix('vision_tower.patch_embed.proj.bias', [d]);
  const posTable = matrix('vision_tower.patch_embed.pos_emb.weight', [cfg.initPosEmbHeight, cfg.initPosEmbWidth * d]);

  // Patch embedding (the 14×14 stride-14 conv is a Linear over each flattened patch).
  const flat = g.op('Reshape', [pixels, shape('shape.patches', [-1, patchLen])], 'patch_embed.flatten');
  const embedded = gemm(flat, patchW, patchB, 'patch_embed.proj');

  // Position table resized to the grid: rows then columns, R_y · P · R_xᵀ.
  const rows = onMatrices('MatMul', [posRows, posTable], 'pos_emb.rows'); // [gh, W0·D]
  const rows3 = g.op('Reshape', [rows, shape('shape.pos_rows', [0, cfg.initPosEmbWidth, d])], 'pos_emb.rows_3d');
  const colsFirst = g.op('Transpose', [rows3], 'pos_emb.channels_last_to_mid', [attr.ints('perm', [0, 2, 1])]); // [gh, D, W0]
  const cols = g.op('MatMul', [colsFirst, posColsT], 'pos_emb.cols'); // [gh, D, gw]
  const grid = g.op('Transpose', [cols], 'pos_emb.grid', [attr.ints('perm', [0, 2, 1])]); // [gh, gw, D]
  const tokensShape = shape('shape.tokens', [-1, d]);
  const posEmb = g.op('Reshape', [grid, tokensShape], 'pos_emb.tokens');
  let x = g.op('Add', [embedded, posEmb], 'pos_emb.add');

  // RoPE tables broadcast over heads: [N, 1, headDim/2, 1].
  const ropeShape = shape('shape.rope_table', [0, 1, headDim / 2, 1]);
  const cos = g.op('Reshape', [ropeCos, ropeShape], 'rope.cos');
  const sin = g.op('Reshape', [ropeSin, ropeShape], 'rope.sin');
  const pairsShape = shape('shape.rope_pairs', [0, heads, headDim / 2, 2]);
  const headsShape = shape('shape.heads', [0, heads, headDim]);
  const scale = g.constant('attn.softmax_scale', F, [], [1 / Math.sqrt(headDim)]);
  // Every block attends over the same patches: one plan (block sizes) for all.
  const patches = g.op('Shape', [pixels], 'attn.plan.patches', [attr.int('end', 1)]);
  const plan = attentionPlan(g, { queries: patches, keys: patches, heads, name: 'attn.plan' });
  const splitHalves = g.constant('split.pair', DataType.INT64, [2], [1, 1]);
  const splitQkv = g.constant('split.qkv', DataType.INT64, [3], [d, d, d]);

  /** Complex pairs (dims 2j, 2j+1) turned by the table angles: column for even j, row for odd j. */
  const rope = (v: string, name: string): string => {
    const pairs = g.op('Reshape', [v, pairsShape], `${name}.pairs`);
    const [re, im] = g.node('Split', [pairs, splitHalves], `${name}.split`, { outputs: 2, attrs: [attr.int('axis', -1)] }) as [string, string];
    const reOut = g.op('Sub', [g.op('Mul', [re, cos], `${name}.re_cos`), g.op('Mul', [im, sin], `${name}.im_sin`)], `${name}.re`);
    const imOut = g.op('Add', [g.op('Mul', [re, sin], `${name}.re_sin`), g.op('Mul', [im, cos], `${name}.im_cos`)], `${name}.im`);
    const joined = g.op('Concat', [reOut, imOut], `${name}.join`, [attr.int('axis', -1)]);
    return g.op('Reshape', [joined, headsShape], `${name}.heads`); // [N, heads, headDim]
  };

  for (let n = 0; n < cfg.numHiddenLayers; n++) {
    const p = `vision_tower.encoder.blocks.${n}`;
    const l = `blocks.${n}`;
    const qkv = linear(layerNorm(x, `${p}.norm0`, `${l}.norm0`), d, { hf: `${p}.wqkv`, out: 3 * d, name: `${l}.attn.qkv` });
    const [q, k, v] = g.node('Split', [qkv, splitQkv], `${l}.attn.split`, { outputs: 3, attrs: [attr.int('axis', 1)] }) as [string, string, string];
    const headMajor = (value: string, perm: number[], name: string) => g.op('Transpose', [value], name, [attr.ints('perm', perm)]);
    const query = g.op('Mul', [headMajor(rope(q, `${l}.attn.q_rope`), [1, 0, 2], `${l}.attn.q_heads`), scale], `${l}.attn.q_scaled`); // [heads, N, headDim]
    const keysT = headMajor(rope(k, `${l}.attn.k_rope`), [1, 2, 0], `${l}.attn.k_t`); // [heads, headDim, N]
    const values = headMajor(g.op('Reshape', [v, headsShape], `${l}.attn.v_split`), [1, 0, 2], `${l}.attn.v_heads`); // [heads, N, headDim]
    // Non-causal, no mask: the graph sees one image, so attention stays within it.
    const merged = attention(g, { plan, scores: [{ query, keysT }], values, valueWidth: headDim, dataType: F, output: 'merged', name: `${l}.attn` }); // [N, D]
    x = g.op('Add', [x, linear(merged, d, { hf: `${p}.wo`, out: d, name: `${l}.attn.out` })], `${l}.attn.residual`);

    const mlp = geluMlp(layerNorm(x, `${p}.norm1`, `${l}.norm1`), d, { hf: `${p}.mlp.fc0`, out: cfg.intermediateSize, name: `${l}.mlp.fc0` }, { name: `${l}.mlp.gelu_tanh`, tanh: true }, { hf: `${p}.mlp.fc1`, out: d, name: `${l}.mlp.fc1` });
    x = g.op('Add', [x, mlp], `${l}.mlp.residual`);
  }
  x = layerNorm(x, 'vision_tower.encoder.final_layernorm', 'final_layernorm');

  // 2×2 merge: [gh·gw, D] → [gh/2, 2, gw/2, 2, D] → [gh/2, gw/2, 2, 2, D] → [M, 4, D].
  const gh = g.op('Shape', [posRows], 'merge.grid_h', [attr.int('end', 1)]);
  const halfGh = g.op('Div', [gh, g.constant('merge.kernel_h', DataType.INT64, [1], [mh])], 'merge.rows');
  const windows = g.op('Concat', [halfGh, g.constant('merge.rest', DataType.INT64, [4], [mh, -1, mw, d])], 'merge.window_shape', [attr.int('axis', 0)]);
  const split = g.op('Reshape', [x, windows], 'merge.windows');
  const ordered = g.op('Transpose', [split], 'merge.order', [attr.ints('perm', [0, 2, 1, 3, 4])]);
  const parts = g.op('Reshape', [ordered, shape('shape.merge_parts', [-1, mh * mw, d])], 'merge.parts');

  // Projector: LayerNorm on each D-wide part, then linear_1 → exact GELU → linear_2.
  const normed = layerNorm(parts, 'multi_modal_projector.pre_norm', 'projector.pre_norm');
  const flatParts = g.op('Reshape', [normed, shape('shape.merged', [-1, wide])], 'projector.flatten');
  const features = geluMlp(flatParts, wide, { hf: 'multi_modal_projector.linear_1', out: wide, name: 'projector.linear_1' }, { name: 'projector.gelu', tanh: false }, { hf: 'multi_modal_projector.linear_2', out: textHidden, name: VISION_OUTPUT });
  g.output(features, F, ['merged_tokens', textHidden]);
  return g;
}

/** The grid-dependent inputs for one image (everything but the pixels). */
export function visionTables(cfg: KimiVisionConfig, grid: Grid): Record<string, FeedValue> {
  const [gh, gw] = grid;
  const headDim = cfg.hiddenSize / cfg.numAttentionHeads;
  const freqs = ropeFrequencies(headDim);
  const half = headDim / 2;
  const cos = new Float32Array(gh * gw * half);
  const sin = new Float32Array(gh * gw * half);
  for (let t = 0; t < gh * gw; t++) {
    const col = t % gw;
    const row = Math.floor(t / gw);
    for (let j = 0; j < half; j++) {
      const angle = (j % 2 === 0 ? col : row) * freqs[j >> 1]!;
      cos[t * half + j] = Math.cos(angle);
      sin[t * half + j] = Math.sin(angle);
    }
  }
  const rows = Float32Array.from(bicubicMatrix(cfg.initPosEmbHeight, gh));
  const cols = bicubicMatrix(cfg.initPosEmbWidth, gw);
  const colsT = new Float32Array(cfg.initPosEmbWidth * gw);
  for (let x = 0; x < gw; x++) for (let j = 0; j < cfg.initPosEmbWidth; j++) colsT[j * gw + x] = cols[x * cfg.initPosEmbWidth + j]!;
  return {
    [VISION_INPUTS.posRows]: { type: 'float32', data: rows, dims: [gh, cfg.initPosEmbHeight] },
    [VISION_INPUTS.posColsT]: { type: 'float32', data: colsT, dims: [cfg.initPosEmbWidth, gw] },
    [VISION_INPUTS.ropeCos]: { type: 'float32', data: cos, dims: [gh * gw, half] },
    [VISION_INPUTS.ropeSin]: { type: 'float32', data: sin, dims: [gh * gw, half] },
  };
}

/**
 * Runs the vision graph image by image over processed images (image-processing.ts output) and
 * returns all features in order, [Σ gh·gw/4, text hidden], ready for the `<|media_pad|>` slots.
 */
export async function encodeImages(
  session: ModelSession,
  cfg: KimiVisionConfig,
  images: { readonly pixelValues: Float32Array; readonly gridHws: readonly Grid[] },
): Promise<Float32Array> {
  const p = cfg.patchSize;
  const patchLen = 3 * p * p;
  const pieces: Float32Array[] = [];
  let first = 0;
  for (const grid of images.gridHws) {
    const tokens = grid[0] * grid[1];
    const pixels = images.pixelValues.subarray(first * patchLen, (first + tokens) * patchLen);
    first += tokens;
    const out = await session.run({ [VISION_INPUTS.pixels]: { type: 'float32', data: pixels, dims: [tokens, 3, p, p] }, ...visionTables(cfg, grid) }, [VISION_OUTPUT]);
    pieces.push(out[VISION_OUTPUT]!.data as Float32Array);
  }
  return concatFloat32(pieces);
}
