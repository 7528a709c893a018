/**
 * How each ONNX weight is derived from Hugging Face tensors, and the streaming producers that
 * carry it out at import time. Recipes keep the graph builder declarative (it names tensors
 * and layouts) while the heavy lifting — reading, permuting, fusing experts — streams here,
 * one row block or one expert at a time, so memory stays bounded by a single expert or chunk.
 */
import { joinSpans, spanOfValues, type Bf16Span } from '../../../checkpoint/bf16-span.ts';
import { giveBackBuffer, takeBuffer } from '../../../checkpoint/buffers.ts';
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';

export type WeightRecipe =
  /** The tensor as stored (PyTorch Linear layout [out, in] is what Gemm transB expects). */
  | { readonly kind: 'copy'; readonly tensor: string }
  /**
   * Rows of the RoPE slice in each block reordered [0, 2, 4, …, 1, 3, 5, …] (DeepSeek's
   * de-interleave folded into the weights, so the graph applies plain rotate-half RoPE).
   */
  | { readonly kind: 'rope-rows'; readonly tensor: string; readonly blockRows: number; readonly ropeOffset: number; readonly ropeDim: number }
  /** kv_b_proj's per-head k_nope rows as [H, nope, rank] (absorbed into the query). */
  | { readonly kind: 'absorb-k'; readonly tensor: string; readonly heads: number; readonly nope: number; readonly v: number; readonly rank: number }
  /** kv_b_proj's per-head v rows transposed to [H, rank, v] (applied after attention over the latent). */
  | { readonly kind: 'absorb-v'; readonly tensor: string; readonly heads: number; readonly nope: number; readonly v: number; readonly rank: number }
  /** kv_b_proj's per-head v rows as stored, [H, v, rank]: the layout int4 quantises them in (mla-int4.ts). */
  | { readonly kind: 'absorb-v-rows'; readonly tensor: string; readonly heads: number; readonly nope: number; readonly v: number; readonly rank: number }
  /**
   * All experts' gate/up rows as [E, 2I, D]: interleaved (gate_i, up_i, …), com.microsoft.MoE's
   * and QMoE's fc1; or with `halves`, each expert's I gate rows then its I up rows, the CPU's
   * per-expert MatMulNBits (quantization/int4-experts.ts), whose output one Split halves.
   */
  | { readonly kind: 'experts-fc1'; readonly prefix: string; readonly experts: number; readonly halves?: true }
  /** All experts' down_proj stacked as [E, D, I] — com.microsoft.MoE's fc2. */
  | { readonly kind: 'experts-fc2'; readonly prefix: string; readonly experts: number };

/** The tensors a recipe reads. */
export function recipeTensors(r: WeightRecipe): string[] {
  switch (r.kind) {
    case 'experts-fc1':
      return Array.from({ length: r.experts }, (_, e) => [`${r.prefix}.${e}.gate_proj.weight`, `${r.prefix}.${e}.up_proj.weight`]).flat();
    case 'experts-fc2':
      return Array.from({ length: r.experts }, (_, e) => `${r.prefix}.${e}.down_proj.weight`);
    default:
      return [r.tensor];
  }
}

export function ropePermutation(ropeDim: number): number[] {
  const half = ropeDim / 2;
  return Array.from({ length: ropeDim }, (_, j) => (j < half ? 2 * j : 2 * (j - half) + 1));
}

type RowRecipe = Extract<WeightRecipe, { kind: 'copy' | 'experts-fc1' | 'experts-fc2' }>;

/** Recipes whose output rows (first dimension: tensor rows, or experts) can be made on their own. */
export function hasRowRange(r: WeightRecipe): r is RowRecipe {
  return r.kind === 'copy' || r.kind === 'experts-fc1' || r.kind === 'experts-fc2';
}

/**
 * How a row recipe reads its tensors: widened to fp32, or as stored in bf16 (bit patterns, for
 * the int4 quantiser, which widens them itself).
 */
interface RowForm<T extends Float32Array | Uint16Array> {
  read(ckpt: HfCheckpoint, tensor: string): T;
  rows(ckpt: HfCheckpoint, tensor: string, from: number, to: number): Iterable<T>;
  /** A new output of `values` elements, in a pooled buffer. */
  take(values: number): T;
}
const FP32: RowForm<Float32Array> = {
  read: (ckpt, tensor) => ckpt.read(tensor),
  rows: (ckpt, tensor, from, to) => ckpt.readRows(tensor, undefined, from, to),
  take: (values) => new Float32Array(takeBuffer(4 * values)),
};
const BF16: RowForm<Uint16Array> = {
  read: (ckpt, tensor) => ckpt.readBf16(tensor),
  rows: (ckpt, tensor, from, to) => ckpt.readBf16Rows(tensor, undefined, from, to),
  take: (values) => new Uint16Array(takeBuffer(2 * values)),
};

/** Streams rows [from, to) of a recipe's output: rows of the tensor, or whole experts. */
export function produceRecipeRows(ckpt: HfCheckpoint, r: RowRecipe, from: number, to: number): AsyncGenerator<Float32Array> {
  return recipeRows(ckpt, r, from, to, FP32);
}

/** Whether every tensor a recipe reads is stored in bf16, so produceRecipeRowsBf16 can read it. */
export function isBf16Recipe(ckpt: HfCheckpoint, r: WeightRecipe): boolean {
  return recipeTensors(r).every((tensor) => ckpt.has(tensor) && ckpt.info(tensor).dtype === 'BF16');
}

