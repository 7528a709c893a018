import { describe, expect, test } from 'vitest';
import { SeededRandom } from '../numeric/random.ts';
import { chooseToken, sampleToken, wantedFor } from './sampling.ts';

const logits = Float32Array.from([1, 3, 2.5, -1, 0, 2.9]);

describe('sampleToken', () => {
  test('temperature 0 or unset is greedy', () => {
    expect(sampleToken(logits, {}, new SeededRandom(1))).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topP: 0.1 }, new SeededRandom(1))).toBe(1);
  });

  test('same seed, same tokens; frequencies follow softmax(logits / T)', () => {
    const draw = (seed: number) => {
      const rng = new SeededRandom(seed);
      return Array.from({ length: 20000 }, () => sampleToken(logits, { temperature: 0.7 }, rng));
    };
    expect(draw(5).slice(0, 50)).toEqual(draw(5).slice(0, 50));
    expect(draw(5).slice(0, 50)).not.toEqual(draw(6).slice(0, 50));
    const counts = new Array(6).fill(0);
    for (const t of draw(9)) counts[t]++;
    const z = Array.from(logits, (l) => Math.exp(l / 0.7));
    const sum = z.reduce((a, b) => a + b);
    for (let i = 0; i < 6; i++) expect(Math.abs(counts[i] / 20000 - z[i]! / sum)).toBeLessThan(0.015);
  });

  test('top-p keeps only the nucleus', () => {
    const rng = new SeededRandom(3);
    const seen = new Set(Array.from({ length: 5000 }, () => sampleToken(logits, { temperature: 1, topP: 0.6 }, rng)));
    // softmax(1, 3, 2.5, -1, 0, 2.9): token 1 (~0.37) + token 5 (~0.34) reach 0.6.
    expect([...seen].sort()).toEqual([1, 5]);
  });
});

describe('chooseToken', () => {
  test('greedy takes the model\'s own token or the argmax of its logits; sampling needs the logits', () => {
    const rng = new SeededRandom(1);
    expect(wantedFor({})).toBe('greedy');
    expect(wantedFor({ temperature: 0.5 })).toBe('logits');
    expect(chooseToken({ greedyToken: 4 }, {}, rng)).toBe(4);
    expect(chooseToken({ logits }, { temperature: 0 }, rng)).toBe(1);
    expect(() => chooseToken({ greedyToken: 4 }, { temperature: 0.7 }, rng)).toThrow(/ask it for logits/);
  });
});
