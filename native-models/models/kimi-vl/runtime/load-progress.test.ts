import { cpSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tinyCheckpoint, tempDir } from '../../../../test/harness/tiny-checkpoint.ts';
import { CheckpointError } from '../../../checkpoint/errors.ts';
import { DeviceUnavailableError } from '../../../onnx/backend.ts';
import { importKimiVL } from '../import/import-checkpoint.ts';
import { type ModelManifest } from '../manifest.ts';
import type { LoadProgress } from './load-progress.ts';
import { KimiVLLocalModel } from './local-model.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const ckpt = tinyCheckpoint({ seed: 17 });
const out = tempDir('load-progress');
const dir = join(out.dir, 'm');
let manifest: ModelManifest;
let weightBytes: number;

beforeAll(async () => {
  manifest = await importKimiVL({ source: ckpt.dir, out: dir });
  weightBytes = manifest.text.weights.bytes + manifest.vision.weights.bytes;
});
afterAll(() => {
  ckpt.cleanup();
  out.cleanup();
});

async function loadWithProgress(folder: string, opts: Parameters<typeof KimiVLLocalModel.load>[1] = {}): Promise<{ model: KimiVLLocalModel; seen: LoadProgress[] }> {
  const seen: LoadProgress[] = [];
  const model = await KimiVLLocalModel.load(folder, { ...opts, onProgress: (p) => seen.push(p) });
  return { model, seen };
}

function expectMonotonicToTotal(seen: readonly LoadProgress[]): void {
  for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
  expect(seen.every((p) => p.total === weightBytes)).toBe(true);
  expect(seen.at(-1)).toMatchObject({ phase: 'ready', done: weightBytes, total: weightBytes, indeterminate: false });
  expect(seen.at(-1)!.detail).toMatch(/^loaded in \d+\.\d s$/);
}

/** Consecutive duplicates collapsed: the order the phases came in. */
const phases = (seen: readonly LoadProgress[]) => seen.map((p) => p.phase).filter((p, i, all) => p !== all[i - 1]);

describe('loading reports progress', () => {
  test('reads each model\'s weights ahead in chunks with byte counts before naming its session and the device, and ends at the manifest weight bytes', async () => {
    const { model, seen } = await loadWithProgress(dir, { readAhead: { chunkBytes: 64 << 10 } });
    try {
      // The small vision model first, so a device that cannot start fails before the big read.
      expect(phases(seen)).toEqual(['weights', 'vision', 'weights', 'text', 'ready']);
      const weights = seen.filter((p) => p.phase === 'weights');
      expect(weights[0]).toMatchObject({ done: 0, indeterminate: false, detail: `reading ${(weightBytes / 1e9).toFixed(2)} GB of weights` });
      expect(weights.length).toBe(1 + Math.ceil(manifest.vision.weights.bytes / (64 << 10)) + Math.ceil(manifest.text.weights.bytes / (64 << 10)));
      expect(seen.find((p) => p.phase === 'vision')).toMatchObject({ indeterminate: true, done: manifest.vision.weights.bytes, detail: 'creating the vision session on the CPU' });
      expect(weights.at(-1)).toMatchObject({ done: weightBytes, detail: 'text-model.onnx.data' });
      expect(weights.filter((p) => p.detail === 'vision-model.onnx.data')).toHaveLength(Math.ceil(manifest.vision.weights.bytes / (64 << 10)));
      expect(seen.find((p) => p.phase === 'text')).toMatchObject({ indeterminate: true, done: weightBytes, detail: 'creating the language model session on the CPU' });
      expectMonotonicToTotal(seen);
      // The loaded model works.
      const { logits } = await model.logits([{ role: 'user', content: 'hi' }]);
      expect(logits.length).toBe(manifest.text.vocabSize);
    } finally {
      await model.release();
    }
  });

  test('weights too big for memory are not read ahead, and the progress says so', async () => {
    const { model, seen } = await loadWithProgress(dir, { readAhead: { memoryBytes: weightBytes } });
    await model.release();
    expect(phases(seen)).toEqual(['weights', 'vision', 'text', 'ready']);
    expect(seen[0]).toMatchObject({ phase: 'weights', done: 0, indeterminate: true });
    expect(seen[0]!.detail).toMatch(/^not reading ahead: .* of weights is over 80% of this machine's .* of memory, so onnxruntime reads them as it maps them$/);
    expect(seen.filter((p) => p.phase === 'weights')).toHaveLength(1);
    expect(seen.find((p) => p.phase === 'text')!.done).toBe(0);
    expectMonotonicToTotal(seen);
  });

  test('a device that cannot start fails after the small vision read, before the language model\'s weights are read', async () => {
    const seen: LoadProgress[] = [];
    // No CUDA provider libraries on this machine (serve-device.test.ts pins that down).
    await expect(KimiVLLocalModel.load(dir, { device: 'cuda', onProgress: (p) => seen.push(p) })).rejects.toThrow(DeviceUnavailableError);
    expect(phases(seen)).toEqual(['weights', 'vision']);
    expect(seen.at(-1)).toMatchObject({ phase: 'vision', done: manifest.vision.weights.bytes, detail: 'creating the vision session on CUDA' });
  });

  test('an abort during the read-ahead stops the load before any session is created', async () => {
    const controller = new AbortController();
    const seen: LoadProgress[] = [];
    const load = KimiVLLocalModel.load(dir, {
      readAhead: { chunkBytes: 64 << 10 },
      signal: controller.signal,
      onProgress: (p) => {
        seen.push(p);
        if (seen.length === 3) controller.abort();
      },
    });
    await expect(load).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toHaveLength(3);
    expect(phases(seen)).toEqual(['weights']);
  });

  test('a broken tokenizer or a truncated weight file is refused before anything is reported, read or opened', async () => {
    const damaged = join(out.dir, 'damaged');
    cpSync(dir, damaged, { recursive: true });
    truncateSync(join(damaged, manifest.vision.weights.file), 100);
    const seen: LoadProgress[] = [];
    const load = KimiVLLocalModel.load(damaged, { onProgress: (p) => seen.push(p) });
    await expect(load).rejects.toThrow(CheckpointError);
    await expect(load).rejects.toThrow(/vision-model\.onnx\.data is 100 bytes but the manifest records \d+; .*re-run `kestrel model import`/);
    expect(seen).toEqual([]);
    cpSync(dir, damaged, { recursive: true });
    writeFileSync(join(damaged, 'tokenizer_config.json'), '{');
    await expect(KimiVLLocalModel.load(damaged, { onProgress: (p) => seen.push(p) })).rejects.toThrow(/tokenizer_config\.json is not valid JSON/);
    expect(seen).toEqual([]);
  });
});
