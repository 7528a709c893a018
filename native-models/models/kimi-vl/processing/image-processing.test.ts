import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it, vi } from 'vitest';
import { encodePng, noise, pngHeaderOnly } from '../../../../test/fixtures/images/png.ts';
import { nearestTies, pillowResize } from '../../../../test/fixtures/images/pillow-resample.ts';
import {
  ImageInputError,
  ImageProcessorConfigError,
  KIMI_VL_IMAGE_DEFAULTS,
  parsePreprocessorConfig,
  planImage,
  processImage,
  processImages,
} from './image-processing.ts';

// Megapixel images decoded and compared pixel by pixel: seconds on a loaded machine.
vi.setConfig({ testTimeout: 60_000 });

const P = 14;

/** The normalised value of an 8-bit sample with mean = std = 0.5: v/127.5 − 1. */
const norm = (v: number): number => v / 127.5 - 1;

/** Value of pixel (x, y), channel c of patch-major pixel values, via the torch reshape semantics. */
function at(pixels: Float32Array, gw: number, x: number, y: number, c: number): number {
  const patch = Math.floor(y / P) * gw + Math.floor(x / P);
  return pixels[patch * 3 * P * P + c * P * P + (y % P) * P + (x % P)]!;
}

/** 8-bit RGB samples back from pixel values inside the unpadded image. */
function denormalise(pixels: Float32Array, gw: number, width: number, height: number): Uint8Array {
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++)
      for (let c = 0; c < 3; c++) out[(y * width + x) * 3 + c] = Math.round((at(pixels, gw, x, y, c) + 1) * 127.5);
  return out;
}

describe('planImage (in_token_limit resize, pad to 28, grid, token count)', () => {
  // Expected values hand-computed in docs/kimi-vl.md#image-processor (limit 4096) and checked by hand for 16384.
  const cases: Array<[number, number, number, [number, number], [number, number], [number, number], number]> = [
    [640, 480, 4096, [640, 480], [644, 504], [36, 46], 414],
    [896, 896, 4096, [896, 896], [896, 896], [64, 64], 1024],
    [1024, 1024, 4096, [897, 897], [924, 924], [66, 66], 1089],
    [1920, 1080, 4096, [1196, 672], [1204, 672], [48, 86], 1032],
    [3000, 4000, 4096, [777, 1036], [784, 1036], [74, 56], 1036],
    [10, 10, 4096, [10, 10], [28, 28], [2, 2], 1],
    [1, 1, 4096, [1, 1], [28, 28], [2, 2], 1],
    [1024, 1024, 16384, [1024, 1024], [1036, 1036], [74, 74], 1369],
    [1920, 1080, 16384, [1920, 1080], [1932, 1092], [78, 138], 2691],
    [3000, 4000, 16384, [1554, 2073], [1568, 2100], [150, 112], 4200],
  ];
  for (const [w, h, limit, resized, padded, grid, tokens] of cases) {
    it(`${w}×${h} at in_token_limit ${limit} → ${padded.join('×')}, grid ${grid.join('×')}, ${tokens} tokens`, () => {
      const plan = planImage(w, h, { ...KIMI_VL_IMAGE_DEFAULTS, inTokenLimit: limit });
      expect([plan.resized.width, plan.resized.height]).toEqual(resized);
      expect([plan.final.width, plan.final.height]).toEqual(padded);
      expect(plan.grid).toEqual(grid);
      expect(plan.tokens).toBe(tokens);
      expect(plan.offset).toEqual({ x: 0, y: 0 });
    });
  }

  it('centre-crops instead when pad_input is false (even patch counts, rounded offsets)', () => {
    const plan = planImage(1920, 1080, { ...KIMI_VL_IMAGE_DEFAULTS, padInput: false });
    // 1196 → 85 patches → 84 → 1176 px; 672 → 48 patches; offset round(20/2) = 10.
    expect(plan.final).toEqual({ width: 1176, height: 672 });
    expect(plan.offset).toEqual({ x: 10, y: 0 });
    expect(plan.grid).toEqual([48, 84]);
    expect(plan.tokens).toBe(1008);
    // 45 px wide: 3 patches → 2 → 28 px, offset round(8.5) = 8 (Python rounds halves to even).
    expect(planImage(45, 28, { ...KIMI_VL_IMAGE_DEFAULTS, padInput: false }).offset).toEqual({ x: 8, y: 0 });
    expect(() => planImage(20, 20, { ...KIMI_VL_IMAGE_DEFAULTS, padInput: false })).toThrow(/smaller than 28×28/);
  });

  it('refuses images whose grid would exceed the 512-patch position table', () => {
    // 7200×20: 514 patches, under the budget, so not resized; 7224/14 = 516 columns.
    expect(() => planImage(7200, 20)).toThrow(ImageInputError);
    expect(() => planImage(7200, 20)).toThrow(/too elongated.*516×2 patches.*at most 511/);
    // 7140 px pads to 7140 = 510 patches: accepted.
    expect(planImage(7140, 20).grid).toEqual([2, 510]);
  });
});

