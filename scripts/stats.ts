// The benchmarks' summaries of repeated timings, one copy for every script. Medians rather than
// means: on a shared machine one slow run (another engineer's tests) should not move the figure.
// (kestrel bench's mean ± sd lives with it in native-models' runtime/bench.ts.)

/** The middle value, the upper of the two for an even count. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of no values');
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}

/** `min–max` with `digits` decimals. */
export function spread(values: readonly number[], digits: number): string {
  return `${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}`;
}

/** `median (min–max)` with `digits` decimals. */
export function medianAndSpread(values: readonly number[], digits: number): string {
  return `${median(values).toFixed(digits)} (${spread(values, digits)})`;
}
