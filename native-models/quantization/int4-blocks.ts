/**
 * Block-wise 4-bit quantisation of a row-major [N, K] weight (PyTorch Linear layout: one row per
 * output), in the byte layout onnxruntime's com.microsoft.MatMulNBits (bits 4) reads:
 *   B           uint8 [N, nBlocks, blockSize / 2] — code k of a block in byte k/2, even k in the
 *               low nibble; the last block of a row is zero-padded when K is not a multiple;
 *   scales      [N * nBlocks], one per block;
 *   zero_points uint8 [N, ceil(nBlocks / 2)] — one 4-bit zero point per block, packed the same
 *               way (low nibble first, each row padded to whole bytes).
 * A value is (code − zero_point) × scale. Asymmetric blocks map [min(0, lo), max(0, hi)] onto
 * 0…15 (zero stays exactly representable); symmetric blocks fix the zero point at 8 — the
 * op's default when no zero points are given, and the only form com.microsoft.QMoE takes — and
 * scale by the block's value of largest magnitude over −8 (so that value is exact; the codes
 * are −8…7 times a scale that may be negative).
 * For K a multiple of the block size, B read as [N, K / 2] is also QMoE's per-expert layout.
 */

import { isBf16Span, readSpan, type Bf16Span } from '../checkpoint/bf16-span.ts';
import { giveBackChunk, takeBytes } from '../checkpoint/buffers.ts';
import { bfloat16ToFloat32 } from '../numeric/half.ts';
import { kernelFor, quantizeRowsWasm, type Kernel } from '../wasm/kernels.ts';

export const INT4_BLOCK_SIZE = 32;

/**
 * The block size an import uses for weights read along `widths` (K): 64 when every one is a
 * multiple of 64 — half the scales and zero points of 32, about 11% fewer bytes — else 32.
 * Kimi-VL-A3B's widths all are; the tiny test checkpoint's are partly not, so both are exercised.
 */
export function int4BlockSize(...widths: number[]): number {
  return widths.every((k) => k % 64 === 0) ? 64 : INT4_BLOCK_SIZE;
}

/**
 * The one block size of a QMoE node's experts (fc1 reads `hidden`, fc2 `intermediate`): as
 * int4BlockSize, but 32 where a block of 64 would span a whole row, because onnxruntime's CPU
 * QMoE reads [E, N, 1] scales as per-row scales and its fast int4 kernel then returns NaN
 * (int4-blocks.test.ts). Kimi-VL-A3B's widths (2048, 1408) are 32 and 22 blocks of 64.
 */
export function int4ExpertBlockSize(hidden: number, intermediate: number): number {
  const block = int4BlockSize(hidden, intermediate);
  return Math.min(hidden, intermediate) / block < 2 ? INT4_BLOCK_SIZE : block;
}

export interface Int4Weight {
  readonly n: number;
  readonly k: number;
  readonly blockSize: number;
  readonly blocks: number;
  /** [N, blocks, blockSize / 2] */
  readonly packed: Uint8Array;
  /** [N * blocks] */
  readonly scales: Float32Array;
  /** [N, ceil(blocks / 2)]; absent for symmetric quantisation (implicit zero point 8). */
  readonly zeroPoints?: Uint8Array;
}

export interface Int4Options {
  readonly blockSize?: number;
  readonly symmetric?: boolean;
  /** WASM SIMD (the default where the engine has it) or the JS reference: the same bytes either way. */
  readonly kernel?: Kernel;
}

export function blockCount(k: number, blockSize = INT4_BLOCK_SIZE): number {
  return Math.ceil(k / blockSize);
}

/** `w`: fp32, or bf16 bit patterns in memory or not read yet (quantizeInt4Into). */
export function quantizeInt4(w: Float32Array | Uint16Array | Bf16Span, n: number, k: number, opts: Int4Options = {}): Int4Weight {
  const q = emptyInt4(n, k, opts);
  if (w.length !== n * k) throw new Error(`int4 quantisation: ${w.length} values do not make a [${n}, ${k}] matrix`);
  quantizeInt4Into(q, w, 0, opts.kernel);
  return q;
}

/**
 * An [N, K] int4 weight's arrays for quantizeInt4Into to fill some rows at a time: codes and
 * scales unset (every byte is written), zero points zero. Each array is lent by the thread's pool
 * (checkpoint/buffers.ts takeBytes: from byte 0 of a buffer that may be larger): an import writes
 * the arrays out and gives them back, so the next weight's, whatever its size, reuse memory
 * already touched rather than fresh pages, which cost more than the quantising here.
 */