describe('processImage pixel layout and normalisation', () => {
  it('lays out a 30×20 RGB image as [8, 3, 14, 14] patches with −1 padding', async () => {
    const w = 30;
    const h = 20;
    const samples: number[] = [];
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) samples.push((x * 8) % 256, y * 12, (x + 2 * y) % 256);
    const { plan, pixelValues } = await processImage(encodePng({ width: w, height: h, colour: 'rgb', samples }));
    expect(plan.grid).toEqual([2, 4]);
    expect(plan.tokens).toBe(2);
    expect(pixelValues.length).toBe(8 * 3 * 14 * 14);
    // Hand-picked entries, flat index = ((patch·3 + c)·14 + ky)·14 + kx.
    expect(pixelValues[0]).toBe(-1); // patch 0, R of (0,0) = 0
    expect(pixelValues[1]).toBeCloseTo(norm(8), 6); // patch 0, R of (1,0)
    expect(pixelValues[1 * 588 + 0]).toBeCloseTo(norm(112), 6); // patch 1 starts at x = 14: R = 112
    expect(pixelValues[0 * 588 + 196 + 5 * 14 + 3]).toBeCloseTo(norm(60), 6); // G of (3,5) = 60
    expect(pixelValues[4 * 588 + 2 * 196 + 0 * 14 + 1]).toBeCloseTo(norm(29), 6); // patch 4 = (gy 1, gx 0): B of (1,14) = 29
    expect(pixelValues[2 * 588 + 2 * 14 + 1]).toBeCloseTo(norm(232), 6); // patch 2 at x = 28: R of (29,2) = 232
    expect(pixelValues[2 * 588 + 2 * 14 + 2]).toBe(-1); // x = 30 is padding
    expect(pixelValues[3 * 588 + 100]).toBe(-1); // patch 3 (x ≥ 42) is all padding
    expect(pixelValues[5 * 588 + 6 * 14]).toBe(-1); // y = 20 is padding
    // Every pixel, through an independent index computation.
    for (let y = 0; y < 28; y++)
      for (let x = 0; x < 56; x++)
        for (let c = 0; c < 3; c++) {
          const expected = x < w && y < h ? norm(samples[(y * w + x) * 3 + c]!) : -1;
          expect(Math.abs(at(pixelValues, 4, x, y, c) - expected)).toBeLessThan(1e-6);
        }
  });

  it('uses the configured mean and std per channel', async () => {
    const png = encodePng({ width: 2, height: 2, colour: 'rgb', samples: [255, 0, 51, 255, 0, 51, 255, 0, 51, 255, 0, 51] });
    const config = { ...KIMI_VL_IMAGE_DEFAULTS, imageMean: [0.25, 0.5, 0.1], imageStd: [0.5, 0.25, 0.2] } as const;
    const { pixelValues } = await processImage(png, config);
    expect(at(pixelValues, 2, 1, 1, 0)).toBeCloseTo((1 - 0.25) / 0.5, 6);
    expect(at(pixelValues, 2, 1, 1, 1)).toBeCloseTo((0 - 0.5) / 0.25, 6);
    expect(at(pixelValues, 2, 1, 1, 2)).toBeCloseTo((0.2 - 0.1) / 0.2, 6);
    expect(at(pixelValues, 2, 5, 5, 2)).toBeCloseTo(-0.1 / 0.2, 6); // padding is black, then normalised
  });

  it('replicates greyscale into three channels and ignores a grey image’s alpha', async () => {
    const grey = await processImage(encodePng({ width: 3, height: 1, colour: 'grey', samples: [0, 100, 255] }));
    const greyAlpha = await processImage(encodePng({ width: 3, height: 1, colour: 'grey-alpha', samples: [0, 0, 100, 7, 255, 255] }));
    for (const { pixelValues } of [grey, greyAlpha]) {
      for (let c = 0; c < 3; c++) {
        expect(at(pixelValues, 2, 0, 0, c)).toBe(-1);
        expect(at(pixelValues, 2, 1, 0, c)).toBeCloseTo(norm(100), 6);
        expect(at(pixelValues, 2, 2, 0, c)).toBe(1);
      }
    }
  });

  it('drops alpha like PIL convert("RGB"): colour under transparent pixels survives without a resize', async () => {
    const samples = [200, 100, 50, 0, 10, 20, 30, 255, 90, 90, 90, 128];
    const { pixelValues } = await processImage(encodePng({ width: 3, height: 1, colour: 'rgba', samples }));
    [200, 100, 50].forEach((v, c) => expect(at(pixelValues, 2, 0, 0, c)).toBeCloseTo(norm(v), 6));
    expect(at(pixelValues, 2, 2, 0, 0)).toBeCloseTo(norm(90), 6);
  });

  it('resizes RGBA premultiplied (like Pillow), so fully transparent regions turn black', async () => {
    const w = 1200;
    const h = 840; // 85 × 60 = 5100 patches > 4096: resized to 1075 × 752
    const samples = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) samples.set(i % w < w / 2 ? [200, 100, 50, 0] : [10, 20, 30, 255], i * 4);
    const { plan, pixelValues } = await processImage(encodePng({ width: w, height: h, colour: 'rgba', samples }));
    expect(plan.resized).toEqual({ width: 1075, height: 752 });
    expect([0, 1, 2].map((c) => at(pixelValues, plan.grid[1], 100, 100, c))).toEqual([-1, -1, -1]);
    expect(at(pixelValues, plan.grid[1], 1000, 100, 2)).toBeCloseTo(norm(30), 6);
  });

  it('decodes palette images to their colours and resizes them with NEAREST, as Pillow does for mode "P"', async () => {
    const palette = [
      [255, 0, 0],
      [0, 255, 0],
      [0, 0, 255, 128],
      [240, 240, 16],
    ];
    const small = await processImage(encodePng({ width: 4, height: 1, colour: 'palette', samples: [0, 1, 2, 3], palette }));
    [240, 240, 16].forEach((v, c) => expect(at(small.pixelValues, 2, 3, 0, c)).toBeCloseTo(norm(v), 6));
    expect(at(small.pixelValues, 2, 2, 0, 2)).toBe(1); // alpha 128 is dropped, blue stays 255

    const w = 1120;
    const h = 840;
    const indices = Uint8Array.from(noise(w * h, 5), (v) => v & 3);
    const { plan, pixelValues } = await processImage(encodePng({ width: w, height: h, colour: 'palette', samples: indices, palette }));
    const { width: ow, height: oh } = plan.resized;
    expect([ow, oh]).toEqual([1034, 775]);
    const rgb = new Uint8Array(w * h * 3);
    indices.forEach((index, i) => rgb.set(palette[index]!.slice(0, 3), i * 3));
    const ours = denormalise(pixelValues, plan.grid[1], ow, oh);
    const pillow = pillowResize(rgb, w, h, 3, ow, oh, 'nearest');
    const rgbKey = (a: Uint8Array, i: number) => (a[i * 3]! << 16) | (a[i * 3 + 1]! << 8) | a[i * 3 + 2]!;
    const colours = new Set(palette.map(([r, g, b]) => (r! << 16) | (g! << 8) | b!));
    const rowTies = nearestTies(h, oh);
    const columnTies = nearestTies(w, ow);
    let blended = 0;
    let offTie = 0;
    for (let i = 0; i < ow * oh; i++) {
      if (!colours.has(rgbKey(ours, i))) blended++;
      if (rgbKey(ours, i) !== rgbKey(pillow, i) && !rowTies.has(Math.floor(i / ow)) && !columnTies.has(i % ow)) offTie++;
    }
    expect(blended).toBe(0);
    expect(offTie).toBe(0);
  });

  it('reads 16-bit RGB and greyscale PNGs by their high byte', async () => {
    const values = [0, 1000, 40000, 65535, 257 * 100, 65280];
    const rgb = await processImage(encodePng({ width: 2, height: 1, colour: 'rgb', bitDepth: 16, samples: values }));
    values.forEach((v, i) => expect(at(rgb.pixelValues, 2, Math.floor(i / 3), 0, i % 3)).toBeCloseTo(norm(v >> 8), 6));
    const grey = await processImage(encodePng({ width: 3, height: 1, colour: 'grey', bitDepth: 16, samples: [512, 30000, 65535] }));
    [512, 30000, 65535].forEach((v, x) => expect(at(grey.pixelValues, 2, x, 0, 1)).toBeCloseTo(norm(v >> 8), 6));
  });

  it('resizes RGB with a kernel within a few levels of Pillow BICUBIC (and nearly always equal or ±1)', async () => {
    const w = 1120;
    const h = 840; // 80 × 60 = 4800 patches → scale √(4096/4800) → 1034 × 775
    const grain = noise(w * h * 3, 11);
    const samples = new Uint8Array(w * h * 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          const i = (y * w + x) * 3 + c;
          const wave = 100 * Math.sin(x / (5 + 3 * c)) * Math.cos(y / 9) + (((x >> 4) ^ (y >> 4)) & 1 ? 30 : -30);
          samples[i] = Math.max(0, Math.min(255, Math.round(128 + wave + (grain[i]! - 128) / 10)));
        }
    const { plan, pixelValues } = await processImage(encodePng({ width: w, height: h, colour: 'rgb', samples }));
    expect(plan.resized).toEqual({ width: 1034, height: 775 });
    const ours = denormalise(pixelValues, plan.grid[1], 1034, 775);
    const pillow = pillowResize(samples, w, h, 3, 1034, 775, 'bicubic');
    let max = 0;
    let sum = 0;
    let withinOne = 0;
    for (let i = 0; i < ours.length; i++) {
      const d = Math.abs(ours[i]! - pillow[i]!);
      max = Math.max(max, d);
      sum += d;
      if (d <= 1) withinOne++;
    }
    // Measured: mean ≈ 0.29, 99.9 % within ±1, max 6 next to 0/255 where Pillow clamps between
    // its two passes. Lanczos3 or Mitchell give a mean of 0.7–0.9 and many ±2..5 pixels.
    expect(sum / ours.length).toBeLessThan(0.35);
    expect(withinOne / ours.length).toBeGreaterThan(0.998);
    expect(max).toBeLessThanOrEqual(8);
  });

  it('ignores an embedded colour profile, as PIL does (e.g. a Display P3 screenshot keeps its stored values)', async () => {
    const tagged = await sharp(new Uint8Array(3).fill(128), { raw: { width: 1, height: 1, channels: 3 } }).withIccProfile('p3').png().toBuffer();
    const iccProfile = (await sharp(tagged).metadata()).icc!;
    const samples = [200, 30, 40, 10, 220, 60];
    const { pixelValues } = await processImage(encodePng({ width: 2, height: 1, colour: 'rgb', samples, iccProfile }));
    samples.forEach((v, i) => expect(at(pixelValues, 2, Math.floor(i / 3), 0, i % 3)).toBeCloseTo(norm(v), 6));
  });

  it('reads JPEG files from a path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kestrel-img-'));
    const file = join(dir, 'flat.jpg');
    const flat = new Uint8Array(40 * 30 * 3).fill(128);
    writeFileSync(file, await sharp(flat, { raw: { width: 40, height: 30, channels: 3 } }).jpeg({ quality: 95 }).toBuffer());
    const { plan, pixelValues } = await processImage(file);
    expect(plan.grid).toEqual([4, 4]);
    expect(Math.abs(at(pixelValues, 4, 20, 15, 1) - norm(128))).toBeLessThan(2 / 127.5);
  });

  it('concatenates several images and reports grids and token counts in order', async () => {
    const a = encodePng({ width: 30, height: 20, colour: 'grey', samples: new Uint8Array(600).fill(255) });
    const b = encodePng({ width: 10, height: 10, colour: 'grey', samples: new Uint8Array(100) });
    const { pixelValues, gridHws, tokenCounts } = await processImages([a, b]);
    expect(gridHws).toEqual([
      [2, 4],
      [2, 2],
    ]);
    expect(tokenCounts).toEqual([2, 1]);
    expect(pixelValues.length).toBe((8 + 4) * 588);
    expect(pixelValues[0]).toBe(1);
    expect(pixelValues[8 * 588]).toBe(-1);
    expect(pixelValues.subarray(8 * 588)).toEqual((await processImage(b)).pixelValues);
  });
});

