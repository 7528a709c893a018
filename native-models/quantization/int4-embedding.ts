/**
 * An int4 lookup table (the token embedding) as com.microsoft.GatherBlockQuantized: the same
 * block-wise codes, scales and zero points as MatMulNBits (int4-blocks.ts), with the codes laid
 * out [rows, width / 2]. A lookup dequantises only the rows it gathers, into fp32. onnxruntime
 * 1.30 runs it on the CPU and WebGPU (int4-embedding.test.ts); its sources have a CUDA kernel too.
 * For Kimi-VL-A3B's 163840 × 2048 table this is 215 MB instead of fp16's 671 MB.
 *
 * Each row has an even number of blocks. MatMulNBits pads every row's zero points to whole
 * bytes; the WebGPU kernel instead reads them as one run of nibbles over [rows, blocks] and
 * refuses a zero-point tensor that is not exactly half the scales' width ("scales and
 * zero_points must have the same shape"). The two layouts are the same bytes only when the
 * block count is even, so the block size is the largest of 64, 32, 16 giving one.
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { quantisedPart, sharedQuantised, type Fp32Source } from './matmul-nbits.ts';

/** The embedding's block size: the largest of 64, 32, 16 that cuts `width` into an even number of blocks. */
export function embeddingBlockSize(width: number): number | undefined {
  return [64, 32, 16].find((block) => width % (2 * block) === 0);
}

/** Declares a [rows, width] table under `name`; returns `gather(ids, nodeName)` → fp32 [...ids, width]. */
export function int4Embedding(g: GraphBuilder, name: string, rows: number, width: number, source: Fp32Source) {
  const blockSize = embeddingBlockSize(width);
  if (blockSize === undefined) throw new Error(`${name}: an int4 embedding needs a row width that is a multiple of 32 (an even number of blocks of 16 or more); this one is ${width}`);
  const blocks = width / blockSize;
  const quantised = sharedQuantised(source, rows, width, { blockSize, symmetric: false }, name, 3);
  const part = quantisedPart(quantised);
  const codes = g.weight({ name: `${name}.weight_q4`, dims: [rows, width / 2], dataType: DataType.UINT8, ...part.codes(), group: name });
  const scales = g.weight({ name: `${name}.weight_scales`, dims: [rows, blocks], dataType: DataType.FLOAT, ...part.of((q) => q.scales), group: name });
  const zeroPoints = g.weight({ name: `${name}.weight_zero_points`, dims: [rows, blocks / 2], dataType: DataType.UINT8, ...part.of((q) => q.zeroPoints!), group: name });
  return (ids: string, nodeName: string): string =>
    g.op('GatherBlockQuantized', [codes, ids, scales, zeroPoints], nodeName, [attr.int('gather_axis', 0), attr.int('quantize_axis', 1), attr.int('block_size', blockSize), attr.int('bits', 4)], 'com.microsoft');
}
