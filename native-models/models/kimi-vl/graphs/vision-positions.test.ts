import { describe, expect, it } from 'vitest';
import * as reference from '../testing/vision-reference.ts';
import { bicubicMatrix, ropeFrequencies } from './vision-positions.ts';

// The production tables against the plain-loop reference's own, written apart.
describe('vision position tables', () => {
  it('resize like the reference for shrinking, growing and equal sizes', () => {
    for (const [from, to] of [[64, 64], [64, 18], [64, 90], [8, 12], [8, 4], [3, 1], [1, 5]] as const) {
      const ours = bicubicMatrix(from, to);
      const theirs = reference.bicubicMatrix(from, to);
      expect(ours.length).toBe(theirs.length);
      for (let i = 0; i < ours.length; i++) expect(ours[i]).toBeCloseTo(theirs[i]!, 12);
    }
  });

  it('halve a ramp to [0.40625, 2.5, 4.5, 6.59375] (edge taps clamped)', () => {
    const m = bicubicMatrix(8, 4);
    const out = [0, 1, 2, 3].map((d) => [0, 1, 2, 3, 4, 5, 6, 7].reduce((acc, v, i) => acc + v * m[d * 8 + i]!, 0));
    expect(out.map((v) => +v.toFixed(10))).toEqual([0.40625, 2.5, 4.5, 6.59375]);
  });

  it('have the published rotary frequencies for head_dim 72, as the reference does', () => {
    const f = ropeFrequencies(72);
    expect(f.length).toBe(18);
    expect(f[1]).toBeCloseTo(0.59948425, 8);
    expect(f[17]).toBeCloseTo(1.6681005e-4, 11);
    const theirs = reference.ropeFrequencies(72);
    for (let i = 0; i < f.length; i++) expect(f[i]).toBeCloseTo(theirs[i]!, 14);
  });
});
