/**
 * MoonViT + projector forward pass in plain loops (float64 accumulation), written straight from
 * docs/kimi-vl.md#vision-tower-moonvit and #projector. Tests compare the ONNX vision graph against it; it is far too slow
 * for real checkpoints and is not used at run time.
 */
import { concatFloat32 } from '../../../numeric/float32.ts';
import type { KimiVisionConfig } from '../configuration.ts';

/** The vision_config fields the forward pass needs. */
export type MoonViTShape = KimiVisionConfig;

/** Looks a checkpoint tensor up by its Hugging Face name, as float32 row-major values. */
export type WeightLookup = (name: string) => Float32Array;

export type Grid = readonly [number, number];

const LAYER_NORM_EPS = 1e-5;
const ROPE_THETA = 10000;
const BICUBIC_A = -0.75;

/** y[r, o] = b[o] + Σ_i x[r, i]·W[o, i] (PyTorch Linear, W is [out, in]). */
export function linear(x: Float32Array, rows: number, w: Float32Array, b: Float32Array | undefined, inDim: number, outDim: number): Float32Array {
  const y = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = b ? b[o]! : 0;
      for (let i = 0; i < inDim; i++) acc += x[r * inDim + i]! * w[o * inDim + i]!;
      y[r * outDim + o] = acc;
    }
  }
  return y;
}

/** LayerNorm over the last `dim` values of each row (population variance, eps 1e-5). */
export function layerNorm(x: Float32Array, dim: number, weight: Float32Array, bias: Float32Array): Float32Array {
  const y = new Float32Array(x.length);
  for (let r = 0; r < x.length / dim; r++) {
    let mean = 0;
    for (let i = 0; i < dim; i++) mean += x[r * dim + i]!;
    mean /= dim;
    let variance = 0;
    for (let i = 0; i < dim; i++) variance += (x[r * dim + i]! - mean) ** 2;
    const inv = 1 / Math.sqrt(variance / dim + LAYER_NORM_EPS);
    for (let i = 0; i < dim; i++) y[r * dim + i] = (x[r * dim + i]! - mean) * inv * weight[i]! + bias[i]!;
  }
  return y;
}

/** GELU, tanh approximation (MoonViT's MLP). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** erf to ~1e-15 (Maclaurin series for small |x|, continued fraction for erfc beyond). */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-ax * ax) / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc(x) = exp(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + …)))), evaluated bottom-up.
  let fraction = 0;
  for (let k = 60; k >= 1; k--) fraction = k / 2 / (ax + fraction);
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + fraction);
  return Math.sign(x) * (1 - erfc);
}

/** GELU, exact erf form (the projector's). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/** PyTorch bicubic weights for fractional offset t (taps at i0−1 … i0+2), A = −0.75. */
function cubicWeights(t: number): [number, number, number, number] {
  const a = BICUBIC_A;
  const near = (x: number) => ((a + 2) * x - (a + 3)) * x * x + 1;
  const far = (x: number) => ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return [far(t + 1), near(t), near(1 - t), far(2 - t)];
}

/**
 * The [outSize, inSize] matrix of F.interpolate(mode="bicubic", align_corners=False) along one
 * axis: source s = (d + 0.5)·in/out − 0.5, taps clamped to the edge, no antialiasing.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float64Array {
  const m = new Float64Array(outSize * inSize);
  const scale = inSize / outSize;
  for (let d = 0; d < outSize; d++) {
    const s = (d + 0.5) * scale - 0.5;
    const i0 = Math.floor(s);
    const weights = cubicWeights(s - i0);
    for (let k = 0; k < 4; k++) {
      const i = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
      m[d * inSize + i] += weights[k]!;
    }
  }
  return m;
}

/** The [H0, W0, D] position table resized to the image's grid, as [gh·gw, D] row-major. */
export function interpolatePosEmb(table: Float32Array, h0: number, w0: number, dim: number, grid: Grid): Float32Array {
  const [gh, gw] = grid;
  const ry = bicubicMatrix(h0, gh);
  const rx = bicubicMatrix(w0, gw);
  const out = new Float32Array(gh * gw * dim);
  for (let y = 0; y < gh; y++)
    for (let x = 0; x < gw; x++)
      for (let d = 0; d < dim; d++) {
        let acc = 0;
        for (let i = 0; i < h0; i++) {
          const wy = ry[y * h0 + i]!;
          if (wy === 0) continue;
          for (let j = 0; j < w0; j++) acc += wy * rx[x * w0 + j]! * table[(i * w0 + j) * dim + d]!;
        }
        out[(y * gw + x) * dim + d] = acc;
      }
  return out;
}

