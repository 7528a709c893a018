/**
 * Graph helpers for int4 weights: a linear layer as com.microsoft.MatMulNBits (dense weights)
 * and the packed expert tensors com.microsoft.QMoE reads. Each quantised matrix is declared as
 * several initializers (codes, scales, zero points) that share one quantisation pass: the fp32
 * source is read and quantised when the first of them is written and dropped after the last,
 * so import memory stays bounded by one packed matrix (one layer's packed experts for QMoE).
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { int4BlockSize, quantizeInt4, type Int4Options, type Int4Weight } from './int4-blocks.ts';

export type Fp32Source = () => AsyncIterable<Float32Array>;

/**
 * Quantises an [N, K] source as it streams: rows are independent (blocks never cross a row and
 * zero points are padded per row), so whole rows are quantised as they arrive and only the
 * packed result (~1/6 of fp32) is kept.
 */
export async function quantizeStream(source: Fp32Source, n: number, k: number, opts: Int4Options, what: string): Promise<Int4Weight> {
  const parts: Int4Weight[] = [];
  let carry = new Float32Array(0);
  let rows = 0;
  for await (const chunk of source()) {
    let all = chunk;
    if (carry.length) {
      all = new Float32Array(carry.length + chunk.length);
      all.set(carry);
      all.set(chunk, carry.length);
    }
    const whole = Math.floor(all.length / k);
    if (whole > 0) parts.push(quantizeInt4(all.subarray(0, whole * k), whole, k, opts));
    rows += whole;
    carry = all.slice(whole * k);
  }
  if (rows !== n || carry.length) throw new Error(`${what}: source produced ${rows * k + carry.length} values, expected ${n * k}`);
  const join = (pick: (q: Int4Weight) => Uint8Array | Float32Array | undefined) => {
    const arrays = parts.map(pick);
    if (arrays.some((a) => !a)) return undefined;
    const out = new (arrays[0]!.constructor as Uint8ArrayConstructor | Float32ArrayConstructor)(arrays.reduce((s, a) => s + a!.length, 0));
    let at = 0;
    for (const a of arrays) {
      out.set(a!, at);
      at += a!.length;
    }
    return out;
  };
  return { ...parts[0]!, n, packed: join((q) => q.packed) as Uint8Array, scales: join((q) => q.scales) as Float32Array, zeroPoints: join((q) => q.zeroPoints) as Uint8Array | undefined };
}

/** Quantises lazily, once, for several producers; the last consumer releases the result. */
export function shared<T>(compute: () => Promise<T>, consumers: number): () => Promise<T> {
  let pending: Promise<T> | undefined;
  let left = consumers;
  return () => {
    pending ??= compute();
    const p = pending;
    if (--left === 0) {
      pending = undefined;
      left = consumers;
    }
    return p;
  };
}

/**
 * Declares an [N, K] weight (rows = outputs) as MatMulNBits initializers under `name` and
 * returns `apply(x, nodeName)` computing x · Wᵀ, like Gemm with transB.
 */
export function int4Linear(g: GraphBuilder, name: string, n: number, k: number, source: Fp32Source, opts: { symmetric?: boolean } = {}) {
  const blockSize = int4BlockSize(k);
  const blocks = Math.ceil(k / blockSize);
  const symmetric = opts.symmetric ?? false;
  const get = shared(() => quantizeStream(source, n, k, { blockSize, symmetric }, name), symmetric ? 2 : 3);
  const bytes = (pick: (q: Int4Weight) => Uint8Array) =>
    async function* () {
      yield pick(await get());
    };
  const b = g.weight({ name: `${name}.weight_q4`, dims: [n, blocks, blockSize / 2], dataType: DataType.UINT8, produce: bytes((q) => q.packed), group: name });
  const scales = g.weight({ name: `${name}.weight_scales`, dims: [n * blocks], dataType: DataType.FLOAT, produce: async function* () { yield (await get()).scales; }, group: name });
  const zeroPoints = symmetric ? undefined : g.weight({ name: `${name}.weight_zero_points`, dims: [n * Math.ceil(blocks / 2)], dataType: DataType.UINT8, produce: bytes((q) => q.zeroPoints!), group: name });
  return (x: string, nodeName: string): string =>
    g.op('MatMulNBits', zeroPoints ? [x, b, scales, zeroPoints] : [x, b, scales], nodeName, [attr.int('K', k), attr.int('N', n), attr.int('bits', 4), attr.int('block_size', blockSize), attr.int('accuracy_level', 0)], 'com.microsoft');
}

/**
 * Declares experts stacked as [E, N, K] (one expert per produced chunk) as QMoE's symmetric
 * 4-bit initializers: codes uint8 [E, N, K / 2] and block scales [E, N, K / blockSize] in fp16
 * (onnxruntime's CUDA QMoE takes fp16 or bf16 only; docs/onnxruntime.md).
 * Returns the two names in QMoE's input order. QMoE has one block size for fc1 and fc2, so the
 * caller picks it from both widths (`int4BlockSize(hidden, intermediate)`).
 */
export function int4Experts(g: GraphBuilder, name: string, experts: number, n: number, k: number, source: Fp32Source, blockSize: number): [weights: string, scales: string] {
  if (k % blockSize !== 0) throw new Error(`${name}: QMoE needs the input width (${k}) to be a multiple of the int4 block size ${blockSize}`);
  const get = shared(async () => {
    const all: Int4Weight[] = [];
    for await (const chunk of source()) all.push(quantizeInt4(chunk, n, k, { blockSize, symmetric: true }));
    if (all.length !== experts) throw new Error(`${name}: source produced ${all.length} experts, expected ${experts}`);
    return all;
  }, 2);
  const weights = g.weight({ name: `${name}.weight_q4`, dims: [experts, n, k / 2], dataType: DataType.UINT8, produce: async function* () { for (const q of await get()) yield q.packed; }, group: name });
  const scales = g.weight({ name: `${name}.weight_scales`, dims: [experts, n, k / blockSize], dataType: DataType.FLOAT16, produce: async function* () { for (const q of await get()) yield q.scales; }, group: name });
  return [weights, scales];
}