/**
 * produceRecipeRows' values as bf16 bit patterns, unwidened and not read yet (every tensor must be
 * BF16: isBf16Recipe): spans of the checkpoint that the int4 quantiser reads straight into its
 * WebAssembly memory (checkpoint/bf16-span.ts). An fc1 expert in `halves` is its gate tensor's
 * span then its up tensor's, so neither is copied into place; interleaved rows (QMoE's and MoE's
 * fc1, GPU imports) are read and interleaved in memory as before.
 */
export async function* produceRecipeRowsBf16(ckpt: HfCheckpoint, r: RowRecipe, from: number, to: number): AsyncGenerator<Bf16Span> {
  switch (r.kind) {
    case 'copy':
      yield* ckpt.bf16RowSpans(r.tensor, undefined, from, to);
      return;
    case 'experts-fc1':
      if (!r.halves) {
        for await (const out of recipeRows(ckpt, r, from, to, BF16)) yield spanOfValues(out);
        return;
      }
      for (let e = from; e < to; e++) yield joinSpans([ckpt.bf16Span(`${r.prefix}.${e}.gate_proj.weight`), ckpt.bf16Span(`${r.prefix}.${e}.up_proj.weight`)]);
      return;
    case 'experts-fc2':
      for (let e = from; e < to; e++) yield ckpt.bf16Span(`${r.prefix}.${e}.down_proj.weight`);
      return;
  }
}

async function* recipeRows<T extends Float32Array | Uint16Array>(ckpt: HfCheckpoint, r: RowRecipe, from: number, to: number, form: RowForm<T>): AsyncGenerator<T> {
  switch (r.kind) {
    case 'copy':
      yield* form.rows(ckpt, r.tensor, from, to);
      return;
    case 'experts-fc1':
      for (let e = from; e < to; e++) {
        const gate = form.read(ckpt, `${r.prefix}.${e}.gate_proj.weight`);
        const up = form.read(ckpt, `${r.prefix}.${e}.up_proj.weight`);
        const [inter, hidden] = ckpt.info(`${r.prefix}.${e}.gate_proj.weight`).shape as [number, number];
        const out = form.take(2 * inter * hidden);
        if (r.halves) {
          out.set(gate);
          out.set(up, inter * hidden);
        } else {
          for (let i = 0; i < inter; i++) {
            out.set(gate.subarray(i * hidden, (i + 1) * hidden), 2 * i * hidden);
            out.set(up.subarray(i * hidden, (i + 1) * hidden), (2 * i + 1) * hidden);
          }
        }
        // Read here and used up: the next expert's reads may have them.
        giveBackBuffer(gate.buffer as ArrayBuffer);
        giveBackBuffer(up.buffer as ArrayBuffer);
        yield out;
      }
      return;
    case 'experts-fc2':
      for (let e = from; e < to; e++) yield form.read(ckpt, `${r.prefix}.${e}.down_proj.weight`);
      return;
  }
}

/** Streams a recipe's values (fp32, row-major in the ONNX layout). */
export async function* produceRecipe(ckpt: HfCheckpoint, r: WeightRecipe): AsyncGenerator<Float32Array> {
  if (hasRowRange(r)) {
    yield* produceRecipeRows(ckpt, r, 0, r.kind === 'copy' ? (ckpt.info(r.tensor).shape[0] ?? 1) : r.experts);
    return;
  }
  switch (r.kind) {
    case 'rope-rows': {
      // In place: each block's RoPE rows are copied aside (a small buffer reused for every
      // block) and written back in their new order; a copy of the whole tensor would be fresh
      // memory, which costs more than the permuting.
      const out = ckpt.read(r.tensor);
      const cols = out.length / ckpt.info(r.tensor).shape[0]!;
      const perm = ropePermutation(r.ropeDim);
      const aside = new Float32Array(r.ropeDim * cols);
      for (let block = 0; block * r.blockRows < ckpt.info(r.tensor).shape[0]!; block++) {
        const first = (block * r.blockRows + r.ropeOffset) * cols;
        aside.set(out.subarray(first, first + r.ropeDim * cols));
        for (let j = 0; j < r.ropeDim; j++) out.set(aside.subarray(perm[j]! * cols, (perm[j]! + 1) * cols), first + j * cols);
      }
      yield out;
      return;
    }
    case 'absorb-k':
    case 'absorb-v-rows': {
      // Each head's nope rows, then its v rows: take one of the two runs from every head.
      const [first, count] = r.kind === 'absorb-k' ? [0, r.nope] : [r.nope, r.v];
      const w = ckpt.read(r.tensor);
      const out = new Float32Array(takeBuffer(4 * r.heads * count * r.rank));
      for (let h = 0; h < r.heads; h++) {
        const src = (h * (r.nope + r.v) + first) * r.rank;
        out.set(w.subarray(src, src + count * r.rank), h * count * r.rank);
      }
      giveBackBuffer(w.buffer as ArrayBuffer);
      yield out;
      return;
    }
    case 'absorb-v': {
      const w = ckpt.read(r.tensor);
      const out = new Float32Array(takeBuffer(4 * r.heads * r.rank * r.v));
      for (let h = 0; h < r.heads; h++) {
        for (let d = 0; d < r.v; d++) {
          const row = (h * (r.nope + r.v) + r.nope + d) * r.rank;
          for (let c = 0; c < r.rank; c++) out[(h * r.rank + c) * r.v + d] = w[row + c]!;
        }
      }
      giveBackBuffer(w.buffer as ArrayBuffer);
      yield out;
      return;
    }
  }
}
