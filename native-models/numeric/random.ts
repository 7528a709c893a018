/** Small deterministic PRNG (SplitMix32-style) for sampling with a seed and for test checkpoints. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Seed derived from a string (e.g. a tensor name), so values don't depend on write order. */
  static fromString(text: string, seed = 0): SeededRandom {
    let h = (0x811c9dc5 ^ seed) >>> 0;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
    return new SeededRandom(h);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x9e3779b9) >>> 0;
    let z = this.state;
    z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
    z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
    return ((z ^ (z >>> 15)) >>> 0) / 4294967296;
  }
}

/** `n` values uniform in [−scale, scale), from `seed`: random weights for benchmarks. */
export function uniformFloats(n: number, seed: number, scale = 1): Float32Array {
  const r = new SeededRandom(seed);
  return Float32Array.from({ length: n }, () => (r.next() * 2 - 1) * scale);
}