describe('processImage refusals', () => {
  const refuse = (input: Uint8Array | string, message: RegExp) => expect(processImage(input)).rejects.toThrow(message);

  it('refuses corrupt, truncated, empty and non-image input with a one-line reason', async () => {
    const good = encodePng({ width: 30, height: 20, colour: 'rgb', samples: noise(1800) });
    await refuse(Buffer.from('definitely not an image'), /^image data is not a readable image \(.*unsupported image format.*\); pass an uncorrupted/);
    await refuse(good.subarray(0, good.length - 30), /not a readable image/);
    await refuse(pngHeaderOnly(64, 64), /not a readable image/);
    await refuse(new Uint8Array(0), /empty \(0 bytes\)/);
    const corrupt = Buffer.from(good);
    corrupt[50] = corrupt[50]! ^ 0xff; // inside the compressed stream
    await refuse(corrupt, /not a readable image/);
    await expect(processImage(Buffer.from('x'))).rejects.toBeInstanceOf(ImageInputError);
  });

  it('refuses a missing file by name', async () => {
    await refuse('/nonexistent/screen.png', /cannot read image \/nonexistent\/screen\.png: ENOENT/);
  });

  it('refuses huge images from the header, before decoding', async () => {
    await refuse(pngHeaderOnly(20000, 20000), /20000×20000 \(400 megapixels\), over the 268 MP.*downscale it first/);
  });

  it('refuses images too elongated for the position table', async () => {
    const strip = encodePng({ width: 7200, height: 20, colour: 'grey', samples: new Uint8Array(7200 * 20) });
    await refuse(strip, /too elongated/);
  });
});

