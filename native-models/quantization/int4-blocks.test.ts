import { afterAll, describe, expect, test } from 'vitest';
import { firstDifference, maxAbsDiff } from '../../test/harness/floats.ts';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { openSession } from '../onnx/backend.ts';
import { GraphBuilder, attr } from '../onnx/graph-builder.ts';
import { writeModel } from '../onnx/model-writer.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { giveBackBuffer, giveBackChunk, takeBuffer } from '../checkpoint/buffers.ts';
import { SeededRandom } from '../numeric/random.ts';
import { bfloat16ToFloat32, float16ToFloat32, float32ToFloat16 } from '../numeric/half.ts';
import { dequantizeInt4, int4BlockSize, int4Code, int4ExpertBlockSize, int4ZeroPoint, quantizeInt4 } from './int4-blocks.ts';
import { int4Experts, int4Linear, quantizeStream } from './matmul-nbits.ts';

const t = tempDir('int4');
/** Both implementations: the JS reference and WASM SIMD (which this machine's Node has). */
const kernels = ['js', 'wasm'] as const;
afterAll(t.cleanup);

function random(n: number, seed: number, scale = 1): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (rng.next() - 0.5) * scale);
}

/** y[m, n] = Σ_k x[m, k] · w[n, k], in float64. */
function matmulT(x: Float32Array, w: Float32Array, m: number, n: number, k: number): Float32Array {
  const y = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < k; c++) s += x[i * k + c]! * w[j * k + c]!;
      y[i * n + j] = s;
    }
  }
  return y;
}

