import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { maxAbsDiff } from '../../test/harness/floats.ts';
import { SeededRandom } from '../numeric/random.ts';
import { float16ToFloat32, float32ToFloat16 } from '../numeric/half.ts';
import { giveBackBuffer, takeBuffer } from '../checkpoint/buffers.ts';
import { openSession } from './backend.ts';
import { GraphBuilder, attr } from './graph-builder.ts';
import { encodeChunk, writeModel } from './model-writer.ts';
import { spanOfValues } from '../checkpoint/bf16-span.ts';
import { widenSpanInKernelMemory } from '../wasm/kernels.ts';
import { DataType } from './onnx-proto.ts';
import { checkWeightsFile } from './piece-hashes.ts';

const t = tempDir('onnx');
afterAll(t.cleanup);

describe('hand-written ONNX protobuf with external data', () => {
  test('com.microsoft.MoE with interleaved SwiGLU reproduces chosen experts and weights (fp32 and fp16 weights)', async () => {
    const E = 4, H = 8, I = 3, T = 2;
    const rng = new SeededRandom(7);
    const rand = (n: number) => Float32Array.from({ length: n }, () => rng.next() - 0.5);
    const gate = Array.from({ length: E }, () => rand(I * H));
    const up = Array.from({ length: E }, () => rand(I * H));
    const down = Array.from({ length: E }, () => rand(H * I));
    for (const dataType of [DataType.FLOAT, DataType.FLOAT16]) {
      const g = new GraphBuilder();
      const x = g.input('x', DataType.FLOAT, [T, H]);
      const r = g.input('router', DataType.FLOAT, [T, E]);
      const fc1 = g.weight({
        name: 'fc1', dims: [E, 2 * I, H], dataType,
        produce: async function* () {
          for (let e = 0; e < E; e++) {
            const o = new Float32Array(2 * I * H);
            for (let i = 0; i < I; i++) {
              o.set(gate[e]!.subarray(i * H, i * H + H), 2 * i * H);
              o.set(up[e]!.subarray(i * H, i * H + H), (2 * i + 1) * H);
            }
            yield o;
          }
        },
      });
      const fc2 = g.weight({ name: 'fc2', dims: [E, H, I], dataType, produce: async function* () { yield* down; } });
      const toW = dataType === DataType.FLOAT ? [fc1, fc2] : [g.op('Cast', [fc1], 'fc1.f32', [attr.int('to', DataType.FLOAT)]), g.op('Cast', [fc2], 'fc2.f32', [attr.int('to', DataType.FLOAT)])];
      const y = g.op('MoE', [x, r, toW[0]!, '', toW[1]!], 'moe', [attr.int('k', 2), attr.string('activation_type', 'swiglu'), attr.int('swiglu_fusion', 1), attr.int('normalize_routing_weights', 1), attr.float('activation_alpha', 1), attr.float('activation_beta', 0), attr.float('swiglu_limit', 3.4e38)], 'com.microsoft');
      g.output(y, DataType.FLOAT, [T, H]);
      const written = await writeModel(g, t.dir, `moe-${dataType}`);
      expect(written.dataBytes).toBeGreaterThanOrEqual(4096);
      expect(await checkWeightsFile(written.dataFile, { file: 'data', bytes: written.dataBytes, pieces: written.dataPieces })).toEqual([]);
      const session = await openSession(written.modelFile);
      const xv = rand(T * H);
      const weights = [[0.3, 0.7], [0.6, 0.4]];
      const chosen = [[1, 3], [0, 2]];
      const router = new Float32Array(T * E).fill(-Infinity);
      for (let i = 0; i < T; i++) for (let k = 0; k < 2; k++) router[i * E + chosen[i]![k]!] = Math.log(weights[i]![k]!);
      const out = await session.run({ x: { type: 'float32', data: xv, dims: [T, H] }, router: { type: 'float32', data: router, dims: [T, E] } });
      await session.release();
      const q = (a: Float32Array) => (dataType === DataType.FLOAT ? a : float16ToFloat32(float32ToFloat16(a)));
      const silu = (v: number) => v / (1 + Math.exp(-v));
      const expected = new Float32Array(T * H);
      for (let i = 0; i < T; i++) {
        for (let k = 0; k < 2; k++) {
          const e = chosen[i]![k]!;
          const [ge, ue, de] = [q(gate[e]!), q(up[e]!), q(down[e]!)];
          const act = new Float32Array(I);
          for (let j = 0; j < I; j++) {
            let gs = 0, us = 0;
            for (let h = 0; h < H; h++) {
              gs += ge[j * H + h]! * xv[i * H + h]!;
              us += ue[j * H + h]! * xv[i * H + h]!;
            }
            act[j] = silu(gs) * us;
          }
          for (let h = 0; h < H; h++) {
            let s = 0;
            for (let j = 0; j < I; j++) s += de[h * I + j]! * act[j]!;
            expected[i * H + h]! += weights[i]![k]! * s;
          }
        }
      }
      expect(maxAbsDiff(out.moe!.data as Float32Array, expected)).toBeLessThan(1e-6);
    }
  });


  test('a chunk written on this thread is given back: the next buffer of its size reuses its memory (a view into a larger buffer is not)', async () => {
    const dir = join(t.dir, 'give-back');
    mkdirSync(dir);
    const whole = new Float32Array(takeBuffer(4 * 1000));
    const shared = new Float32Array(takeBuffer(4 * 2000));
    const g = new GraphBuilder();
    g.weight({ name: 'whole', dims: [1000], dataType: DataType.FLOAT, produce: async function* () { yield whole; } });
    g.weight({ name: 'view', dims: [1000], dataType: DataType.FLOAT, produce: async function* () { yield shared.subarray(0, 1000); } });
    await writeModel(g, dir, 'model');
    expect(takeBuffer(4 * 1000) === whole.buffer).toBe(true);
    expect(takeBuffer(4 * 2000) === shared.buffer).toBe(false);
  });

  test('an fp16 weight narrows into a pooled buffer, given back once written with its fp32 chunk', async () => {
    const dir = join(t.dir, 'give-back-fp16');
    mkdirSync(dir);
    const values = Float32Array.from({ length: 1500 }, (_, i) => i / 7);
    const chunk = new Float32Array(takeBuffer(4 * 1500));
    chunk.set(values);
    // A used buffer of the fp16 size, waiting in this thread's pool: the narrowing takes it.
    const pooled = takeBuffer(2 * 1500);
    giveBackBuffer(pooled);
    const g = new GraphBuilder();
    g.weight({ name: 'half', dims: [1500], dataType: DataType.FLOAT16, produce: async function* () { yield chunk; } });
    const written = await writeModel(g, dir, 'model');
    const half = takeBuffer(2 * 1500);
    // The pooled buffer, narrowed into and given back, holding what the file holds.
    expect(half === pooled).toBe(true);
    expect(Buffer.from(half).equals(readFileSync(written.dataFile))).toBe(true);
    expect(Buffer.from(half).equals(Buffer.from(float32ToFloat16(values).buffer))).toBe(true);
    expect(takeBuffer(4 * 1500) === chunk.buffer).toBe(true);
  });

  test('a weight that fails or comes out the wrong size leaves no partial files behind', async () => {
    const dir = join(t.dir, 'failing');
    mkdirSync(dir);
    const g = new GraphBuilder();
    g.weight({ name: 'ok', dims: [4], dataType: DataType.FLOAT, produce: async function* () { yield new Float32Array(4); } });
    g.weight({ name: 'short', dims: [8], dataType: DataType.FLOAT, produce: async function* () { yield new Float32Array(5); } });
    await expect(writeModel(g, dir, 'broken')).rejects.toThrow('weight short: produced 20 bytes, expected 32 for shape [8]');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('chunks made in the kernel memory', () => {
  test('a chunk is written while it is current, and refused once another kernel call has used the memory under it', () => {
    const spec = { name: 'w', dims: [64], dataType: DataType.FLOAT, produce: async function* () {} };
    const bf16 = Uint16Array.from({ length: 64 }, (_, i) => 0x3f80 + i); // 1, 1.0078125, …
    const chunk = widenSpanInKernelMemory(spanOfValues(bf16), 0, 64)!;
    expect(new Float32Array(encodeChunk(spec, chunk).buffer, chunk.byteOffset, 2)).toEqual(Float32Array.from([1, 1.0078125]));
    // Another conversion on this thread reuses the kernel memory under the chunk.
    float32ToFloat16(Float32Array.from({ length: 64 }, () => 7), 'wasm');
    expect(() => encodeChunk(spec, chunk)).toThrow(/overwritten by another kernel call before it was written/);
    // A chunk made after it is current again.
    expect(() => encodeChunk(spec, widenSpanInKernelMemory(spanOfValues(bf16), 0, 64)!)).not.toThrow();
  });
});
