/**
 * An independent, deliberately plain forward pass of the Kimi-VL language model, written from
 * the Hugging Face modeling code's description (docs/kimi-vl.md#language-model) with loops over the raw
 * checkpoint tensors: non-absorbed MLA with per-head keys and values, DeepSeek's
 * de-interleave-then-rotate-half RoPE, sigmoid + bias routing. Used only by tests to check
 * the ONNX graph; far too slow for real models.
 */
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import { isMoeLayer, KV_A_LAYERNORM_EPS, type KimiTextConfig } from '../configuration.ts';
import { LM } from '../graphs/tensor-names.ts';

function matvec(w: Float32Array, x: Float32Array, rows: number, cols: number, rowOffset = 0): Float32Array {
  const y = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    const base = (rowOffset + r) * cols;
    for (let c = 0; c < cols; c++) s += w[base + c]! * x[c]!;
    y[r] = s;
  }
  return y;
}

function rmsNorm(x: Float32Array, w: Float32Array, eps: number): Float32Array {
  let ss = 0;
  for (const v of x) ss += v * v;
  const inv = 1 / Math.sqrt(ss / x.length + eps);
  return x.map((v, i) => v * inv * w[i]!);
}

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
const silu = (v: number) => v * sigmoid(v);

export class ReferenceTextModel {
  private readonly w = new Map<string, Float32Array>();
  /** Per layer, per cached position: keys [H × qk] and values [H × v]. */
  /** Hidden state after each decoder layer for the most recent token (for comparisons of intermediates). */
  readonly layerOutputs: Float32Array[] = [];
  private keys: Float32Array[][] = [];
  private values: Float32Array[][] = [];

  constructor(
    ckpt: HfCheckpoint,
    private readonly t: KimiTextConfig,
  ) {
    for (const name of ckpt.tensorNames) {
      if (name.startsWith('language_model.') && !name.endsWith('rotary_emb.inv_freq')) this.w.set(name, ckpt.read(name));
    }
    this.reset();
  }

  reset(): void {
    this.keys = Array.from({ length: this.t.numHiddenLayers }, () => []);
    this.values = Array.from({ length: this.t.numHiddenLayers }, () => []);
  }

  get length(): number {
    return this.keys[0]!.length;
  }

  private get(name: string): Float32Array {
    const v = this.w.get(name);
    if (!v) throw new Error(`reference: missing ${name}`);
    return v;
  }

  /** DeepSeek RoPE on a rope-sized vector at position p: de-interleave, then rotate-half. */
  private rope(r: Float32Array, p: number): Float32Array {
    const n = r.length;
    const half = n / 2;
    const d = new Float32Array(n);
    for (let j = 0; j < half; j++) {
      d[j] = r[2 * j]!;
      d[half + j] = r[2 * j + 1]!;
    }
    const out = new Float32Array(n);
    for (let j = 0; j < n; j++) {
      const theta = p * (1 / this.t.ropeTheta ** ((2 * (j % half)) / n));
      const rotated = j < half ? -d[j + half]! : d[j - half]!;
      out[j] = d[j]! * Math.cos(theta) + rotated * Math.sin(theta);
    }
    return out;
  }

  private swiglu(x: Float32Array, prefix: string, width: number): Float32Array {
    const D = this.t.hiddenSize;
    const gate = matvec(this.get(`${prefix}.gate_proj.weight`), x, width, D);
    const up = matvec(this.get(`${prefix}.up_proj.weight`), x, width, D);
    return matvec(this.get(`${prefix}.down_proj.weight`), gate.map((g, i) => silu(g) * up[i]!), D, width);
  }