describe('block-wise int4 packing', () => {
  test.each([
    ['asymmetric', false],
    ['symmetric', true],
  ])('%s: codes unpack to the plain per-element quantisation, and dequantise within half a step', (_, symmetric) => {
    const n = 5, k = 80; // 80 = 2 full blocks of 32 + a padded block of 16
    const w = random(n * k, 11, 2);
    const q = quantizeInt4(w, n, k, { symmetric });
    expect(q.blocks).toBe(3);
    expect(q.packed.length).toBe(n * 3 * 16);
    expect(q.scales.length).toBe(n * 3);
    expect(q.zeroPoints?.length).toBe(symmetric ? undefined : n * 2);
    const deq = dequantizeInt4(q);
    for (let row = 0; row < n; row++) {
      for (let col = 0; col < k; col++) {
        const b = Math.floor(col / 32);
        const scale = q.scales[row * 3 + b]!;
        const zp = int4ZeroPoint(q, row, b);
        // Plain dequantisation, written independently of the packing: nearest code, clamped.
        const expected = Math.min(15, Math.max(0, Math.round(w[row * k + col]! / scale) + zp));
        expect(int4Code(q, row, col)).toBe(expected);
        // Within half a step; symmetric blocks clip the far side of the block's peak at 7 steps.
        const clipped = symmetric && expected === 15;
        expect(Math.abs(deq[row * k + col]! - w[row * k + col]!)).toBeLessThanOrEqual(Math.abs(scale) * (clipped ? 1 : 0.5) + 1e-7);
      }
      // Padding in the last block dequantises to exactly zero.
      for (let col = k; col < 96; col++) expect(int4Code(q, row, col)).toBe(int4ZeroPoint(q, row, 2));
    }
    // Low nibble holds the even element.
    expect(q.packed[0]! & 0xf).toBe(int4Code(q, 0, 0));
    expect(q.packed[0]! >> 4).toBe(int4Code(q, 0, 1));
  });

  test("symmetric blocks survive onnxruntime's QMoE repacking unchanged: its rule (scale = the block's largest-magnitude value / −8) finds the same scale and codes", () => {
    const n = 4, k = 128;
    const w = random(n * k, 21, 3);
    w[5] = 2.9; // a block whose peak is positive: the scale is negative
    w[70] = -2.95; // …and one whose peak is negative
    const q = quantizeInt4(w, n, k, { symmetric: true, blockSize: 64 });
    expect(q.scales[0]!).toBeLessThan(0);
    expect(q.scales[1]!).toBeGreaterThan(0);
    const deq = dequantizeInt4(q);
    for (let row = 0; row < n; row++) {
      for (let b = 0; b < 2; b++) {
        // The repacking rule, written independently: peak by magnitude, scale = peak / −8,
        // codes round(v / scale) + 8 clamped to 0…15.
        const block = deq.subarray(row * k + b * 64, row * k + (b + 1) * 64);
        const peak = block.reduce((p, v) => (Math.abs(v) > Math.abs(p) ? v : p), 0);
        const scale = Math.fround(peak / -8);
        expect(scale).toBe(q.scales[row * 2 + b]);
        block.forEach((v, j) => expect(Math.min(15, Math.max(0, Math.round(v / scale) + 8))).toBe(int4Code(q, row, b * 64 + j)));
      }
    }
  });

  test('a QMoE block never spans a whole row (onnxruntime would read its scales as per-row)', () => {
    expect(int4ExpertBlockSize(2048, 1408)).toBe(64);
    expect(int4ExpertBlockSize(128, 64)).toBe(32);
    expect(int4ExpertBlockSize(64, 32)).toBe(32);
    expect(int4ExpertBlockSize(96, 64)).toBe(32);
  });

  test('every byte equals a plain per-element quantiser, in JS and in WASM, on awkward values too: ties between ±peak, half-way codes, NaN, ±Infinity, −0, tiny values, odd widths', () => {
    /** The quantiser as first written: element by element, Math.round, each nibble or-ed in. */
    function plain(w: Float32Array, n: number, k: number, blockSize: number, symmetric: boolean) {
      const blocks = Math.ceil(k / blockSize), blob = blockSize / 2, zpRow = Math.ceil(blocks / 2);
      const packed = new Uint8Array(n * blocks * blob), scales = new Float32Array(n * blocks), zps = new Uint8Array(n * zpRow);
      for (let row = 0; row < n; row++) {
        for (let b = 0; b < blocks; b++) {
          const start = row * k + b * blockSize, end = row * k + Math.min(k, (b + 1) * blockSize);
          let lo = 0, hi = 0, peak = 0;
          for (let i = start; i < end; i++) {
            lo = w[i]! < lo ? w[i]! : lo;
            hi = w[i]! > hi ? w[i]! : hi;
            if (Math.abs(w[i]!) > Math.abs(peak)) peak = w[i]!;
          }
          let scale = symmetric ? peak / -8 || 1 : hi - lo === 0 ? 1 : (hi - lo) / 15;
          const zp = symmetric ? 8 : Math.min(15, Math.max(0, Math.round(-lo / scale)));
          scale = Math.fround(scale);
          scales[row * blocks + b] = scale;
          zps[row * zpRow + (b >> 1)]! |= zp << ((b & 1) * 4);
          for (let j = 0; j < blockSize; j++) {
            const code = start + j < end ? Math.min(15, Math.max(0, Math.round(w[start + j]! / scale) + zp)) : zp;
            packed[(row * blocks + b) * blob + (j >> 1)]! |= code << ((j & 1) * 4);
          }
        }
      }
      return { packed, scales, zeroPoints: symmetric ? undefined : zps };
    }
    const rng = new SeededRandom(7);
    const awkward = [0.5, -0.5, 0.0625, -0.1875, 0.3125, NaN, Infinity, -Infinity, -0, 1e-45, -3e-45, 1e-40, 3e38, -3e38];
    for (let trial = 0; trial < 400; trial++) {
      const n = 1 + (trial % 3), k = [80, 64, 33, 17, 3, 1, 256, 200][trial % 8]!;
      const w = new Float32Array(n * k);
      for (let i = 0; i < w.length; i++) {
        const r = rng.next();
        w[i] = r < 0.3 ? awkward[Math.floor(rng.next() * (trial % 4 === 0 ? 5 : awkward.length))]! : (rng.next() - 0.5) * 3;
      }
      if (trial % 9 === 0) w.fill(0);
      for (const symmetric of [false, true]) {
        for (const blockSize of [16, 32, 64, 128]) {
          const expected = plain(w, n, k, blockSize, symmetric);
          for (const kernel of kernels) {
            const q = quantizeInt4(w, n, k, { symmetric, blockSize, kernel });
            expect(q.packed, kernel).toEqual(expected.packed);
            expect(q.scales, kernel).toEqual(expected.scales);
            expect(q.zeroPoints, kernel).toEqual(expected.zeroPoints);
          }
        }
      }
    }
  });

  test('the WASM kernel gives the JS bytes on matrices larger than its piece (whole rows a piece; a row longer than a piece), with sparse specials', () => {
    const rng = new SeededRandom(3);
    for (const [n, k] of [[70, 1000], [3, 70_000], [129, 513]] as const) {
      const w = random(n * k, n + k, 4);
      for (let i = 0; i < 200; i++) w[Math.floor(rng.next() * w.length)] = [NaN, Infinity, -Infinity, -0, 1e-45, 4, -4][i % 7]!;
      for (const symmetric of [false, true]) {
        for (const blockSize of [16, 64, 128]) {
          const js = quantizeInt4(w, n, k, { symmetric, blockSize, kernel: 'js' });
          const wasm = quantizeInt4(w, n, k, { symmetric, blockSize, kernel: 'wasm' });
          // The first differing byte (toEqual on arrays this long takes seconds).
          for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(wasm[part], js[part]), `${part}, block ${blockSize}, symmetric ${symmetric}`).toBe(-1);
        }
      }
    }
  });

  test('quantised as it streams, in chunks that split rows (shorter than a row, several rows, a row and a half), a matrix gets the bytes of quantizing it whole; a source of the wrong length is an error', async () => {
    const n = 9, k = 40;
    const w = random(n * k, 17, 3);
    const cuts = [0, 3, 7, 47, 120, 140, 300, n * k];
    const chunks = async function* (values: Float32Array) { for (let i = 1; i < cuts.length; i++) yield values.subarray(Math.min(cuts[i - 1]!, values.length), Math.min(cuts[i]!, values.length)); };
    for (const symmetric of [false, true]) {
      for (const kernel of kernels) {
        const whole = quantizeInt4(w, n, k, { symmetric, blockSize: 16, kernel: 'js' });
        const streamed = await quantizeStream(() => chunks(w), n, k, { symmetric, blockSize: 16, kernel }, 'w');
        for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(streamed[part], whole[part]), `${part}, ${kernel}`).toBe(-1);
      }
    }
    await expect(quantizeStream(() => chunks(w.subarray(0, n * k - 1)), n, k, {}, 'w')).rejects.toThrow(`w: source produced ${n * k - 1} values, expected ${n * k}`);
    const longer = new Float32Array(n * k + k);
    await expect(quantizeStream(async function* () { yield longer; }, n, k, {}, 'w')).rejects.toThrow(`w: source produced more than ${n * k} values`);
  });

  test('bf16 bit patterns quantise to the bytes of their fp32 widening, in JS and in WASM, whole and streamed in chunks that split rows (every bf16 pattern, NaNs and ±Infinity among them)', async () => {
    const [n, k] = [64, 1040]; // 66 560 values: every one of the 65 536 patterns, a piece's worth and more
    const bits = new Uint16Array(n * k);
    const rng = new SeededRandom(5);
    for (let i = 0; i < bits.length; i++) bits[i] = i < 65536 ? i : Math.floor(rng.next() * 65536);
    // Shuffled so that each block mixes magnitudes, as weights do (sorted patterns would make most blocks one binade).
    for (let i = bits.length - 1; i > 0; i--) {
      const j = Math.floor(rng.next() * (i + 1));
      [bits[i], bits[j]] = [bits[j]!, bits[i]!];
    }
    const widened = bfloat16ToFloat32(bits, 'js');
    const cuts = [0, 5, k - 3, 3 * k, 3 * k + 1, 40 * k + 17, n * k];
    for (const symmetric of [false, true]) {
      for (const blockSize of [16, 64]) {
        const expected = quantizeInt4(widened, n, k, { symmetric, blockSize, kernel: 'js' });
        for (const kernel of kernels) {
          const whole = quantizeInt4(bits, n, k, { symmetric, blockSize, kernel });
          const streamed = await quantizeStream(async function* () { for (let i = 1; i < cuts.length; i++) yield bits.subarray(cuts[i - 1]!, cuts[i]!); }, n, k, { symmetric, blockSize, kernel }, 'w');
          for (const part of ['packed', 'scales', 'zeroPoints'] as const) {
            expect(firstDifference(whole[part], expected[part]), `${part}, ${kernel}, block ${blockSize}, symmetric ${symmetric}`).toBe(-1);
            expect(firstDifference(streamed[part], expected[part]), `streamed ${part}, ${kernel}, block ${blockSize}, symmetric ${symmetric}`).toBe(-1);
          }
        }
      }
    }
  });

  test("a weight's arrays come from the thread's buffer pool, and reused memory changes no byte (zero points are cleared; codes and scales all written)", () => {
    const [n, k] = [6, 96];
    const w = random(n * k, 23, 2);
    for (const kernel of kernels) {
      const expected = quantizeInt4(w, n, k, { kernel });
      // Dirty buffers of each array's size, given back so that the next quantisation takes them.
      const dirty = [expected.packed.byteLength, expected.scales.byteLength, expected.zeroPoints!.byteLength].map((bytes) => new Uint8Array(takeBuffer(bytes)).fill(0xa5).buffer);
      for (const b of dirty) giveBackBuffer(b);
      const q = quantizeInt4(w, n, k, { kernel });
      expect([q.packed.buffer, q.scales.buffer, q.zeroPoints!.buffer].every((b, i) => b === dirty[i]), kernel).toBe(true);
      for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(q[part], expected[part]), `${part}, ${kernel}`).toBe(-1);
    }
  });

  test("a weight's arrays may be the front of larger pooled buffers (another weight's, dirty): the same bytes, and the writer's views give them back", () => {
    const [n, k] = [5, 160];
    const w = random(n * k, 29, 2);
    for (const kernel of kernels) {
      const expected = quantizeInt4(w, n, k, { kernel });
      // One byte more than each array: only these fit better than a fresh buffer.
      const dirty = [expected.packed.byteLength, expected.scales.byteLength, expected.zeroPoints!.byteLength].map((bytes) => new Uint8Array(takeBuffer(bytes + 1)).fill(0xa5).buffer);
      for (const b of dirty) giveBackBuffer(b);
      const q = quantizeInt4(w, n, k, { kernel });
      expect([q.packed.buffer, q.scales.buffer, q.zeroPoints!.buffer].every((b, i) => b === dirty[i]), kernel).toBe(true);
      for (const part of ['packed', 'scales', 'zeroPoints'] as const) expect(firstDifference(q[part], expected[part]), `${part}, ${kernel}`).toBe(-1);
      // What the writer does with each written array: given back, the next weight's arrays reuse them.
      for (const part of [q.packed, q.scales, q.zeroPoints!]) giveBackChunk(part);
      const again = quantizeInt4(w, n, k, { kernel });
      expect([again.packed.buffer, again.scales.buffer, again.zeroPoints!.buffer].every((b, i) => b === dirty[i]), kernel).toBe(true);
    }
  });

  test('dequantised block by block, every value is (code − zero point) × scale, as each is looked up alone (odd widths, both forms)', () => {
    for (const [n, k, blockSize] of [[5, 100, 16], [3, 64, 64], [4, 200, 64]] as const) {
      for (const symmetric of [false, true]) {
        const q = quantizeInt4(random(n * k, n * k + blockSize, 3), n, k, { symmetric, blockSize });
        const one = Float32Array.from({ length: n * k }, (_, i) => {
          const [row, col] = [Math.floor(i / k), i % k];
          const b = Math.floor(col / blockSize);
          return (int4Code(q, row, col) - int4ZeroPoint(q, row, b)) * q.scales[row * q.blocks + b]!;
        });
        expect(firstDifference(dequantizeInt4(q), one), `[${n}, ${k}], block ${blockSize}, symmetric ${symmetric}`).toBe(-1);
      }
    }
  });

  test('zero is exact and an all-zero block does not divide by zero', () => {
    const w = new Float32Array(64);
    w.set([0.5, -0.25, 0, 0.125], 32);
    const deq = dequantizeInt4(quantizeInt4(w, 1, 64));
    expect(Array.from(deq.subarray(0, 32))).toEqual(new Array(32).fill(0));
    expect(deq[34]).toBe(0);
    expect(maxAbsDiff(deq, w)).toBeLessThan(0.75 / 15);
  });
});

