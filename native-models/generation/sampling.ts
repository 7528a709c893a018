/** Next-token choice from logits: greedy, or temperature + nucleus (top-p) sampling with a seeded RNG. */
import type { SeededRandom } from '../numeric/random.ts';

export interface SamplingOptions {
  /** 0 (or unset) means greedy. */
  readonly temperature?: number;
  /** Keep the smallest set of tokens whose probability reaches top_p (1 = all). */
  readonly topP?: number;
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: SeededRandom): number {
  const temperature = opts.temperature ?? 0;
  if (!(temperature > 0)) return argmax(logits);
  const topP = opts.topP ?? 1;
  const max = logits[argmax(logits)]!;
  const probs = new Float64Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = Math.exp((logits[i]! - max) / temperature);
    probs[i] = p;
    sum += p;
  }
  let candidates: number[] | undefined;
  let mass = sum;
  if (topP < 1) {
    // Sorting only tokens that could matter keeps this fast on a 160k vocabulary: anything
    // below (1 − top_p)/vocab of the mass cannot be needed to reach top_p.
    const floor = (sum * (1 - topP)) / logits.length;
    candidates = [];
    for (let i = 0; i < probs.length; i++) if (probs[i]! > floor) candidates.push(i);
    candidates.sort((a, b) => probs[b]! - probs[a]! || a - b);
    let acc = 0;
    let keep = 0;
    while (keep < candidates.length && acc < topP * sum) acc += probs[candidates[keep++]!]!;
    candidates = candidates.slice(0, Math.max(1, keep));
    mass = acc;
  }
  let u = rng.next() * mass;
  if (candidates) {
    for (const i of candidates) {
      u -= probs[i]!;
      if (u < 0) return i;
    }
    return candidates[candidates.length - 1]!;
  }
  for (let i = 0; i < probs.length; i++) {
    u -= probs[i]!;
    if (u < 0) return i;
  }
  return argmax(logits);
}
