/**
 * int4 imports: kv_b_proj's two halves — the matrices MLA's absorbed form multiplies every decode
 * step (W_uk into the query, W_uv after attention over the latent) — block-quantised per head, so
 * a decode step reads them as 4-bit blocks instead of fp32 (for Kimi-VL-A3B 4 MB → 0.6 MB a layer;
 * on the mid-size benchmark checkpoint they were 50 MB of the 216 MB an int4 step read).
 *
 * MatMulNBits multiplies by one [N, K] matrix, not a stack of them, so each head is its own node:
 * the absorbed form splits the heads, runs H MatMulNBits and concatenates. These 2 × H nodes sit
 * outside the If that picks the form (mla-attention.ts), on no rows when the call is decompressed:
 * inside a branch they made a decode step 4–9% slower. Exact ways to batch the heads measured
 * slower still (scripts/bench-absorbed.ts; docs/int4-on-the-cpu.md).
 * The decompressed form (prefill) keeps its one batched fp32 MatMul over all heads, with weights
 * that are the int4 values dequantised at import — the same numbers the absorbed form
 * multiplies by, so both forms still compute one model and write one cache
 * (modeling-text-int4.test.ts checks the int4 graph against the fp32 graph of the dequantised
 * checkpoint). The products run at accuracy level 0 (fp32 activations), so the two forms agree
 * to fp32 rounding.
 *
 * Blocks run along each head's input width: nope (128) for W_ukᵀ [rank, nope], rank (512) for
 * W_uvᵀ [v, rank]; asymmetric, like the other dense int4 weights.
 */
import { attr, type GraphBuilder } from '../../../onnx/graph-builder.ts';
import { giveBackChunk, takeBuffer } from '../../../checkpoint/buffers.ts';
import { DataType } from '../../../onnx/onnx-proto.ts';
import { dequantizeInt4Into, int4BlockSize, quantizeInt4, type Int4Weight } from '../../../quantization/int4-blocks.ts';
import { int4NBits, shared, type Fp32Source, type Int4AccuracyLevel } from '../../../quantization/matmul-nbits.ts';
import type { KimiTextConfig } from '../configuration.ts';

export interface HeadsInt4Options {
  readonly heads: number;
  /** Each head's matrix W_h [rows, cols], multiplied as x [.., rows] · W_h. */
  readonly rows: number;
  readonly cols: number;
  /** The heads as MatMulNBits takes them, each W_hᵀ: [heads, cols, rows]. */
  readonly source: Fp32Source;
  readonly accuracyLevel: Int4AccuracyLevel;
}

/**
 * Reads a whole [heads, rows, cols] source into one pooled array (checkpoint/buffers.ts), giving
 * back each chunk once copied (a source's chunks are its consumer's). The caller gives the array
 * back when done with it. Pooled because these weights come once per layer: arrays made new
 * each time were about 9 K page faults of a mid-size import.
 */
async function readAll(source: Fp32Source, length: number, what: string): Promise<Float32Array> {
  const out = new Float32Array(takeBuffer(4 * length));
  let at = 0;
  for await (const chunk of source()) {
    if (at + chunk.length > length) throw new Error(`${what}: source produced more than ${length} values`);
    out.set(chunk, at);
    at += chunk.length;
    giveBackChunk(chunk);
  }
  if (at !== length) throw new Error(`${what}: source produced ${at} values, expected ${length}`);
  return out;
}

/** w [rows, cols] transposed into `out` [cols, rows] (a pooled array unless given). */
function transpose(w: Float32Array, rows: number, cols: number, out = new Float32Array(takeBuffer(4 * rows * cols))): Float32Array {
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c]!;
  return out;
}

/**
 * A source of [heads, rows, cols] as [heads, cols, rows]: each head transposed, into a pooled
 * array that its consumer owns (readAll gives it back, so the next head reuses it).
 */
function transposedHeads(source: Fp32Source, heads: number, rows: number, cols: number, what: string): Fp32Source {
  return async function* () {
    const all = await readAll(source, heads * rows * cols, what);
    for (let h = 0; h < heads; h++) yield transpose(all.subarray(h * rows * cols, (h + 1) * rows * cols), rows, cols);
    giveBackChunk(all);
  };
}

