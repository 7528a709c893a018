import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { openSession } from '../onnx/backend.ts';
import { GraphBuilder } from '../onnx/graph-builder.ts';
import { writeModel } from '../onnx/model-writer.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { SeededRandom } from '../numeric/random.ts';
import { dequantizeInt4, quantizeInt4 } from './int4-blocks.ts';
import { embeddingBlockSize, int4Embedding } from './int4-embedding.ts';

const t = tempDir('int4-embedding');
afterAll(t.cleanup);

const ROWS = 50;
const WIDTH = 96; // 3 blocks of 32 would be odd, so it is 6 blocks of 16
const BLOCK = 16;
const table = (() => {
  const rng = new SeededRandom(7);
  return Float32Array.from({ length: ROWS * WIDTH }, () => (rng.next() - 0.4) * 3);
})();

async function lookupModel(dir: string, idsShape: (number | string)[]) {
  const g = new GraphBuilder();
  const ids = g.input('ids', DataType.INT64, idsShape);
  // Uneven chunks: rows are quantised as they complete, whatever the chunking.
  const gather = int4Embedding(g, 'embed', ROWS, WIDTH, async function* () {
    yield table.subarray(0, 7);
    yield table.subarray(7, 5 * WIDTH + 3);
    yield table.subarray(5 * WIDTH + 3);
  });
  g.output(gather(ids, 'rows'), DataType.FLOAT);
  mkdirSync(dir);
  const written = await writeModel(g, dir, 'embedding');
  return { graph: g, written, session: await openSession(written.modelFile) };
}

describe('int4 embedding (GatherBlockQuantized)', () => {
  test('gathered rows equal the block-wise dequantised table exactly, for flat and batched ids', async () => {
    const expected = dequantizeInt4(quantizeInt4(table, ROWS, WIDTH, { blockSize: BLOCK, symmetric: false }));
    const { session } = await lookupModel(join(t.dir, 'flat'), ['n']);
    const { session: batched } = await lookupModel(join(t.dir, 'batched'), [1, 'n']);
    try {
      const ids = [3, 7, 49, 0, 3];
      const flat = (await session.run({ ids: { type: 'int64', data: BigInt64Array.from(ids.map(BigInt)), dims: [ids.length] } })).rows!;
      expect(flat.dims).toEqual([ids.length, WIDTH]);
      const want = new Float32Array(ids.length * WIDTH);
      ids.forEach((row, i) => want.set(expected.subarray(row * WIDTH, (row + 1) * WIDTH), i * WIDTH));
      expect(flat.data).toEqual(want);
      const two = (await batched.run({ ids: { type: 'int64', data: BigInt64Array.from([49n, 1n]), dims: [1, 2] } })).rows!;
      expect(two.dims).toEqual([1, 2, WIDTH]);
      expect(Array.from(two.data as Float32Array)).toEqual([...expected.subarray(49 * WIDTH, 50 * WIDTH), ...expected.subarray(WIDTH, 2 * WIDTH)]);
      // It is a quantised table: close to the fp32 one, not equal.
      const err = Array.from(want).map((v, i) => Math.abs(v - table[ids[Math.floor(i / WIDTH)]! * WIDTH + (i % WIDTH)]!));
      expect(Math.max(...err)).toBeGreaterThan(0);
      expect(Math.max(...err)).toBeLessThan(3 / 15);
    } finally {
      await session.release();
      await batched.release();
    }
  });

  test('blocks: the largest of 64, 32, 16 giving an even count per row (the zero points then fill whole bytes, as WebGPU reads them)', () => {
    expect(embeddingBlockSize(2048)).toBe(64); // Kimi-VL-A3B: 32 blocks
    expect(embeddingBlockSize(64)).toBe(32); // the tiny test checkpoint: 2 blocks, not 1 of 64
    expect(embeddingBlockSize(WIDTH)).toBe(BLOCK);
    expect(embeddingBlockSize(40)).toBeUndefined();
  });

  test('stores 4-bit codes, one fp32 scale and one 4-bit zero point per 16 values', async () => {
    const { graph, written, session } = await lookupModel(join(t.dir, 'sizes'), ['n']);
    await session.release();
    expect(graph.weights.map((w) => [w.name, w.dims])).toEqual([
      ['embed.weight_q4', [ROWS, WIDTH / 2]],
      ['embed.weight_scales', [ROWS, 6]],
      ['embed.weight_zero_points', [ROWS, 3]],
    ]);
    const packed = ROWS * (WIDTH / 2) + ROWS * 6 * 4 + ROWS * 3;
    expect(written.dataBytes).toBeGreaterThanOrEqual(packed);
    expect(written.dataBytes).toBeLessThan(packed + 3 * 4096);
  });

  test('a row width that cannot be cut into an even number of blocks is refused', () => {
    expect(() => int4Embedding(new GraphBuilder(), 'embed', 4, 40, async function* () {})).toThrow(/^embed: an int4 embedding needs a row width that is a multiple of 32 \(an even number of blocks of 16 or more\); this one is 40$/);
  });
});
