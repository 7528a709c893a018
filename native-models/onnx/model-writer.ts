/**
 * Writes a built graph as `<name>.onnx` plus `<name>.onnx.data`: weights are streamed into the
 * data file one chunk at a time (never a whole checkpoint in memory), page-aligned so
 * onnxruntime can memory-map them, and both files are hashed as they are written. The weights
 * are made here, on this thread, or by worker threads (weight-pool.ts) into the same layout:
 * both give the same bytes.
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { giveBackChunk } from '../checkpoint/buffers.ts';
import { float32ToFloat16 } from '../numeric/half.ts';
import type { GraphBuilder, WeightSpec } from './graph-builder.ts';
import { DataType, encodeModel, type ModelProto, type TensorProto } from './onnx-proto.ts';

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
export function weightBytes(spec: WeightSpec): number {
  return spec.dims.reduce((a, b) => a * b, 1) * bytesPerElement(spec);
}

/** Where each weight starts in `<name>.onnx.data` (after its page-alignment padding), and the file's size. */
export interface DataLayout {
  readonly offsets: readonly number[];
  readonly bytes: number;
}

/** The data file's layout, worked out from the weights' declared shapes without producing any value. */
export function dataLayout(weights: readonly WeightSpec[]): DataLayout {
  const offsets: number[] = [];
  let end = 0;
  for (const spec of weights) {
    const start = end + ((ALIGN - (end % ALIGN)) % ALIGN);
    offsets.push(start);
    end = start + weightBytes(spec);
  }
  return { offsets, bytes: end };
}

/** What writeModel will put in `<name>.onnx.data` for these weights, page alignment included. */
export function plannedDataBytes(weights: readonly WeightSpec[]): number {
  return dataLayout(weights).bytes;
}

/** A produced chunk as the bytes the data file holds (fp32 as is, fp16 converted, packed bytes as they are). */
export function encodeChunk(spec: WeightSpec, chunk: Float32Array | Uint8Array): Uint8Array {
  // Packed (quantised) weights arrive as bytes and are written as they are.
  if ((spec.dataType === DataType.UINT8) !== chunk instanceof Uint8Array) throw new Error(`weight ${spec.name}: uint8 weights must be produced as bytes, others as float32`);
  if (chunk instanceof Uint8Array) return chunk;
  if (spec.dataType === DataType.FLOAT) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const half = float32ToFloat16(chunk);
  return new Uint8Array(half.buffer);
}

/**
 * Bytes of one row of `spec` cut into `rows` rows: by default its first dimension; a quantised
 * group's weights are all cut by their group's rows (the matrix's), each holding its share of a row.
 */
export function rowBytes(spec: WeightSpec, rows = spec.dims[0] ?? 1): number {
  return weightBytes(spec) / rows;
}

/** The error for a weight (or rows [a, b) of it, `expected` bytes) whose producer made the wrong number of bytes. */
export function wrongSize(spec: WeightSpec, produced: number, part?: { readonly rows: readonly [number, number]; readonly expected: number }): Error {
  if (!part) return new Error(`weight ${spec.name}: produced ${produced} bytes, expected ${weightBytes(spec)} for shape [${spec.dims.join(', ')}]`);
  return new Error(`weight ${spec.name}: rows ${part.rows[0]}–${part.rows[1]} produced ${produced} bytes, expected ${part.expected} for shape [${spec.dims.join(', ')}]`);
}

/** Bytes written between two background flushes of a data file (backgroundFlush). */
export const FLUSH_BYTES = 64 * 2 ** 20;

/**
 * Hands a data file's written pages to the disk as the writing goes on: every `every` bytes an
 * fdatasync runs on libuv's thread pool (one at a time; nothing waits for it). Left alone, the
 * kernel starts writing only once a tenth of memory is dirty, so the fsync before the file's
 * rename would then wait for gigabytes the disk could have taken while the weights were being
 * made. Its errors are the final fsync's to report. `settled` waits for the one under way, so
 * that the file is closed only after it.
 */
export function backgroundFlush(fd: number, every = FLUSH_BYTES): { wrote(bytes: number): void; settled(): Promise<void> } {
  let since = 0;
  let pending: Promise<void> | undefined;
  return {
    wrote(bytes) {
      since += bytes;
      if (since < every || pending) return;
      since = 0;
      pending = new Promise<void>((done) => fdatasync(fd, () => ((pending = undefined), done())));
    },
    settled: () => pending ?? Promise.resolve(),
  };
}

