/** Next-token choice from logits: greedy, or temperature + nucleus (top-p) sampling with a seeded RNG. */
import type { SeededRandom } from '../numeric/random.ts';

export interface SamplingOptions {
  /** 0 (or unset) means greedy. */
  readonly temperature?: number;
  /** Keep the smallest set of tokens whose probability reaches top_p (1 = all). */
  readonly topP?: number;
}

/**
 * What a forward step hands over for choosing the next token: the last position's logits, or —
 * when the caller said it chooses greedily and the model can choose inside its graph — the
 * greedy token alone, so the logits never cross to JS.
 */
export type NextTokenBasis = { readonly logits: Float32Array; readonly greedyToken?: undefined } | { readonly greedyToken: number; readonly logits?: undefined };

/** What a caller asks a step for: `greedy` lets the model return its greedy token in place of the logits. */
export type NextTokenWanted = 'logits' | 'greedy';

/** The one rule for greedy choice: temperature 0 or unset. */
export function isGreedy(opts: SamplingOptions): boolean {
  return !((opts.temperature ?? 0) > 0);
}

/** What a step should return for a caller choosing with `opts`. */
export function wantedFor(opts: SamplingOptions): NextTokenWanted {
  return isGreedy(opts) ? 'greedy' : 'logits';
}

/** The next token from what a step returned for `wantedFor(opts)`. */
export function chooseToken(basis: NextTokenBasis, opts: SamplingOptions, rng: SeededRandom): number {
  if (isGreedy(opts)) return greedyToken(basis);
  if (!basis.logits) throw new Error('a step returned only its greedy token to a caller that samples with a temperature; ask it for logits');
  return sampleToken(basis.logits, opts, rng);
}

/** The greedy token, whether the model chose it or returned logits (a folder imported before it could choose). */
export function greedyToken(basis: NextTokenBasis): number {
  return basis.logits ? argmax(basis.logits) : basis.greedyToken;
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, opts: SamplingOptions, rng: SeededRandom): number {
  if (isGreedy(opts)) return argmax(logits);
  const temperature = opts.temperature!;
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