export function emptyInt4(n: number, k: number, opts: Int4Options = {}, codes = true): Int4Weight {
  const blockSize = opts.blockSize ?? INT4_BLOCK_SIZE;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`int4 block size must be a power of two ≥ 16, got ${blockSize}`);
  const blocks = blockCount(k, blockSize);
  // Without `codes`, no array for them (empty): quantizeInt4Into is then given where each call's go.
  const packed = codes ? takeBytes(n * blocks * (blockSize / 2)) : new Uint8Array(0);
  const scales = new Float32Array(takeBytes(4 * n * blocks).buffer, 0, n * blocks);
  const zeroPoints = opts.symmetric ? undefined : takeBytes(n * Math.ceil(blocks / 2)).fill(0);
  return { n, k, blockSize, blocks, packed, scales, zeroPoints };
}

/**
 * Quantises whole rows `w` (a multiple of K values) into rows `row`… of `q` (made by emptyInt4,
 * their zero points still zero), giving the bytes quantizeInt4 gives for the whole matrix: rows are
 * independent (blocks never cross a row; zero points are padded per row). `w` is fp32 or bf16
 * bit patterns (a Uint16Array, as a checkpoint stores them, or a span of them not read yet):
 * widening is exact, so bf16 values give the bytes of their fp32 widening; the WASM kernel reads
 * a span into its own memory and widens there. The caller still owns `w` afterwards (a span is
 * not released here). `codes`, when given, receives these rows' codes instead of `q.packed` (a
 * weight made by emptyInt4 without codes, whose codes are written out as they are made).
 */
export function quantizeInt4Into(q: Int4Weight, w: Float32Array | Uint16Array | Bf16Span, row: number, kernel?: Kernel, codes?: Uint8Array): void {
  const rows = w.length / q.k;
  if (!Number.isInteger(rows) || row + rows > q.n) throw new Error(`int4 quantisation: ${w.length} values are not whole rows from row ${row} of a [${q.n}, ${q.k}] matrix`);
  const at = row * q.blocks;
  if (codes && codes.length !== rows * q.blocks * (q.blockSize / 2)) throw new Error(`int4 quantisation: ${codes.length} bytes for the codes of ${rows} rows, which take ${rows * q.blocks * (q.blockSize / 2)}`);
  const out = [codes ?? q.packed.subarray(at * (q.blockSize / 2)), q.scales.subarray(at), q.zeroPoints?.subarray(row * Math.ceil(q.blocks / 2))] as const;
  if (kernelFor(kernel) === 'wasm') {
    quantizeRowsWasm(w, rows, q.k, q.blockSize, !q.zeroPoints, ...out);
  } else if (isBf16Span(w)) {
    const bits = readSpan(w);
    quantizeRows(bfloat16ToFloat32(bits, 'js'), rows, q.k, q.blockSize, !q.zeroPoints, ...out);
    giveBackChunk(bits);
  } else {
    quantizeRows(w instanceof Float32Array ? w : bfloat16ToFloat32(w, 'js'), rows, q.k, q.blockSize, !q.zeroPoints, ...out);
  }
}

/**
 * The loops of quantizeInt4 in JS, on their own so the engine optimises them once for every
 * call; wasm/kernels.wat does the same operations in WebAssembly SIMD.
 */
function quantizeRows(w: Float32Array, n: number, k: number, blockSize: number, symmetric: boolean, packed: Uint8Array, scales: Float32Array, zeroPoints: Uint8Array | undefined): void {
  const blocks = blockCount(k, blockSize);
  const blob = blockSize / 2;
  const zpRow = Math.ceil(blocks / 2);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const zp = quantizeBlock(w, start, row * k + Math.min(k, (b + 1) * blockSize), symmetric, scales, row * blocks + b, packed, (row * blocks + b) * blob, blob);
      if (zeroPoints) zeroPoints[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
    }
  }
}

/**
 * Quantises w[start…end) into the `blob` bytes of `packed` from `out` on, its scale into
 * scales[block]; returns its zero point. Runs once per weight of an int4 import (billions of
 * times for the real model), so it is plain typed-array arithmetic in a small function the
 * engine optimises once for all calls: one pass for the range, one writing each byte once.
 */
