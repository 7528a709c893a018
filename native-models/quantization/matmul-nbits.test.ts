import { describe, expect, test } from 'vitest';
import { firstDifference } from '../../test/harness/floats.ts';
import { spanOfValues, type Bf16Span } from '../checkpoint/bf16-span.ts';
import { float32ToBfloat16 } from '../numeric/half.ts';
import { SeededRandom } from '../numeric/random.ts';
import { quantizeInt4 } from './int4-blocks.ts';
import { quantisedPart, sharedQuantised, type Fp32Source } from './matmul-nbits.ts';

const [N, K, ROWS_A_CHUNK] = [12, 128, 4];
const rng = new SeededRandom(41);
const bits = float32ToBfloat16(Float32Array.from({ length: N * K }, () => (rng.next() - 0.5) * 0.2));
const opts = { blockSize: 64, symmetric: false };
const expected = quantizeInt4(bits, N, K, opts);

/** A bf16 source streaming rows [from, to) as spans of ROWS_A_CHUNK rows, counting its reads. */
function source(): { source: Fp32Source; reads: () => number } {
  let reads = 0;
  const spans = async function* (from: number, to: number): AsyncIterable<Bf16Span> {
    for (let row = from; row < to; row += ROWS_A_CHUNK) {
      reads++;
      yield spanOfValues(bits.slice(row * K, Math.min(to, row + ROWS_A_CHUNK) * K));
    }
  };
  const whole = () => {
    throw new Error('read as bf16 spans only');
  };
  return { source: Object.assign(whole, { bf16Rows: spans, rows: whole }), reads: () => reads };
}

async function all(chunks: AsyncIterable<Uint8Array | Float32Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const chunk of chunks) out.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength).slice());
  return out;
}

const joined = (parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));
const bytesOf = (a: Uint8Array | Float32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

describe("a quantised matrix's initializers, the codes made as they stream", () => {
  test('codes asked for first come a source chunk at a time, then scales and zero points from the same pass: the bytes of one whole quantisation', async () => {
    const { source: s, reads } = source();
    const part = quantisedPart(sharedQuantised(s, N, K, opts, 'w', 3));
    const codes = await all(part.codes().produce());
    expect(codes.length).toBe(N / ROWS_A_CHUNK);
    const [scales] = await all(part.of((q) => q.scales).produce());
    const [zeroPoints] = await all(part.of((q) => q.zeroPoints!).produce());
    expect(firstDifference(joined(codes), expected.packed)).toBe(-1);
    expect(firstDifference(scales!, bytesOf(expected.scales))).toBe(-1);
    expect(firstDifference(zeroPoints!, expected.zeroPoints!)).toBe(-1);
    // One pass over the source for all three.
    expect(reads()).toBe(N / ROWS_A_CHUNK);
  });

  test('rows of a part likewise; codes asked for after another initializer come whole, from that quantisation', async () => {
    const { source: s, reads } = source();
    const part = quantisedPart(sharedQuantised(s, N, K, opts, 'w', 3));
    const blob = (K / 64) * 32;
    const codes = await all(part.codes().rows!(4, 12));
    expect(codes.length).toBe(2);
    expect(firstDifference(joined(codes), expected.packed.subarray(4 * blob, 12 * blob))).toBe(-1);
    const [scales] = await all(part.of((q) => q.scales).rows!(4, 12));
    expect(firstDifference(scales!, bytesOf(expected.scales.subarray(4 * 2, 12 * 2)))).toBe(-1);
    await all(part.of((q) => q.zeroPoints!).rows!(4, 12));
    // Scales first: the codes after them are the whole quantisation's array, one chunk.
    const [zeroPoints] = await all(part.of((q) => q.zeroPoints!).rows!(0, 4));
    const late = await all(part.codes().rows!(0, 4));
    await all(part.of((q) => q.scales).rows!(0, 4));
    expect(late.length).toBe(1);
    expect(firstDifference(late[0]!, expected.packed.subarray(0, 4 * blob))).toBe(-1);
    expect(firstDifference(zeroPoints!, expected.zeroPoints!.subarray(0, 4))).toBe(-1);
    expect(reads()).toBe(2 + 1);
  });

  test('codes abandoned part way: the scales say so instead of waiting for ever', async () => {
    const { source: s } = source();
    const part = quantisedPart(sharedQuantised(s, N, K, opts, 'w', 3));
    for await (const chunk of part.codes().produce()) {
      expect(chunk.length).toBeGreaterThan(0);
      break;
    }
    await expect(all(part.of((q) => q.scales).produce())).rejects.toThrow(/codes were not all made/);
  });
});
