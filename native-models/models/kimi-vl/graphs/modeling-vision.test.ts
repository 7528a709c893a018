import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HfCheckpoint, readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { encodePng, noise } from '../../../../test/fixtures/images/png.ts';
import { maxAbsDiff } from '../../../../test/harness/floats.ts';
import { tinyCheckpoint, tempDir } from '../../../../test/harness/tiny-checkpoint.ts';
import { parseKimiVLConfig, type KimiVLConfig } from '../configuration.ts';
import { processImages } from '../processing/image-processing.ts';
import { checkVisionTensors, writeVisionModel } from '../import/import-vision.ts';
import { VisionEncoder } from '../runtime/vision-session.ts';
import { visionFeaturesReference } from '../testing/vision-reference.ts';

const rgb = (width: number, height: number, seed: number) => encodePng({ width, height, colour: 'rgb', samples: noise(width * height * 3, seed) });
const configOf = (dir: string) => parseKimiVLConfig(readJsonFile(join(dir, 'config.json'), 'config.json'));

describe('MoonViT + projector ONNX graph on the tiny checkpoint (fp32)', () => {
  const ckptDir = tinyCheckpoint({ dtype: 'fp32' });
  const out = tempDir('vision');
  let ckpt: HfCheckpoint;
  let config: KimiVLConfig;
  let encoder: VisionEncoder;

  beforeAll(async () => {
    ckpt = HfCheckpoint.open(ckptDir.dir);
    config = configOf(ckptDir.dir);
    const written = await writeVisionModel(ckpt, config, out.dir, 'fp32');
    encoder = await VisionEncoder.open(written.modelFile, config.vision);
  });
  afterAll(async () => {
    await encoder?.release();
    ckpt?.close();
    ckptDir.cleanup();
    out.cleanup();
  });

  it('matches the TypeScript reference to 1e-4 on three images (grids below, at and above the 8×8 table)', async () => {
    // 60×30 → grid 4×6; 100×130 → 10×8; 20×20 → 2×2.
    const images = await processImages([rgb(60, 30, 1), rgb(100, 130, 2), rgb(20, 20, 3)]);
    expect(images.gridHws).toEqual([[4, 6], [10, 8], [2, 2]]);
    const features = await encoder.encode(images);
    const reference = visionFeaturesReference(config.vision, (name) => ckpt.read(name), images.pixelValues, images.gridHws, config.text.hiddenSize);
    expect(features.length).toBe((6 + 20 + 1) * config.text.hiddenSize);
    expect(maxAbsDiff(features, reference)).toBeLessThan(1e-4);
    // Features of order 1, so the tolerance is meaningful (tanh vs erf GELU in the blocks differs by 5e-4).
    expect(maxAbsDiff(reference, new Float32Array(reference.length))).toBeGreaterThan(0.1);
  });

  it('gives each image the same features alone as in company', async () => {
    const hidden = config.text.hiddenSize;
    const together = await encoder.encode(await processImages([rgb(60, 30, 1), rgb(20, 20, 3)]));
    const single = await encoder.encode(await processImages([rgb(20, 20, 3)]));
    expect(maxAbsDiff(together.subarray(6 * hidden), single)).toBe(0);
  });
});

describe('MoonViT + projector with fp16 matrices (fp16 and int4 imports)', () => {
  const ckptDir = tinyCheckpoint({ dtype: 'fp32' });
  const out = tempDir('vision-fp16');
  let ckpt: HfCheckpoint;
  let config: KimiVLConfig;
  let half: VisionEncoder;
  let full: VisionEncoder;
  let sizes: { half: number; full: number };

  beforeAll(async () => {
    ckpt = HfCheckpoint.open(ckptDir.dir);
    config = configOf(ckptDir.dir);
    for (const sub of ['fp16', 'fp32']) mkdirSync(join(out.dir, sub));
    const h = await writeVisionModel(ckpt, config, join(out.dir, 'fp16'), 'fp16');
    const f = await writeVisionModel(ckpt, config, join(out.dir, 'fp32'), 'fp32');
    sizes = { half: statSync(`${h.modelFile}.data`).size, full: statSync(`${f.modelFile}.data`).size };
    half = await VisionEncoder.open(h.modelFile, config.vision);
    full = await VisionEncoder.open(f.modelFile, config.vision);
  });
  afterAll(async () => {
    await half?.release();
    await full?.release();
    ckpt?.close();
    ckptDir.cleanup();
    out.cleanup();
  });

  it('stores the matrices in fp16: the weights file is well under fp32\'s', () => {
    // Norms stay fp32 and every weight is page-aligned, so the tiny model saves less than half.
    console.log(`tiny vision weights: fp16 ${sizes.half} B, fp32 ${sizes.full} B (${(sizes.half / sizes.full).toFixed(2)}×)`);
    expect(sizes.half).toBeLessThan(sizes.full * 0.75);
  });

  it('stays within fp16 rounding of the fp32 reference on three images, and is not the fp32 graph', async () => {
    const images = await processImages([rgb(60, 30, 1), rgb(100, 130, 2), rgb(20, 20, 3)]);
    const features = await half.encode(images);
    const exact = await full.encode(images);
    const reference = visionFeaturesReference(config.vision, (name) => ckpt.read(name), images.pixelValues, images.gridHws, config.text.hiddenSize);
    const scale = reference.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    const drift = maxAbsDiff(features, reference);
    console.log(`fp16 vision features: max |Δ| ${drift.toExponential(2)} against the fp32 reference (${(drift / scale).toExponential(2)} of max |feature| ${scale.toFixed(2)}); fp32 graph ${maxAbsDiff(exact, reference).toExponential(2)}`);
    expect(features.length).toBe(reference.length);
    expect(drift / scale).toBeLessThan(5e-3);
    // fp16 rounding is visible: the fp32 graph is within 1e-4, this one is not bit-for-bit the same.
    expect(maxAbsDiff(features, exact)).toBeGreaterThan(1e-6);
  });
});

describe('checkpoints without a usable vision tower', () => {
  it('refuses a text-only checkpoint, naming missing vision tensors', () => {
    const t = tinyCheckpoint({ dtype: 'fp32', shards: 2 });
    try {
      const indexFile = join(t.dir, 'model.safetensors.index.json');
      const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> };
      for (const name of Object.keys(index.weight_map)) if (!name.startsWith('language_model.')) delete index.weight_map[name];
      writeFileSync(indexFile, JSON.stringify(index));
      const ckpt = HfCheckpoint.open(t.dir);
      try {
        expect(() => checkVisionTensors(ckpt, configOf(t.dir))).toThrow(
          /has no vision tower: 35 of 35 vision tensors are missing \(vision_tower\.patch_embed\.proj\.weight, .* and 32 more\); import a full Kimi-VL checkpoint/,
        );
      } finally {
        ckpt.close();
      }
    } finally {
      t.cleanup();
    }
  });

  it('refuses vision tensors whose shapes disagree with config.json', () => {
    const t = tinyCheckpoint({ dtype: 'fp32' });
    try {
      const ckpt = HfCheckpoint.open(t.dir);
      try {
        const config = configOf(t.dir);
        const wrong = { ...config, vision: { ...config.vision, intermediateSize: 40 } };
        expect(() => checkVisionTensors(ckpt, wrong)).toThrow(/blocks\.0\.mlp\.fc0\.weight has shape \[48, 32\], expected \[40, 32\]/);
      } finally {
        ckpt.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
