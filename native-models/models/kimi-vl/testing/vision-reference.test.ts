import { describe, expect, it } from 'vitest';
import { maxAbsDiff } from '../../../../test/harness/floats.ts';
import { concatFloat32 } from '../../../numeric/float32.ts';
import {
  applyRope2d,
  bicubicMatrix,
  erf,
  geluErf,
  geluTanh,
  interpolatePosEmb,
  mergePatches,
  moonViTReference,
  ropeFrequencies,
  visionFeaturesReference,
  type Grid,
} from './vision-reference.ts';
import { TINY_VISION, lookupIn, tinyVisionWeights } from './vision-weights-fixture.ts';

const weights = lookupIn(tinyVisionWeights());
const PATCH = 3 * 14 * 14;

/** Deterministic pixel values in [−1, 1] for `tokens` patches. */
function pixels(tokens: number, seed: number): Float32Array {
  return Float32Array.from({ length: tokens * PATCH }, (_, i) => Math.sin(i * 0.37 + seed * 1.91) * Math.cos(i * 0.011 + seed));
}

const concat = (...parts: Float32Array[]): Float32Array => concatFloat32(parts);

describe('elementwise pieces', () => {
  it('computes both GELUs and erf to published values', () => {
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 14);
    expect(erf(-1.2)).toBeCloseTo(-0.9103139782296353, 14);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 14);
    expect(erf(0)).toBe(0);
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 12);
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 12);
    expect(geluErf(-3)).toBeCloseTo(-0.004049694, 8);
  });
});

describe('bicubic position-table resize (PyTorch, align_corners=False, A = −0.75)', () => {
  it('is the identity at the table size', () => {
    const m = bicubicMatrix(8, 8);
    for (let d = 0; d < 8; d++) for (let i = 0; i < 8; i++) expect(m[d * 8 + i]).toBeCloseTo(d === i ? 1 : 0, 14);
  });

  it('halves a ramp with edge-clamped taps: [0.40625, 2.5, 4.5, 6.59375]', () => {
    // Taps at offset 0.5 weigh (−3/32, 19/32, 19/32, −3/32); at the edges the outer tap repeats.
    const m = bicubicMatrix(8, 4);
    const ramp = [0, 1, 2, 3, 4, 5, 6, 7];
    const out = [0, 1, 2, 3].map((d) => ramp.reduce((acc, v, i) => acc + v * m[d * 8 + i]!, 0));
    expect(out.map((v) => +v.toFixed(10))).toEqual([0.40625, 2.5, 4.5, 6.59375]);
  });

  it('upsamples from a source position left of the first pixel (s = −1/6 for 8 → 12)', () => {
    // t = 5/6: the only tap that is not pixel 0 is pixel 1 with weight A·(7/6 − 5)… = −75/864.
    const m = bicubicMatrix(8, 12);
    expect(m[1]).toBeCloseTo(-75 / 864, 14);
    expect(m[0]).toBeCloseTo(1 + 75 / 864, 14);
    for (let d = 0; d < 12; d++) expect(m.subarray(d * 8, d * 8 + 8).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 14);
  });

  it('resizes rows and columns independently, keeping (H, W, D) order', () => {
    const table = new Float32Array(8 * 8 * 2);
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) table.set([x, 10 * y], (y * 8 + x) * 2);
    const out = interpolatePosEmb(table, 8, 8, 2, [8, 4]);
    // Rows unchanged (identity), columns halved like the ramp above; channel 1 holds 10·row.
    expect(out[(3 * 4 + 0) * 2]).toBeCloseTo(0.40625, 6);
    expect(out[(3 * 4 + 3) * 2]).toBeCloseTo(6.59375, 6);
    expect(out[(5 * 4 + 2) * 2 + 1]).toBeCloseTo(50, 5);
  });
});