describe('int4 weights in onnxruntime', () => {
  test.each([
    ['asymmetric (zero points), K 112: block 32', false, 96 + 16, 32],
    ['symmetric (implicit zero point 8), K 112: block 32', true, 96 + 16, 32],
    ['asymmetric (zero points), K 192: block 64', false, 192, 64],
    ['symmetric (implicit zero point 8), K 192: block 64', true, 192, 64],
  ])('MatMulNBits %s equals a plain matmul on the dequantised weights to 1e-5', async (label, symmetric, k, blockSize) => {
    const m = 3, n = 7;
    expect(int4BlockSize(k)).toBe(blockSize);
    const w = random(n * k, 5);
    const g = new GraphBuilder();
    const x = g.input('x', DataType.FLOAT, [m, k]);
    const linear = int4Linear(g, 'proj', n, k, async function* () { yield w.subarray(0, 5); yield w.subarray(5, 3 * k + 7); yield w.subarray(3 * k + 7); }, { symmetric, accuracyLevel: 0 }); // fp32 compute: the layout alone
    g.output(linear(x, 'y'), DataType.FLOAT, [m, n]);
    const written = await writeModel(g, t.dir, `nbits-${symmetric}-${k}`);
    const session = await openSession(written.modelFile);
    const xv = random(m * k, 9);
    const { y } = await session.run({ x: { type: 'float32', data: xv, dims: [m, k] } });
    await session.release();
    const expected = matmulT(xv, dequantizeInt4(quantizeInt4(w, n, k, { symmetric, blockSize })), m, n, k);
    expect(y!.dims).toEqual([m, n]);
    const diff = maxAbsDiff(y!.data as Float32Array, expected);
    expect(diff, label).toBeLessThan(1e-5);
    // …and it is a real approximation of the original weights, not just self-consistent.
    expect(maxAbsDiff(y!.data as Float32Array, matmulT(xv, w, m, n, k))).toBeLessThan(0.5);
  });

  test.each([
    [32, 64, 32],
    [32, 128, 64],
    [64, 256, 128],
  ])('QMoE with 4-bit experts in blocks of %i (hidden %i, intermediate %i) equals the experts computed on dequantised weights to 1e-5', async (blockSize, D, I) => {
    const E = 4, T = 3, K = 2;
    expect(int4ExpertBlockSize(D, I)).toBe(blockSize);
    const gate = Array.from({ length: E }, (_, e) => random(I * D, 100 + e));
    const up = Array.from({ length: E }, (_, e) => random(I * D, 200 + e));
    const down = Array.from({ length: E }, (_, e) => random(D * I, 300 + e));
    const fc1 = Array.from({ length: E }, (_, e) => {
      const o = new Float32Array(2 * I * D);
      for (let i = 0; i < I; i++) {
        o.set(gate[e]!.subarray(i * D, (i + 1) * D), 2 * i * D);
        o.set(up[e]!.subarray(i * D, (i + 1) * D), (2 * i + 1) * D);
      }
      return o;
    });
    const g = new GraphBuilder();
    const x = g.input('x', DataType.FLOAT, [T, D]);
    const r = g.input('router', DataType.FLOAT, [T, E]);
    const [w1, s1] = int4Experts(g, 'fc1', E, 2 * I, D, async function* () { yield* fc1; }, blockSize);
    const [w2, s2] = int4Experts(g, 'fc2', E, D, I, async function* () { yield* down; }, blockSize);
    const y = g.op('QMoE', [x, r, w1, s1, '', w2, s2], 'moe', [
      attr.int('k', K), attr.int('expert_weight_bits', 4), attr.int('block_size', blockSize), attr.string('activation_type', 'swiglu'),
      attr.int('swiglu_fusion', 1), attr.int('normalize_routing_weights', 1), attr.float('activation_alpha', 1), attr.float('activation_beta', 0), attr.float('swiglu_limit', 3.4e38),
    ], 'com.microsoft');
    g.output(y, DataType.FLOAT, [T, D]);
    const written = await writeModel(g, t.dir, `qmoe-${blockSize}`);
    const session = await openSession(written.modelFile);
    const xv = random(T * D, 1);
    const chosen = [[0, 2], [3, 1], [1, 2]];
    const weights = [[0.3, 0.7], [0.6, 0.4], [0.5, 0.5]];
    const router = new Float32Array(T * E).fill(-Infinity);
    chosen.forEach((c, tok) => c.forEach((e, j) => (router[tok * E + e] = Math.log(weights[tok]![j]!))));
    const out = await session.run({ x: { type: 'float32', data: xv, dims: [T, D] }, router: { type: 'float32', data: router, dims: [T, E] } });
    await session.release();
    // The scales are stored in fp16 (int4Experts); the activations here stay fp32, which the CPU kernel takes.
    const dq = (w: Float32Array, n: number, k: number) => {
      const q = quantizeInt4(w, n, k, { symmetric: true, blockSize });
      return dequantizeInt4({ ...q, scales: float16ToFloat32(float32ToFloat16(q.scales)) });
    };
    const expected = new Float32Array(T * D);
    for (let tok = 0; tok < T; tok++) {
      const xt = xv.subarray(tok * D, (tok + 1) * D);
      chosen[tok]!.forEach((e, j) => {
        const h = matmulT(xt, dq(fc1[e]!, 2 * I, D), 1, 2 * I, D);
        const act = Float32Array.from({ length: I }, (_, i) => (h[2 * i]! / (1 + Math.exp(-h[2 * i]!))) * h[2 * i + 1]!);
        const o = matmulT(act, dq(down[e]!, D, I), 1, D, I);
        for (let d = 0; d < D; d++) expected[tok * D + d]! += weights[tok]![j]! * o[d]!;
      });
    }
    expect(maxAbsDiff(out.moe!.data as Float32Array, expected)).toBeLessThan(1e-5);
  });
});