/**
 * Declares a stack of per-head matrices W_h [rows, cols] (multiplied as x [.., rows] · W_h) in one
 * weight group: first the dequantised fp32 stack `${name}.weight` [heads, rows, cols] (what the
 * decompressed form reads), then each head's MatMulNBits initializers (W_hᵀ [cols, rows],
 * blocks along rows), quantised as the source gives them: only the dequantised stack is
 * transposed. Returns the fp32 stack's name and `apply(x, nodeName, on)`: x [heads, S, rows]
 * → [heads, S, cols] with `join: 'heads'`, or token-major [S, heads · cols] with `join: 'tokens'`.
 */
export function int4PerHead(g: GraphBuilder, name: string, o: HeadsInt4Options) {
  const { heads: H, rows, cols } = o;
  const blockSize = int4BlockSize(rows);
  // Codes, scales and zero points per head, plus the fp32 stack.
  // Every array is pooled: the source's values and each head's dequantised form are given back
  // here once used (the next head or layer reuses them); the fp32 stack and the heads' codes,
  // scales and zero points are yielded, and so the consumer's (the writer gives them back).
  const get = shared(async () => {
    const all = await readAll(o.source, H * rows * cols, name);
    const quantised: Int4Weight[] = [];
    const dequantised = new Float32Array(takeBuffer(4 * H * rows * cols));
    const head = new Float32Array(takeBuffer(4 * rows * cols));
    for (let h = 0; h < H; h++) {
      const q = quantizeInt4(all.subarray(h * rows * cols, (h + 1) * rows * cols), cols, rows, { blockSize });
      quantised.push(q);
      transpose(dequantizeInt4Into(q, head), cols, rows, dequantised.subarray(h * rows * cols, (h + 1) * rows * cols));
    }
    giveBackChunk(head);
    giveBackChunk(all);
    return { quantised, dequantised };
  }, 1 + 3 * H);
  const fp32 = g.weight({ name: `${name}.weight`, dims: [H, rows, cols], dataType: DataType.FLOAT, produce: async function* () { yield (await get()).dequantised; }, group: name });
  const linears = Array.from({ length: H }, (_, h) =>
    int4NBits(g, `${name}.${h}`, cols, rows, async () => (await get()).quantised[h]!, { blockSize, accuracyLevel: o.accuracyLevel, group: name }),
  );
  const I64 = DataType.INT64;
  const apply = (x: string, nodeName: string, join: 'heads' | 'tokens', on: GraphBuilder = g): string => {
    const parts = on.node('Split', [x], `${nodeName}.heads`, { outputs: H, attrs: [attr.int('axis', 0), attr.int('num_outputs', H)] });
    const outs = parts.map((part, h) => linears[h]!(part, `${nodeName}.${h}`, on)); // [1, S, cols]
    if (join === 'heads') return on.op('Concat', outs, nodeName, [attr.int('axis', 0)]);
    const merged = on.op('Concat', outs, `${nodeName}.merged`, [attr.int('axis', -1)]); // [1, S, heads · cols]
    return on.op('Squeeze', [merged, on.constant(`${nodeName}.axis0`, I64, [1], [0])], nodeName);
  };
  return { weight: fp32, apply };
}

/**
 * kv_b_proj's halves for an int4 import: fp32 stacks of the int4 values for prefill, per-head
 * MatMulNBits for decode. `k` yields W_uk [H, nope, rank] (its rows as stored, transposed here
 * for MatMulNBits); `v` yields W_uv as stored, [H, v, rank], already MatMulNBits' layout.
 */
export function int4AbsorbWeights(g: GraphBuilder, name: string, t: KimiTextConfig, k: Fp32Source, v: Fp32Source) {
  // Level 0 in every import: at level 4 a decode step's int8 query and attended latent would no
  // longer give the logits a prefill gives (modeling-text-int4.test.ts), for at most 1.4 ms a step
  // on the mid-size checkpoint (19.5 against 20.9 ms in one interleaved run; equal in two more).
  const accuracyLevel = 0;
  const H = t.numAttentionHeads;
  const kAbsorb = int4PerHead(g, `${name}.k_absorb`, { heads: H, rows: t.qkNopeHeadDim, cols: t.kvLoraRank, source: transposedHeads(k, H, t.qkNopeHeadDim, t.kvLoraRank, `${name}.k_absorb`), accuracyLevel });
  const vAbsorb = int4PerHead(g, `${name}.v_absorb`, { heads: H, rows: t.kvLoraRank, cols: t.vHeadDim, source: v, accuracyLevel });
  return { kAbsorb: kAbsorb.weight, vAbsorb: vAbsorb.weight, int4: { kAbsorb: kAbsorb.apply, vAbsorb: vAbsorb.apply } };
}
