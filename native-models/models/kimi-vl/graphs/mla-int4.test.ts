import { describe, expect, test } from 'vitest';
import { GraphBuilder } from '../../../onnx/graph-builder.ts';
import { spendChunk } from '../../../onnx/model-writer.ts';
import { dequantizeInt4, int4BlockSize, quantizeInt4 } from '../../../quantization/int4-blocks.ts';
import type { Fp32Source } from '../../../quantization/matmul-nbits.ts';
import { uniformFloats } from '../../../numeric/random.ts';
import type { KimiTextConfig } from '../configuration.ts';
import { int4AbsorbWeights, int4PerHead } from './mla-int4.ts';

const H = 3;
const ROWS = 64;
const COLS = 96;

/** An [H, …] source in chunks of one head, each a new array (as a checkpoint's reader hands out pooled ones, the consumer owns them). */
function sourceOf(values: Float32Array): Fp32Source {
  const per = values.length / H;
  return async function* () {
    for (let h = 0; h < H; h++) yield values.slice(h * per, (h + 1) * per);
  };
}

/** Each head [rows, cols] of an [H, rows, cols] stack transposed to [cols, rows]. */
function transposedHeads(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let h = 0; h < H; h++) for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[h * rows * cols + c * rows + r] = values[h * rows * cols + r * cols + c]!;
  return out;
}

/**
 * What int4PerHead must write for heads given as MatMulNBits takes them ([H, cols, rows]), made
 * without any pooled array: the fp32 stack [H, rows, cols] of the dequantised heads, then each
 * head's codes, scales and zero points.
 */
function expected(values: Float32Array, rows = ROWS, cols = COLS): Uint8Array[] {
  const heads = Array.from({ length: H }, (_, h) => quantizeInt4(values.slice(h * rows * cols, (h + 1) * rows * cols), cols, rows, { blockSize: int4BlockSize(rows) }));
  const stack = transposedHeads(Float32Array.from(heads.flatMap((q) => [...dequantizeInt4(q)])), cols, rows);
  const bytes = (a: Float32Array | Uint8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  return [bytes(stack), ...heads.flatMap((q) => [bytes(q.packed), bytes(q.scales), bytes(q.zeroPoints!)])];
}

/** Each weight's bytes, its chunks concatenated. */
function joined(chunks: readonly (Float32Array | Uint8Array)[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
    at += c.byteLength;
  }
  return out;
}

/** Where two byte strings first differ (−1: nowhere), cheap to report where a whole-array diff is not. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return a.findIndex((x, i) => x !== b[i]);
}

describe('int4 per-head weights (MLA absorbed form)', () => {
  // Several layers of the same shape, so that every pooled array of one layer is the size the
  // next layer asks for: given back too early, it would be reused under the first one's chunks.
  const layers = Array.from({ length: 3 }, (_, i) => uniformFloats(H * ROWS * COLS, 10 + i, 0.2));
  const build = () => {
    const g = new GraphBuilder();
    layers.forEach((values, i) => int4PerHead(g, `layer${i}`, { heads: H, rows: ROWS, cols: COLS, source: sourceOf(values), accuracyLevel: 0 }));
    return g.weights;
  };

  test('a consumer that keeps every chunk (never gives one back) holds each layer\'s own bytes after later layers are made: no pooled array is reused while a chunk still uses it', async () => {
    const kept: (Float32Array | Uint8Array)[][] = [];
    for (const spec of build()) {
      const chunks: (Float32Array | Uint8Array)[] = [];
      for await (const chunk of spec.produce()) chunks.push(chunk);
      kept.push(chunks);
    }
    const want = layers.flatMap((values) => expected(values));
    expect(kept.length).toBe(want.length);
    expect(kept.map((chunks, i) => firstDifference(joined(chunks), want[i]!))).toEqual(want.map(() => -1));
  });

  test('kv_b_proj\'s halves (W_uk read as stored and transposed per head, W_uv as stored) get the same bytes, several layers kept at once', async () => {
    const t = { numAttentionHeads: H, qkNopeHeadDim: 32, kvLoraRank: 64, vHeadDim: 48 } as KimiTextConfig;
    const ks = [1, 2].map((seed) => uniformFloats(H * t.qkNopeHeadDim * t.kvLoraRank, 20 + seed, 0.2)); // [H, nope, rank]
    const vs = [1, 2].map((seed) => uniformFloats(H * t.vHeadDim * t.kvLoraRank, 30 + seed, 0.2)); // [H, v, rank]
    const g = new GraphBuilder();
    ks.forEach((k, i) => int4AbsorbWeights(g, `layer${i}`, t, sourceOf(k), sourceOf(vs[i]!)));
    const kept: Uint8Array[] = [];
    for (const spec of g.weights) {
      const chunks: (Float32Array | Uint8Array)[] = [];
      for await (const chunk of spec.produce()) chunks.push(chunk);
      kept.push(joined(chunks));
    }
    const want = ks.flatMap((k, i) => [...expected(transposedHeads(k, t.qkNopeHeadDim, t.kvLoraRank), t.qkNopeHeadDim, t.kvLoraRank), ...expected(vs[i]!, t.kvLoraRank, t.vHeadDim)]);
    expect(kept.length).toBe(want.length);
    expect(kept.map((bytes, i) => firstDifference(bytes, want[i]!))).toEqual(want.map(() => -1));
  });

  test('a consumer that gives each chunk back once written (as the import\'s writers do) gets the same bytes, its memory reused', async () => {
    const written: Uint8Array[] = [];
    for (const spec of build()) {
      const parts: Uint8Array[] = [];
      for await (const chunk of spec.produce()) {
        parts.push(joined([chunk]));
        spendChunk(chunk, new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      written.push(joined(parts));
    }
    const want = layers.flatMap((values) => expected(values));
    expect(written.length).toBe(want.length);
    expect(written.map((bytes, i) => firstDifference(bytes, want[i]!))).toEqual(want.map(() => -1));
  });
});
