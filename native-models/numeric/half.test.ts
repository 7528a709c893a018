import { describe, expect, test } from 'vitest';
import { SeededRandom } from './random.ts';
import { bfloat16ToFloat32, float16ToFloat32, float32ToBfloat16, float32ToFloat16, roundToFloat16, widenInPlace } from './half.ts';

const allHalves = Uint16Array.from({ length: 65536 }, (_, i) => i);
const kernels = ['js', 'wasm'] as const;
const isNaNHalf = (h: number) => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;

describe('half precision', () => {
  test.each(kernels)('every fp16 value survives fp16 → fp32 → fp16 (narrowing in %s)', (kernel) => {
    const back = float32ToFloat16(float16ToFloat32(allHalves), kernel);
    const bad = [...allHalves].filter((h) => (isNaNHalf(h) ? !isNaNHalf(back[h]!) : back[h] !== h));
    expect(bad).toEqual([]);
  });

  test.each(kernels)('values halfway between neighbours round to the even one; just above rounds up (%s)', (kernel) => {
    const lo = float16ToFloat32(allHalves);
    const mids: number[] = [];
    const expected: number[] = [];
    for (let h = 0; h < 0x7bff; h++) {
      const mid = (lo[h]! + lo[h + 1]!) / 2;
      mids.push(mid, mid + (lo[h + 1]! - lo[h]!) / 8);
      expected.push(h % 2 === 0 ? h : h + 1, h + 1);
    }
    const got = float32ToFloat16(Float32Array.from(mids), kernel);
    const wrong = expected.filter((e, i) => got[i] !== e).length;
    expect(wrong).toBe(0);
  });

  test.each(kernels)('specials: signed zero, overflow to infinity, NaN stays NaN (%s)', (kernel) => {
    const src = Float32Array.from([0, -0, 65504, 65520, -1e9, Infinity, -Infinity, 1e-8, 5.960464477539063e-8]);
    expect(Array.from(float32ToFloat16(src, kernel), (h) => h.toString(16))).toEqual(['0', '8000', '7bff', '7c00', 'fc00', '7c00', 'fc00', '0', '1']);
    expect(isNaNHalf(float32ToFloat16(Float32Array.of(NaN), kernel)[0]!)).toBe(true);
  });

  test('narrowing in WASM gives the JS bits for any fp32 pattern (random ones: NaNs with payloads, subnormals, the edges of each range), at lengths over and under a piece', () => {
    const rng = new SeededRandom(5);
    const bits = Uint32Array.from({ length: (1 << 20) + 3 }, () => Math.floor(rng.next() * 2 ** 32));
    // The edges between the forms (subnormal, normal, overflow, NaN), both signs, ±2 ulps.
    const edges = [0x38800000, 0x477fe000, 0x477fefff, 0x477ff000, 0x47800000, 0x7f800000, 0x33000000, 0x33000001, 0x387fc000];
    edges.forEach((e, i) => { for (let d = -2; d <= 2; d++) bits.set([(e + d) >>> 0, ((e + d) | 0x80000000) >>> 0], 10 * i + 2 * (d + 2)); });
    for (const count of [bits.length, 65536 + 1, 7, 1]) {
      const src = new Float32Array(bits.buffer, 0, count);
      const js = float32ToFloat16(src, 'js'), wasm = float32ToFloat16(src, 'wasm');
      expect(wasm.findIndex((h, i) => h !== js[i])).toBe(-1);
    }
  });

  test.each(kernels)('rounding to fp16 in place gives the bits of narrowing then widening into new arrays, call after call of other lengths (its scratch reused) (%s)', (kernel) => {
    const rng = new SeededRandom(7);
    for (const count of [70_000, 5, 1000, 65_537]) {
      const bits = Uint32Array.from({ length: count }, () => Math.floor(rng.next() * 2 ** 32));
      const values = new Float32Array(bits.buffer);
      const want = new Uint32Array(float16ToFloat32(float32ToFloat16(values, kernel)).buffer);
      roundToFloat16(values, kernel);
      expect(bits.findIndex((b, i) => b !== want[i])).toBe(-1);
    }
  });

  test('bfloat16 rounds to nearest even and widens exactly', () => {
    const src = Float32Array.from([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, -2.5, 3.4e38]);
    expect(Array.from(bfloat16ToFloat32(float32ToBfloat16(src)))).toEqual([1, 1, 1 + 2 ** -6, -2.5, Infinity]);
  });

  test('widening in place, from the back half of the buffer, gives what widening into a new buffer gives', () => {
    for (const dtype of ['BF16', 'F16'] as const) {
      const buffer = new ArrayBuffer(4 * allHalves.length);
      new Uint16Array(buffer, 2 * allHalves.length).set(allHalves);
      const inPlace = new Uint32Array(widenInPlace(buffer, allHalves.length, dtype).buffer);
      const apart = new Uint32Array((dtype === 'BF16' ? bfloat16ToFloat32 : float16ToFloat32)(allHalves).buffer);
      expect(inPlace.every((bits, i) => bits === apart[i])).toBe(true);
    }
    expect(() => widenInPlace(new ArrayBuffer(10), 2, 'BF16')).toThrow('a buffer of 10 bytes cannot hold 2 fp32 values');
  });

  test.each(kernels)('bf16 widening (%s) is the 16-bit pattern shifted into the high half, in place and apart, for counts even and odd, under and over a piece', (kernel) => {
    // Every pattern, several times over (more than the WASM kernel's piece of 65536 values).
    const many = Uint16Array.from({ length: 3 * 65536 + 5 }, (_, i) => i * 7);
    for (const count of [many.length, allHalves.length, allHalves.length - 1, 9, 3, 1]) {
      const halves = many.subarray(many.length - count);
      const buffer = new ArrayBuffer(4 * count);
      new Uint16Array(buffer, 2 * count).set(halves);
      const inPlace = new Uint32Array(widenInPlace(buffer, count, 'BF16', kernel).buffer);
      const apart = new Uint32Array(bfloat16ToFloat32(halves.slice(), kernel).buffer);
      const wrong = halves.findIndex((h, i) => inPlace[i] !== (h << 16) >>> 0 || apart[i] !== (h << 16) >>> 0);
      expect(wrong).toBe(-1);
    }
  });
});