function quantizeBlock(w: Float32Array, start: number, end: number, symmetric: boolean, scales: Float32Array, block: number, packed: Uint8Array, out: number, blob: number): number {
  // lo ≤ 0 ≤ hi, as the range starts at zero, each first reached at loAt / hiAt; NaN fails
  // both tests and is left out.
  let lo = 0;
  let hi = 0;
  let loAt = end;
  let hiAt = end;
  for (let i = start; i < end; i++) {
    const v = w[i]!;
    if (v < lo) {
      lo = v;
      loAt = i;
    } else if (v > hi) {
      hi = v;
      hiAt = i;
    }
  }
  let scale: number;
  let zp: number;
  if (symmetric) {
    // The value of largest magnitude gets code −8 (the scale is negative when it is positive):
    // the rule onnxruntime's CPU QMoE applies when it repacks experts for its fast int4 kernel,
    // so that repacking finds the same scale and codes and loses nothing. On a tie between −m
    // and m the first of them in the block is the peak.
    const peak = -lo > hi || (-lo === hi && loAt < hiAt) ? lo : hi;
    scale = peak / -8 || 1;
    zp = 8;
  } else {
    scale = hi - lo === 0 ? 1 : (hi - lo) / 15;
    zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
  }
  scale = Math.fround(scale);
  scales[block] = scale;
  // Two codes a byte, even position in the low nibble. Codes are clamped to 0…15 (a NaN code
  // stays NaN and packs as 0); padding codes equal the zero point, so padded positions
  // dequantise to exactly 0. floor(x + zp + 0.5), one addition, is Math.round(x) + zp here,
  // without the branch V8's Math.round takes (mispredicted on random weights, it halved the
  // speed): x is a float32 over a float32, so when it is not exactly a half-integer it lies
  // further from one (by at least 2⁻²⁷) than adding zp + 0.5 ≤ 15.5 in float64 can err (2⁻⁴⁸).
  const bias = zp + 0.5;
  let i = start;
  for (; i + 1 < end; i += 2) {
    let c0 = Math.floor(w[i]! / scale + bias);
    let c1 = Math.floor(w[i + 1]! / scale + bias);
    c0 = c0 < 0 ? 0 : c0 > 15 ? 15 : c0;
    c1 = c1 < 0 ? 0 : c1 > 15 ? 15 : c1;
    packed[out++] = c0 | (c1 << 4);
  }
  const last = out - (i - start) / 2 + blob;
  if (i < end) {
    let c0 = Math.floor(w[i]! / scale + bias);
    c0 = c0 < 0 ? 0 : c0 > 15 ? 15 : c0;
    packed[out++] = c0 | (zp << 4);
  }
  const padding = zp | (zp << 4);
  while (out < last) packed[out++] = padding;
  return zp;
}

/** The 4-bit code at column `col` of row `row`. */
export function int4Code(q: Int4Weight, row: number, col: number): number {
  const b = Math.floor(col / q.blockSize);
  const j = col - b * q.blockSize;
  const byte = q.packed[(row * q.blocks + b) * (q.blockSize / 2) + (j >> 1)]!;
  return (byte >> ((j & 1) * 4)) & 0xf;
}

export function int4ZeroPoint(q: Int4Weight, row: number, block: number): number {
  if (!q.zeroPoints) return 8;
  const byte = q.zeroPoints[row * Math.ceil(q.blocks / 2) + (block >> 1)]!;
  return (byte >> ((block & 1) * 4)) & 0xf;
}

/**
 * The [N, K] fp32 values the quantised weight stands for: (code − zero point) × scale, block by
 * block (each block's zero point and scale looked up once; an int4 import dequantises MLA's
 * absorbed weights with this).
 */
export function dequantizeInt4(q: Int4Weight): Float32Array {
  return dequantizeInt4Into(q, new Float32Array(q.n * q.k));
}

/** dequantizeInt4 into `out` (N · K values; a pooled buffer, say). */
export function dequantizeInt4Into(q: Int4Weight, out: Float32Array): Float32Array {
  const { n, k, blockSize, blocks, packed, scales } = q;
  if (out.length !== n * k) throw new Error(`dequantizeInt4: ${n * k} values into room for ${out.length}`);
  const blob = blockSize / 2;
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const zp = int4ZeroPoint(q, row, b);
      const scale = scales[row * blocks + b]!;
      const from = (row * blocks + b) * blob;
      const at = row * k + b * blockSize;
      const len = Math.min(blockSize, k - b * blockSize);
      for (let j = 0; j < len; j++) out[at + j] = (((packed[from + (j >> 1)]! >> ((j & 1) * 4)) & 0xf) - zp) * scale;
    }
  }
  return out;
}