/** f_i = θ^(−4i/headDim), i < headDim/4: one frequency per group of four dims. */
export function ropeFrequencies(headDim: number): Float64Array {
  return Float64Array.from({ length: headDim / 4 }, (_, i) => ROPE_THETA ** ((-4 * i) / headDim));
}

/**
 * Rotates one head vector in place for the patch at column x, row y: dims (4i, 4i+1) as a
 * complex number turned by x·f_i, dims (4i+2, 4i+3) by y·f_i (column first, as in the code).
 */
export function applyRope2d(v: Float32Array, offset: number, headDim: number, x: number, y: number, freqs: Float64Array): void {
  for (let i = 0; i < headDim / 4; i++) {
    for (const [pair, pos] of [
      [0, x],
      [1, y],
    ] as const) {
      const k = offset + 4 * i + 2 * pair;
      const angle = pos * freqs[i]!;
      const re = v[k]!;
      const im = v[k + 1]!;
      v[k] = re * Math.cos(angle) - im * Math.sin(angle);
      v[k + 1] = re * Math.sin(angle) + im * Math.cos(angle);
    }
  }
}

/** Non-causal attention among the tokens of one image, [tokens, heads·headDim] in and out. */
function attention(q: Float32Array, k: Float32Array, v: Float32Array, tokens: number, heads: number, headDim: number): Float32Array {
  const dim = heads * headDim;
  const out = new Float32Array(tokens * dim);
  const scale = 1 / Math.sqrt(headDim);
  const scores = new Float64Array(tokens);
  for (let h = 0; h < heads; h++) {
    for (let i = 0; i < tokens; i++) {
      let max = -Infinity;
      for (let j = 0; j < tokens; j++) {
        let dot = 0;
        for (let d = 0; d < headDim; d++) dot += q[i * dim + h * headDim + d]! * k[j * dim + h * headDim + d]!;
        scores[j] = dot * scale;
        max = Math.max(max, scores[j]!);
      }
      let sum = 0;
      for (let j = 0; j < tokens; j++) sum += scores[j] = Math.exp(scores[j]! - max);
      for (let d = 0; d < headDim; d++) {
        let acc = 0;
        for (let j = 0; j < tokens; j++) acc += scores[j]! * v[j * dim + h * headDim + d]!;
        out[i * dim + h * headDim + d] = acc / sum;
      }
    }
  }
  return out;
}

function addInPlace(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
}

/** One encoder block on one image's tokens (pre-LN attention with 2-D RoPE, then pre-LN MLP). */
function encoderBlock(cfg: MoonViTShape, w: WeightLookup, n: number, x: Float32Array, grid: Grid): void {
  const p = `vision_tower.encoder.blocks.${n}`;
  const d = cfg.hiddenSize;
  const heads = cfg.numAttentionHeads;
  const headDim = d / heads;
  const tokens = grid[0] * grid[1];
  const qkv = linear(layerNorm(x, d, w(`${p}.norm0.weight`), w(`${p}.norm0.bias`)), tokens, w(`${p}.wqkv.weight`), w(`${p}.wqkv.bias`), d, 3 * d);
  const q = new Float32Array(tokens * d);
  const k = new Float32Array(tokens * d);
  const v = new Float32Array(tokens * d);
  const freqs = ropeFrequencies(headDim);
  for (let t = 0; t < tokens; t++) {
    q.set(qkv.subarray(t * 3 * d, t * 3 * d + d), t * d);
    k.set(qkv.subarray(t * 3 * d + d, t * 3 * d + 2 * d), t * d);
    v.set(qkv.subarray(t * 3 * d + 2 * d, t * 3 * d + 3 * d), t * d);
    const col = t % grid[1];
    const row = Math.floor(t / grid[1]);
    for (let h = 0; h < heads; h++) {
      applyRope2d(q, t * d + h * headDim, headDim, col, row, freqs);
      applyRope2d(k, t * d + h * headDim, headDim, col, row, freqs);
    }
  }
  addInPlace(x, linear(attention(q, k, v, tokens, heads, headDim), tokens, w(`${p}.wo.weight`), w(`${p}.wo.bias`), d, d));
  const hidden = linear(layerNorm(x, d, w(`${p}.norm1.weight`), w(`${p}.norm1.bias`)), tokens, w(`${p}.mlp.fc0.weight`), w(`${p}.mlp.fc0.bias`), d, cfg.intermediateSize);
  for (let i = 0; i < hidden.length; i++) hidden[i] = geluTanh(hidden[i]!);
  addInPlace(x, linear(hidden, tokens, w(`${p}.mlp.fc1.weight`), w(`${p}.mlp.fc1.bias`), cfg.intermediateSize, d));
}

