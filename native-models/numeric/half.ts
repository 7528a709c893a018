/** Conversions between fp32 and the 16-bit float formats checkpoints and models use. */
import { kernelFor, narrowFloat16Wasm, widenBfloat16Wasm, type Kernel } from '../wasm/kernels.ts';

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);
// fp32 bits of 0.5 · 2^-14 · 2^(23-10): adding it moves a tiny value's half-precision
// subnormal bits into the low mantissa, rounded to nearest even by the FPU.
const SUBNORMAL_MAGIC = (127 - 15 + 23 - 10 + 1) << 23;

/**
 * IEEE half precision, round to nearest even (NaN → quiet NaN, overflow → ±Inf). Works on the
 * fp32 bit patterns — it runs once per weight at import, so it avoids per-element branches on
 * the common path. `kernel`: WASM SIMD (the default where the engine has it) or this JS, the
 * same bits either way. `out`: where they go (new memory unless given, a pooled buffer say).
 */
export function float32ToFloat16(src: Float32Array, kernel?: Kernel, out = new Uint16Array(src.length)): Uint16Array {
  if (out.length !== src.length) throw new Error(`float32ToFloat16: ${src.length} values into room for ${out.length}`);
  (kernelFor(kernel) === 'wasm' ? narrowFloat16Wasm : narrowFloat16)(src, out);
  return out;
}

function narrowFloat16(src: Float32Array, out: Uint16Array): void {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  scratchU32[0] = SUBNORMAL_MAGIC;
  const magic = scratchF32[0]!;
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const abs = x & 0x7fffffff;
    let h: number;
    if (abs >= 0x47800000) {
      h = abs > 0x7f800000 ? 0x7e00 : 0x7c00;
    } else if (abs < 0x38800000) {
      scratchU32[0] = abs;
      scratchF32[0] = scratchF32[0]! + magic;
      h = scratchU32[0]! - SUBNORMAL_MAGIC;
    } else {
      // Rebias the exponent (−112 « 23, as uint32), add the rounding bias (+0xfff plus the
      // lowest kept bit for ties-to-even) and drop 13 mantissa bits; carries roll into the exponent.
      h = (abs + 0xc8000fff + ((abs >>> 13) & 1)) >>> 13;
    }
    out[i] = h | sign;
  }
}

/** IEEE half precision to fp32 (exact). */
export function float16ToFloat32(src: Uint16Array): Float32Array {
  const out = new Float32Array(src.length);
  widenFloat16(src, out);
  return out;
}

/** This thread's room for roundToFloat16's half-precision bits, grown to the largest call and reused. */
let halfScratch = new Uint16Array(0);

/**
 * Rounds each value to the nearest IEEE half-precision value, in place: the bits of
 * `float16ToFloat32(float32ToFloat16(values))` without new arrays (an int4 import rounds every
 * expert's scales so; two fresh arrays per expert were page faults on every one). The half bits go
 * through this thread's scratch, used within the call only. `kernel` picks the narrowing.
 */
export function roundToFloat16(values: Float32Array, kernel?: Kernel): void {
  if (halfScratch.length < values.length) halfScratch = new Uint16Array(values.length);
  const half = halfScratch.subarray(0, values.length);
  float32ToFloat16(values, kernel, half);
  widenFloat16(half, values);
}

/**
 * bfloat16 is the top half of an fp32: widening is a shift. `kernel`: WASM SIMD (the default
 * where the engine has it) or the JS reference, the same bits either way.
 */
export function bfloat16ToFloat32(src: Uint16Array, kernel?: Kernel): Float32Array {
  const out = new Float32Array(src.length);
  widenBfloat16With(kernel)(src, out);
  return out;
}

/**
 * Widens `count` 16-bit floats held in the back half of `buffer` (bytes 2·count to 4·count) to
 * fp32 filling the whole buffer, without a second buffer: value i is read before its fp32
 * (bytes 4i to 4i + 4, never past byte 2·count + 2i + 2) can overwrite anything unread. Reading a
 * checkpoint tensor straight into the back half makes one allocation per chunk, not three.
 * `kernel` picks bf16's as bfloat16ToFloat32's does; fp16 widens in JS.
 */
export function widenInPlace(buffer: ArrayBuffer, count: number, dtype: 'BF16' | 'F16', kernel?: Kernel): Float32Array {
  if (buffer.byteLength !== 4 * count) throw new Error(`widenInPlace: a buffer of ${buffer.byteLength} bytes cannot hold ${count} fp32 values`);
  const src = new Uint16Array(buffer, 2 * count, count);
  const out = new Float32Array(buffer);
  if (dtype === 'BF16') widenBfloat16With(kernel)(src, out);
  else widenFloat16(src, out);
  return out;
}

/** The bf16 widening `kernel` asks for (WASM SIMD by default where the engine has it). */
const widenBfloat16With = (kernel?: Kernel) => (kernelFor(kernel) === 'wasm' ? widenBfloat16Wasm : widenBfloat16);

function widenBfloat16(src: Uint16Array, out: Float32Array): void {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  let i = 0;
  if (src.byteOffset % 4 === 0) {
    // Two values per 32-bit load (little-endian: the first in the low half), about 1.3× the
    // speed of one 16-bit load each; in place, pair j is read before its 8 bytes are written.
    const pairs = new Uint32Array(src.buffer, src.byteOffset, src.length >> 1);
    for (let j = 0; j < pairs.length; j++, i += 2) {
      const v = pairs[j]!;
      u[i] = v << 16;
      u[i + 1] = v & 0xffff0000;
    }
  }
  for (; i < src.length; i++) u[i] = src[i]! << 16;
}

function widenFloat16(src: Uint16Array, out: Float32Array): void {
  const u = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < src.length; i++) {
    const h = src[i]!;
    const sign = (h & 0x8000) << 16;
    const exp = (h >>> 10) & 0x1f;
    const mant = h & 0x3ff;
    if (exp === 0) {
      out[i] = (sign ? -1 : 1) * mant * 2 ** -24;
    } else if (exp === 0x1f) {
      u[i] = sign | 0x7f800000 | (mant << 13);
    } else {
      u[i] = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    }
  }
}

/** fp32 to bfloat16, round to nearest even (NaN stays NaN). */
export function float32ToBfloat16(src: Float32Array): Uint16Array {
  const u = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const x = u[i]!;
    if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) {
      out[i] = (x >>> 16) | 0x40;
      continue;
    }
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}