describe('parsePreprocessorConfig', () => {
  it('reads the Instruct preprocessor_config.json', () => {
    const config = parsePreprocessorConfig({
      auto_map: { AutoImageProcessor: 'image_processing_kimi_vl.KimiVLImageProcessor' },
      image_mean: [0.5, 0.5, 0.5],
      image_std: [0.5, 0.5, 0.5],
      in_token_limit: 4096,
      num_pooled_tokens: 1024,
      pad_input: true,
      patch_size: 14,
    });
    expect(config).toEqual(KIMI_VL_IMAGE_DEFAULTS);
  });

  it('falls back to the Python class defaults (CLIP mean/std, no padding) for missing keys', () => {
    const config = parsePreprocessorConfig({ in_token_limit: 16384 });
    expect(config.inTokenLimit).toBe(16384);
    expect(config.padInput).toBe(false);
    expect(config.imageMean[0]).toBeCloseTo(0.48145466, 8);
    expect(config.imageStd[2]).toBeCloseTo(0.27577711, 8);
  });

  it('names the bad key', () => {
    expect(() => parsePreprocessorConfig([])).toThrow(ImageProcessorConfigError);
    expect(() => parsePreprocessorConfig({ patch_size: 0 })).toThrow(/patch_size must be a positive integer, got 0/);
    expect(() => parsePreprocessorConfig({ image_mean: [0.5] })).toThrow(/image_mean must be three numbers/);
    expect(() => parsePreprocessorConfig({ image_std: [0.5, 0, 0.5] })).toThrow(/image_std must not contain 0/);
    expect(() => parsePreprocessorConfig({ pad_input: 'yes' })).toThrow(/pad_input must be true or false/);
    expect(() => parsePreprocessorConfig({ merge_kernel_size: [2] })).toThrow(/merge_kernel_size/);
  });
});
