/**
 * MoonViT's position tables as the vision graph is fed them (docs/kimi-vl.md#vision-tower-moonvit):
 * the bicubic resize of the position-embedding table and the 2-D rotary frequencies. Written
 * apart from vision-reference.ts, which computes the same with its own code, so the tests that
 * compare the graph with the reference check these too.
 */

/** An image's patch grid: rows, columns. */
export type Grid = readonly [number, number];

/** PyTorch's bicubic convolution coefficient. */
const CUBIC_COEFFICIENT = -0.75;
/** MoonViT's rotary base. */
const VISION_ROPE_BASE = 10000;

/** Keys' cubic convolution kernel at distance |x| from a tap (zero from 2 on). */
function cubicKernel(distance: number): number {
  const a = CUBIC_COEFFICIENT;
  const x = Math.abs(distance);
  if (x <= 1) return (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1;
  if (x < 2) return a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a;
  return 0;
}

/**
 * The [outSize, inSize] matrix of PyTorch's bicubic resize along one axis (align_corners=False,
 * no antialiasing): output d samples the input at (d + ½)·in/out − ½ from the four nearest
 * taps, and a tap past either edge reads the edge sample.
 */
export function bicubicMatrix(inSize: number, outSize: number): Float64Array {
  const matrix = new Float64Array(outSize * inSize);
  for (let d = 0; d < outSize; d++) {
    const source = ((d + 0.5) * inSize) / outSize - 0.5;
    const first = Math.floor(source) - 1;
    for (let tap = first; tap < first + 4; tap++) {
      const clamped = tap < 0 ? 0 : tap >= inSize ? inSize - 1 : tap;
      matrix[d * inSize + clamped] += cubicKernel(source - tap);
    }
  }
  return matrix;
}

/** The rotary frequency of each group of four head dimensions: 1 / base^(4i / headDim). */
export function ropeFrequencies(headDim: number): Float64Array {
  const out = new Float64Array(headDim / 4);
  for (let i = 0; i < out.length; i++) out[i] = 1 / VISION_ROPE_BASE ** ((4 * i) / headDim);
  return out;
}