  private attention(x: Float32Array, layer: number, p: number): Float32Array {
    const t = this.t;
    const pre = `${LM}.layers.${layer}.self_attn`;
    const H = t.numAttentionHeads;
    const qk = t.qkNopeHeadDim + t.qkRopeHeadDim;
    const D = t.hiddenSize;
    const q = matvec(this.get(`${pre}.q_proj.weight`), x, H * qk, D);
    const ckv = matvec(this.get(`${pre}.kv_a_proj_with_mqa.weight`), x, t.kvLoraRank + t.qkRopeHeadDim, D);
    const c = rmsNorm(ckv.subarray(0, t.kvLoraRank), this.get(`${pre}.kv_a_layernorm.weight`), KV_A_LAYERNORM_EPS);
    const kPe = this.rope(ckv.slice(t.kvLoraRank), p);
    const kv = matvec(this.get(`${pre}.kv_b_proj.weight`), c, H * (t.qkNopeHeadDim + t.vHeadDim), t.kvLoraRank);
    const key = new Float32Array(H * qk);
    const value = new Float32Array(H * t.vHeadDim);
    const query = new Float32Array(H * qk);
    for (let h = 0; h < H; h++) {
      const kvh = kv.subarray(h * (t.qkNopeHeadDim + t.vHeadDim));
      key.set(kvh.subarray(0, t.qkNopeHeadDim), h * qk);
      key.set(kPe, h * qk + t.qkNopeHeadDim);
      value.set(kvh.subarray(t.qkNopeHeadDim, t.qkNopeHeadDim + t.vHeadDim), h * t.vHeadDim);
      query.set(q.subarray(h * qk, h * qk + t.qkNopeHeadDim), h * qk);
      query.set(this.rope(q.slice(h * qk + t.qkNopeHeadDim, (h + 1) * qk), p), h * qk + t.qkNopeHeadDim);
    }
    this.keys[layer]!.push(key);
    this.values[layer]!.push(value);
    const scale = 1 / Math.sqrt(qk);
    const out = new Float32Array(H * t.vHeadDim);
    for (let h = 0; h < H; h++) {
      const scores = this.keys[layer]!.map((k) => {
        let s = 0;
        for (let d = 0; d < qk; d++) s += query[h * qk + d]! * k[h * qk + d]!;
        return s * scale;
      });
      const max = Math.max(...scores);
      const e = scores.map((s) => Math.exp(s - max));
      const sum = e.reduce((a, b) => a + b, 0);
      for (const [j, v] of this.values[layer]!.entries()) {
        for (let d = 0; d < t.vHeadDim; d++) out[h * t.vHeadDim + d]! += (e[j]! / sum) * v[h * t.vHeadDim + d]!;
      }
    }
    return matvec(this.get(`${pre}.o_proj.weight`), out, D, H * t.vHeadDim);
  }

  private moe(x: Float32Array, layer: number): Float32Array {
    const t = this.t;
    const pre = `${LM}.layers.${layer}.mlp`;
    const scores = matvec(this.get(`${pre}.gate.weight`), x, t.nRoutedExperts, t.hiddenSize).map(sigmoid);
    const bias = this.get(`${pre}.gate.e_score_correction_bias`);
    const order = Array.from(scores.keys()).sort((a, b) => scores[b]! + bias[b]! - (scores[a]! + bias[a]!));
    const chosen = order.slice(0, t.numExpertsPerTok);
    let weights = chosen.map((e) => scores[e]!);
    if (t.normTopkProb) {
      const sum = weights.reduce((a, b) => a + b, 0) + 1e-20;
      weights = weights.map((w) => w / sum);
    }
    const y = new Float32Array(t.hiddenSize);
    for (const [k, e] of chosen.entries()) {
      const o = this.swiglu(x, `${pre}.experts.${e}`, t.moeIntermediateSize);
      for (let d = 0; d < y.length; d++) y[d]! += weights[k]! * t.routedScalingFactor * o[d]!;
    }
    if (t.nSharedExperts > 0) {
      const s = this.swiglu(x, `${pre}.shared_experts`, t.moeIntermediateSize * t.nSharedExperts);
      for (let d = 0; d < y.length; d++) y[d]! += s[d]!;
    }
    return y;
  }

  /** Runs one token at the next position; returns its hidden state after the last layer. */
  private step(id: number, embedding?: Float32Array): Float32Array {
    const t = this.t;
    const p = this.length;
    const D = t.hiddenSize;
    let x = embedding?.slice() ?? this.get(`${LM}.embed_tokens.weight`).slice(id * D, (id + 1) * D);
    for (let i = 0; i < t.numHiddenLayers; i++) {
      const pre = `${LM}.layers.${i}`;
      const a = this.attention(rmsNorm(x, this.get(`${pre}.input_layernorm.weight`), t.rmsNormEps), i, p);
      x = x.map((v, d) => v + a[d]!);
      const h = rmsNorm(x, this.get(`${pre}.post_attention_layernorm.weight`), t.rmsNormEps);
      const f = isMoeLayer(t, i) ? this.moe(h, i) : this.swiglu(h, `${pre}.mlp`, t.intermediateSize);
      x = x.map((v, d) => v + f[d]!);
      this.layerOutputs[i] = x;
    }
    return x;
  }

  /** Appends tokens; returns the next-token logits after the last one. `embeddings` replaces the input embedding at an index of `ids` (image features). */
  forward(ids: readonly number[], embeddings?: ReadonlyMap<number, Float32Array>): Float32Array {
    let x: Float32Array = new Float32Array(0);
    for (const [i, id] of ids.entries()) x = this.step(id, embeddings?.get(i));
    const n = rmsNorm(x, this.get(`${LM}.norm.weight`), this.t.rmsNormEps);
    return matvec(this.get('language_model.lm_head.weight'), n, this.t.vocabSize, this.t.hiddenSize);
  }
}