/**
 * Groups each merge window of tokens ([gh·gw, D] row-major) into one row of merge_h·merge_w·D:
 * windows row-major over the (gh/2, gw/2) grid, parts in order (0,0), (0,1), (1,0), (1,1).
 */
export function mergePatches(x: Float32Array, dim: number, grid: Grid, merge: readonly [number, number]): Float32Array {
  const [gh, gw] = grid;
  const [mh, mw] = merge;
  const out = new Float32Array(x.length);
  let o = 0;
  for (let my = 0; my < gh / mh; my++)
    for (let mx = 0; mx < gw / mw; mx++)
      for (let dy = 0; dy < mh; dy++)
        for (let dx = 0; dx < mw; dx++, o += dim) {
          const t = (my * mh + dy) * gw + mx * mw + dx;
          out.set(x.subarray(t * dim, (t + 1) * dim), o);
        }
  return out;
}

/** MoonViT on several images: merged tokens [Σ gh·gw/4, 4·D], images in order, each attending only within itself. */
export function moonViTReference(cfg: MoonViTShape, w: WeightLookup, pixelValues: Float32Array, grids: readonly Grid[]): Float32Array {
  const d = cfg.hiddenSize;
  const patchLen = 3 * cfg.patchSize * cfg.patchSize;
  const parts: Float32Array[] = [];
  let first = 0;
  for (const grid of grids) {
    const tokens = grid[0] * grid[1];
    const patches = pixelValues.subarray(first * patchLen, (first + tokens) * patchLen);
    first += tokens;
    const x = linear(patches, tokens, w('vision_tower.patch_embed.proj.weight'), w('vision_tower.patch_embed.proj.bias'), patchLen, d);
    addInPlace(x, interpolatePosEmb(w('vision_tower.patch_embed.pos_emb.weight'), cfg.initPosEmbHeight, cfg.initPosEmbWidth, d, grid));
    for (let n = 0; n < cfg.numHiddenLayers; n++) encoderBlock(cfg, w, n, x, grid);
    const normed = layerNorm(x, d, w('vision_tower.encoder.final_layernorm.weight'), w('vision_tower.encoder.final_layernorm.bias'));
    parts.push(mergePatches(normed, d, grid, cfg.mergeKernelSize));
  }
  return concatFloat32(parts);
}

/** Projector: LayerNorm on each D-wide part, linear_1, exact GELU, linear_2 → [M, text hidden]. */
export function projectorReference(cfg: MoonViTShape, w: WeightLookup, merged: Float32Array, textHidden: number): Float32Array {
  const d = cfg.hiddenSize;
  const wide = d * cfg.mergeKernelSize[0] * cfg.mergeKernelSize[1];
  const rows = merged.length / wide;
  const normed = layerNorm(merged, d, w('multi_modal_projector.pre_norm.weight'), w('multi_modal_projector.pre_norm.bias'));
  const hidden = linear(normed, rows, w('multi_modal_projector.linear_1.weight'), w('multi_modal_projector.linear_1.bias'), wide, wide);
  for (let i = 0; i < hidden.length; i++) hidden[i] = geluErf(hidden[i]!);
  return linear(hidden, rows, w('multi_modal_projector.linear_2.weight'), w('multi_modal_projector.linear_2.bias'), wide, textHidden);
}

/** Image features for the `<|media_pad|>` positions: MoonViT then the projector. */
export function visionFeaturesReference(cfg: MoonViTShape, w: WeightLookup, pixelValues: Float32Array, grids: readonly Grid[], textHidden: number): Float32Array {
  return projectorReference(cfg, w, moonViTReference(cfg, w, pixelValues, grids), textHidden);
}