describe('2-D RoPE', () => {
  it('has the published frequencies for head_dim 72', () => {
    const f = ropeFrequencies(72);
    expect(f.length).toBe(18);
    expect(f[1]).toBeCloseTo(0.59948425, 8);
    expect(f[2]).toBeCloseTo(0.35938137, 8);
    expect(f[17]).toBeCloseTo(1.6681005e-4, 11);
  });

  it('turns dims (4i, 4i+1) by column·f_i and (4i+2, 4i+3) by row·f_i', () => {
    const f = ropeFrequencies(8); // [1, 0.01]
    const v = Float32Array.from([1, 0, 1, 0, 0, 1, 0, 1]);
    applyRope2d(v, 0, 8, 2, 3, f);
    expect(Array.from(v.subarray(0, 4))).toEqual([Math.cos(2), Math.sin(2), Math.cos(3), Math.sin(3)].map(Math.fround));
    expect(v[4]).toBeCloseTo(-Math.sin(0.02), 6);
    expect(v[5]).toBeCloseTo(Math.cos(0.02), 6);
    expect(v[6]).toBeCloseTo(-Math.sin(0.03), 6);
    expect(v[7]).toBeCloseTo(Math.cos(0.03), 6);
  });

  it('makes q·k depend only on the relative position', () => {
    const f = ropeFrequencies(16);
    const dot = (qx: number, qy: number, kx: number, ky: number) => {
      const q = Float32Array.from({ length: 16 }, (_, i) => Math.sin(i + 1));
      const k = Float32Array.from({ length: 16 }, (_, i) => Math.cos(2 * i));
      applyRope2d(q, 0, 16, qx, qy, f);
      applyRope2d(k, 0, 16, kx, ky, f);
      return q.reduce((acc, v, i) => acc + v * k[i]!, 0);
    };
    expect(dot(5, 2, 1, 7)).toBeCloseTo(dot(9, 3, 5, 8), 5);
    expect(Math.abs(dot(5, 2, 1, 7) - dot(2, 5, 7, 1))).toBeGreaterThan(1e-3); // swapping axes matters
  });
});

describe('2×2 patch merge', () => {
  it('takes windows row-major and parts in order top-left, top-right, bottom-left, bottom-right', () => {
    const grid: Grid = [4, 6];
    const x = Float32Array.from({ length: 24 }, (_, t) => Math.floor(t / 6) * 100 + (t % 6));
    const merged = Array.from(mergePatches(x, 1, grid, [2, 2]));
    expect(merged.slice(0, 4)).toEqual([0, 1, 100, 101]);
    expect(merged.slice(4, 8)).toEqual([2, 3, 102, 103]);
    expect(merged.slice(12, 16)).toEqual([200, 201, 300, 301]);
    expect(merged.slice(20, 24)).toEqual([204, 205, 304, 305]);
  });
});

describe('MoonViT + projector reference forward on tiny random weights', () => {
  const gridA: Grid = [4, 6];
  const gridB: Grid = [2, 2];
  const a = pixels(24, 1);
  const b = pixels(4, 2);

  it('gives [Σ gh·gw/4, text hidden] finite features that vary across tokens', () => {
    const features = visionFeaturesReference(TINY_VISION, weights, concat(a, b), [gridA, gridB], 64);
    expect(features.length).toBe((6 + 1) * 64);
    expect(features.every(Number.isFinite)).toBe(true);
    expect(maxAbsDiff(features.subarray(0, 64), features.subarray(64, 128))).toBeGreaterThan(1e-2);
  });

  it('keeps images independent: adding image B leaves image A’s features unchanged, and vice versa', () => {
    const alone = visionFeaturesReference(TINY_VISION, weights, a, [gridA], 64);
    const both = visionFeaturesReference(TINY_VISION, weights, concat(a, b), [gridA, gridB], 64);
    const bAlone = visionFeaturesReference(TINY_VISION, weights, b, [gridB], 64);
    expect(maxAbsDiff(both.subarray(0, 6 * 64), alone)).toBe(0);
    expect(maxAbsDiff(both.subarray(6 * 64), bAlone)).toBe(0);
  });

  it('lets patches attend within their image: changing one patch moves features of a distant window', () => {
    const changed = a.slice();
    changed.fill(0.9, 0, PATCH); // patch (0, 0) lies in merge window 0 only
    const before = moonViTReference(TINY_VISION, weights, a, [gridA]);
    const after = moonViTReference(TINY_VISION, weights, changed, [gridA]);
    const wide = 4 * TINY_VISION.hiddenSize;
    expect(maxAbsDiff(before.subarray(5 * wide), after.subarray(5 * wide))).toBeGreaterThan(1e-4);
  });

  it('depends on the grid shape, not only the patch values (position table and RoPE)', () => {
    const wide = moonViTReference(TINY_VISION, weights, a, [[4, 6]]);
    const tall = moonViTReference(TINY_VISION, weights, a, [[6, 4]]);
    expect(maxAbsDiff(wide, tall)).toBeGreaterThan(1e-3);
  });
});
