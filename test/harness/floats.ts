/** Largest |a[i] − b[i]| (Infinity when the lengths differ); vitest's deep equality is too slow for millions of floats. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= m)) m = Number.isNaN(d) ? Infinity : d;
  }
  return m;
}

export function argmax(a: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i]! > a[best]!) best = i;
  return best;
}

/** The first byte at which two arrays' bytes differ, −1 when they are the same (both absent too); cheaper to report than a deep equality. */
export function firstDifference(a: ArrayBufferView | undefined, b: ArrayBufferView | undefined): number {
  if (!a || !b) return a === b ? -1 : 0;
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength), y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  const at = x.findIndex((v, i) => v !== y[i]);
  return at === -1 && x.length !== y.length ? Math.min(x.length, y.length) : at;
}
