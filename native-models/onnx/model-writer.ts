/**
 * Writes a built graph as `<name>.onnx` plus `<name>.onnx.data`: weights are streamed into the
 * data file one chunk at a time (never a whole checkpoint in memory), page-aligned so
 * onnxruntime can memory-map them, and both files are hashed as they are written.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { float32ToFloat16 } from '../numeric/half.ts';
import type { GraphBuilder, WeightSpec } from './graph-builder.ts';
import { DataType, encodeModel, type TensorProto } from './onnx-proto.ts';

/** Every weight starts on a page boundary in the data file, so onnxruntime can memory-map it. */
export const ALIGN = 4096;
export const IR_VERSION = 10;
export const OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
] as const;

export interface WrittenModel {
  readonly modelFile: string;
  readonly dataFile: string;
  readonly modelSha256: string;
  readonly dataSha256: string;
  readonly modelBytes: number;
  readonly dataBytes: number;
}

export interface WriteProgress {
  readonly weight: string;
  readonly index: number;
  readonly count: number;
  readonly bytesWritten: number;
}

function bytesPerElement(spec: WeightSpec): number {
  if (spec.dataType === DataType.FLOAT) return 4;
  if (spec.dataType === DataType.FLOAT16) return 2;
  if (spec.dataType === DataType.UINT8) return 1;
  throw new Error(`weight ${spec.name}: only float32, float16 and uint8 weights can be written`);
}

/** Bytes one weight takes in the data file. */
function weightBytes(spec: WeightSpec): number {
  return spec.dims.reduce((a, b) => a * b, 1) * bytesPerElement(spec);
}

/**
 * What writeModel will put in `<name>.onnx.data` for these weights, page alignment included,
 * worked out from their declared shapes without producing any value.
 */
export function plannedDataBytes(weights: readonly WeightSpec[]): number {
  let offset = 0;
  for (const spec of weights) offset += (ALIGN - (offset % ALIGN)) % ALIGN + weightBytes(spec);
  return offset;
}

function encodeChunk(spec: WeightSpec, chunk: Float32Array | Uint8Array): Uint8Array {
  // Packed (quantised) weights arrive as bytes and are written as they are.
  if ((spec.dataType === DataType.UINT8) !== chunk instanceof Uint8Array) throw new Error(`weight ${spec.name}: uint8 weights must be produced as bytes, others as float32`);
  if (chunk instanceof Uint8Array) return chunk;
  if (spec.dataType === DataType.FLOAT) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const half = float32ToFloat16(chunk);
  return new Uint8Array(half.buffer);
}

export async function writeModel(
  graph: GraphBuilder,
  dir: string,
  name: string,
  opts: { metadata?: Record<string, string>; onProgress?: (p: WriteProgress) => void } = {},
): Promise<WrittenModel> {
  const modelFile = join(dir, `${name}.onnx`);
  const dataFile = `${modelFile}.data`;
  const dataHash = createHash('sha256');
  const fd = openSync(`${dataFile}.partial`, 'w');
  const initializers: TensorProto[] = [...graph.constants];
  let offset = 0;
  const write = (bytes: Uint8Array): void => {
    let done = 0;
    while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
    dataHash.update(bytes);
    offset += bytes.length;
  };
  try {
    for (const [index, spec] of graph.weights.entries()) {
      const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
      if (pad) write(new Uint8Array(pad));
      const start = offset;
      const expected = weightBytes(spec);
      for await (const chunk of spec.produce()) write(encodeChunk(spec, chunk));
      if (offset - start !== expected) {
        throw new Error(`weight ${spec.name}: produced ${offset - start} bytes, expected ${expected} for shape [${spec.dims.join(', ')}]`);
      }
      initializers.push({
        name: spec.name,
        dims: spec.dims,
        dataType: spec.dataType,
        external: { location: basename(dataFile), offset: start, length: expected },
      });
      opts.onProgress?.({ weight: spec.name, index, count: graph.weights.length, bytesWritten: offset });
    }
    fsyncSync(fd);
  } catch (err) {
    // A failed import leaves no half-written weights behind (and the folder reusable).
    closeSync(fd);
    rmSync(`${dataFile}.partial`, { force: true });
    throw err;
  }
  closeSync(fd);
  const model = encodeModel({
    irVersion: IR_VERSION,
    opsets: OPSETS,
    producerName: 'kestrel',
    producerVersion: '0.1.0',
    metadata: opts.metadata,
    graph: { name, nodes: graph.nodes, initializers, inputs: graph.inputs, outputs: graph.outputs },
  });
  const mfd = openSync(`${modelFile}.partial`, 'w');
  try {
    writeSync(mfd, model);
    fsyncSync(mfd);
  } finally {
    closeSync(mfd);
  }
  renameSync(`${dataFile}.partial`, dataFile);
  renameSync(`${modelFile}.partial`, modelFile);
  return {
    modelFile,
    dataFile,
    modelSha256: createHash('sha256').update(model).digest('hex'),
    dataSha256: dataHash.digest('hex'),
    modelBytes: model.length,
    dataBytes: offset,
  };
}