/**
 * Makes a graph's weights and writes them into the open data file at the layout's offsets,
 * padding included; returns the SHA-256 of the whole file. `onWeight` is told, in order, as
 * each weight is complete.
 */
export interface WeightsWriter {
  write(weights: readonly WeightSpec[], layout: DataLayout, fd: number, onWeight: (index: number) => void): Promise<{ sha256: string }>;
}

/** Every weight produced and written on this thread, front to back. */
export const inThisThread: WeightsWriter = {
  async write(weights, layout, fd, onWeight) {
    const hash = createHash('sha256');
    const flush = backgroundFlush(fd);
    let offset = 0;
    const write = (bytes: Uint8Array): void => {
      let done = 0;
      while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
      hash.update(bytes);
      offset += bytes.length;
      flush.wrote(bytes.length);
    };
    try {
      for (const [index, spec] of weights.entries()) {
        const start = layout.offsets[index]!;
        if (start > offset) write(new Uint8Array(start - offset));
        for await (const chunk of spec.produce()) {
          write(encodeChunk(spec, chunk));
          // Written, the chunk is spent (a WeightSpec's chunks are the consumer's): its memory
          // goes to this thread's next read or quantised weight of its size.
          giveBackChunk(chunk);
        }
        if (offset - start !== weightBytes(spec)) throw wrongSize(spec, offset - start);
        onWeight(index);
      }
    } finally {
      await flush.settled();
    }
    return { sha256: hash.digest('hex') };
  },
};

/**
 * The model file's content for `graph`: its nodes and constants, and its weights as references
 * into the data file `dataFile` (a name beside the model) at the offsets `dataLayout` gives.
 */
export function modelProto(graph: GraphBuilder, name: string, dataFile: string, metadata?: Record<string, string>, layout = dataLayout(graph.weights)): ModelProto {
  const initializers: TensorProto[] = [
    ...graph.constants,
    ...graph.weights.map((spec, i) => ({
      name: spec.name,
      dims: spec.dims,
      dataType: spec.dataType,
      external: { location: dataFile, offset: layout.offsets[i]!, length: weightBytes(spec) },
    })),
  ];
  return {
    irVersion: IR_VERSION,
    opsets: OPSETS,
    producerName: 'kestrel',
    producerVersion: '0.1.0',
    metadata,
    graph: { name, nodes: graph.nodes, initializers, inputs: graph.inputs, outputs: graph.outputs },
  };
}

export async function writeModel(
  graph: GraphBuilder,
  dir: string,
  name: string,
  opts: { metadata?: Record<string, string>; onProgress?: (p: WriteProgress) => void; weights?: WeightsWriter } = {},
): Promise<WrittenModel> {
  const modelFile = join(dir, `${name}.onnx`);
  const dataFile = `${modelFile}.data`;
  const layout = dataLayout(graph.weights);
  const fd = openSync(`${dataFile}.partial`, 'w');
  let dataSha256: string;
  let model: Uint8Array;
  try {
    const onWeight = (index: number) => {
      const spec = graph.weights[index]!;
      opts.onProgress?.({ weight: spec.name, index, count: graph.weights.length, bytesWritten: layout.offsets[index]! + weightBytes(spec) });
    };
    const weights = (opts.weights ?? inThisThread).write(graph.weights, layout, fd, onWeight);
    // Encoded while the weights are made (the model file is written after them): with worker
    // threads, this thread is otherwise idle while they start (a few tenths of a second), and
    // the encoding (0.2 s for a mid-size int4 graph) is no longer between the last weight and
    // the next graph's first. Nothing a weight's production does changes the graph.
    try {
      model = encodeModel(modelProto(graph, name, basename(dataFile), opts.metadata, layout));
    } catch (err) {
      // The weights are still being written into `fd`: they end before it is closed.
      await weights.catch(() => undefined);
      throw err;
    }
    ({ sha256: dataSha256 } = await weights);
    fsyncSync(fd);
  } catch (err) {
    // A failed import leaves no half-written weights behind (and the folder reusable).
    closeSync(fd);
    rmSync(`${dataFile}.partial`, { force: true });
    throw err;
  }
  closeSync(fd);
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
    dataSha256,
    modelBytes: model.length,
    dataBytes: layout.bytes,
  };
}
