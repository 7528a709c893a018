import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tinyCheckpoint } from '../../../../test/harness/tiny-checkpoint.ts';
import { HfCheckpoint, readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import type { WeightSpec } from '../../../onnx/graph-builder.ts';
import { DataType } from '../../../onnx/onnx-proto.ts';
import { isKernelMemory, kernelFor } from '../../../wasm/kernels.ts';
import { parseKimiVLConfig } from '../configuration.ts';
import { buildImportGraph } from './import-graphs.ts';

const ckpt = tinyCheckpoint({ dtype: 'bf16', shards: 2, seed: 5 });
const config = parseKimiVLConfig(readJsonFile(join(ckpt.dir, 'config.json'), 'config.json'));
const hf = HfCheckpoint.open(ckpt.dir);
afterAll(() => {
  hf.close();
  ckpt.cleanup();
});

/**
 * A weight's bytes as a writer takes them: each chunk used (here hashed) as soon as it is
 * yielded, before the next is asked for, as the weights writers write and hash it.
 */
async function consumed(chunks: AsyncIterable<Float32Array | Uint8Array>, seen?: { inKernelMemory: number; chunks: number }): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of chunks) {
    if (seen) {
      seen.chunks++;
      if (isKernelMemory(chunk.buffer)) seen.inKernelMemory++;
    }
    hash.update(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    bytes += chunk.byteLength;
  }
  // Compared as a hash: a deep equality over tens of MB runs for minutes.
  return `${bytes} bytes, SHA-256 ${hash.digest('hex')}`;
}

describe('fp32 weights widened in the kernel memory', () => {
  test('every fp32 weight, whole and in row ranges, has the bytes of its source read and widened the usual way, chunk after chunk', async () => {
    expect(kernelFor()).toBe('wasm');
    const text = { kind: 'text', options: { precision: 'fp32' } } as const;
    // Chunks of 1000 values: several per weight, most ending inside a row, each overwriting the last.
    const fast = buildImportGraph(hf, config, text, { widenValues: 1000 }).weights;
    const reference = buildImportGraph(hf, config, text, { inKernelMemory: false }).weights;
    expect(fast.map((w) => w.name)).toEqual(reference.map((w) => w.name));
    const seen = { inKernelMemory: 0, chunks: 0 };
    let checked = 0;
    for (const [i, spec] of fast.entries()) {
      const ref: WeightSpec = reference[i]!;
      expect(await consumed(spec.produce(), seen), spec.name).toEqual(await consumed(ref.produce()));
      if (spec.rows && spec.dataType === DataType.FLOAT) {
        const rows = spec.dims[0]!;
        const cut = Math.max(1, Math.floor(rows / 3));
        expect(await consumed(spec.rows(cut, rows), seen), `${spec.name} rows ${cut}–${rows}`).toEqual(await consumed(ref.rows!(cut, rows)));
        checked++;
      }
    }
    // The embedding, lm_head and the experts at least took the new path, in many chunks.
    expect(checked).toBeGreaterThanOrEqual(3);
    expect(seen.inKernelMemory).toBeGreaterThan(2 * checked);
  });
});
