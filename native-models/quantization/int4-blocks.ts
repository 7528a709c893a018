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
}

export function blockCount(k: number, blockSize = INT4_BLOCK_SIZE): number {
  return Math.ceil(k / blockSize);
}

export function quantizeInt4(w: Float32Array, n: number, k: number, opts: Int4Options = {}): Int4Weight {
  const blockSize = opts.blockSize ?? INT4_BLOCK_SIZE;
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) throw new Error(`int4 block size must be a power of two ≥ 16, got ${blockSize}`);
  if (w.length !== n * k) throw new Error(`int4 quantisation: ${w.length} values do not make a [${n}, ${k}] matrix`);
  const blocks = blockCount(k, blockSize);
  const blob = blockSize / 2;
  const packed = new Uint8Array(n * blocks * blob);
  const scales = new Float32Array(n * blocks);
  const zpRow = Math.ceil(blocks / 2);
  const zeroPoints = opts.symmetric ? undefined : new Uint8Array(n * zpRow);
  for (let row = 0; row < n; row++) {
    for (let b = 0; b < blocks; b++) {
      const start = row * k + b * blockSize;
      const end = row * k + Math.min(k, (b + 1) * blockSize);
      let lo = 0;
      let hi = 0;
      let peak = 0;
      for (let i = start; i < end; i++) {
        const v = w[i]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
        if (Math.abs(v) > Math.abs(peak)) peak = v;
      }
      let scale: number;
      let zp: number;
      if (opts.symmetric) {
        // The value of largest magnitude gets code −8 (the scale is negative when it is
        // positive): the rule onnxruntime's CPU QMoE applies when it repacks experts for its
        // fast int4 kernel, so that repacking finds the same scale and codes and loses nothing.
        scale = peak / -8 || 1;
        zp = 8;
      } else {
        scale = hi - lo === 0 ? 1 : (hi - lo) / 15;
        zp = Math.min(15, Math.max(0, Math.round(-lo / scale)));
      }
      scale = Math.fround(scale);
      scales[row * blocks + b] = scale;
      if (zeroPoints) zeroPoints[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
      const out = (row * blocks + b) * blob;
      for (let i = start; i < end; i++) {
        const code = Math.min(15, Math.max(0, Math.round(w[i]! / scale) + zp));
        const j = i - start;
        packed[out + (j >> 1)]! |= code << ((j & 1) * 4);
      }
      // Padding codes equal the zero point, so padded positions dequantise to exactly 0.
      for (let j = end - start; j < blockSize; j++) packed[out + (j >> 1)]! |= zp << ((j & 1) * 4);
    }
  }
  return { n, k, blockSize, blocks, packed, scales, zeroPoints };
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

/** The [N, K] fp32 values the quantised weight stands for. */
export function dequantizeInt4(q: Int4Weight): Float32Array {
  const out = new Float32Array(q.n * q.k);
  for (let row = 0; row < q.n; row++) {
    for (let col = 0; col < q.k; col++) {
      const b = Math.floor(col / q.blockSize);
      out[row * q.k + col] = (int4Code(q, row, col) - int4ZeroPoint(q, row, b)) * q.scales[row * q.blocks + b]!;
    }
  }
  return out;
}
