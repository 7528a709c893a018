/**
 * Writes a built graph as `<name>.onnx` plus `<name>.onnx.data`: weights are streamed into the
 * data file one chunk at a time (never a whole checkpoint in memory), page-aligned so
 * onnxruntime can memory-map them, and both files are hashed as they are written: the model
 * file whole, the data file piece by piece (piece-hashes.ts). The weights are made here, on this
 * thread, or by worker threads (weight-pool.ts) into the same layout: both give the same bytes
 * and the same pieces.
 */
import { createHash } from 'node:crypto';
import { closeSync, fdatasync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { giveBackChunk, takeBuffer } from '../checkpoint/buffers.ts';
import { float32ToFloat16 } from '../numeric/half.ts';
import { checkKernelView, isKernelMemory } from '../wasm/kernels.ts';
import { dataLayout, PART_BYTES, pieceStarts, unitPlaces, weightBytes, weightUnits, type DataLayout } from './data-layout.ts';
import type { GraphBuilder, WeightSpec } from './graph-builder.ts';
import { DataType, encodeModel, type ModelProto, type TensorProto } from './onnx-proto.ts';
import { filePieces, PieceHasher, type PieceRecord } from './piece-hashes.ts';

export const IR_VERSION = 10;
export const OPSETS = [
  { domain: '', version: 21 },
  { domain: 'com.microsoft', version: 1 },
] as const;

export interface WrittenModel {
  readonly modelFile: string;
  readonly dataFile: string;
  readonly modelSha256: string;
  /** The data file's pieces and their SHA-256s, in file order. */
  readonly dataPieces: readonly PieceRecord[];
  readonly modelBytes: number;
  readonly dataBytes: number;
}

export interface WriteProgress {
  readonly weight: string;
  readonly index: number;
  readonly count: number;
  readonly bytesWritten: number;
}

/**
 * A produced chunk as the bytes the data file holds (fp32 as is, fp16 converted into a pooled
 * buffer, packed bytes as they are). Once written, both are spent: spendChunk.
 */
export function encodeChunk(spec: WeightSpec, chunk: Float32Array | Uint8Array): Uint8Array {
  checkKernelView(chunk);
  // Packed (quantised) weights arrive as bytes and are written as they are.
  if ((spec.dataType === DataType.UINT8) !== chunk instanceof Uint8Array) throw new Error(`weight ${spec.name}: uint8 weights must be produced as bytes, others as float32`);
  if (chunk instanceof Uint8Array) return chunk;
  if (spec.dataType === DataType.FLOAT) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const half = float32ToFloat16(chunk, undefined, new Uint16Array(takeBuffer(2 * chunk.length)));
  return new Uint8Array(half.buffer);
}

/**
 * A written chunk is spent (a WeightSpec's chunks are the consumer's): its memory, and that of
 * its encoded bytes when they are a buffer of their own, goes to this thread's next read,
 * conversion or quantised weight of its size, which then costs no page faults.
 */
export function spendChunk(chunk: Float32Array | Uint8Array, bytes: Uint8Array): void {
  // A chunk widened in the kernel memory (import-graphs.ts) is a view of it: never pooled.
  if (isKernelMemory(chunk.buffer)) return;
  giveBackChunk(chunk);
  if (bytes.buffer !== chunk.buffer) giveBackChunk(bytes);
}

/** Writes all of `bytes` into the open file at `position` (a write may take fewer bytes than asked). */
export function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
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
 * padding included; returns the SHA-256s of the file's pieces (data-layout.ts pieceStarts).
 * `onWeight` is told, in order, as each weight is complete.
 */
export interface WeightsWriter {
  write(weights: readonly WeightSpec[], layout: DataLayout, fd: number, onWeight: (index: number) => void): Promise<{ pieces: PieceRecord[] }>;
}

/**
 * Every weight produced and written on this thread, front to back, hashed in the pieces a pool
 * with the same `partBytes` hashes (the same record whoever writes the file).
 */
export function inThisThread(partBytes = PART_BYTES): WeightsWriter {
  return {
    async write(weights, layout, fd, onWeight) {
      const starts = pieceStarts(unitPlaces(weights, layout, weightUnits(weights, partBytes)));
      const hasher = new PieceHasher();
      hasher.at(0);
      let next = 1;
      const flush = backgroundFlush(fd);
      let offset = 0;
      const write = (bytes: Uint8Array): void => {
        writeAll(fd, bytes, offset);
        // Cut where the next piece starts.
        for (let at = 0; at < bytes.length; ) {
          const n = Math.min(bytes.length - at, (starts[next] ?? Infinity) - offset);
          hasher.update(bytes.subarray(at, at + n));
          at += n;
          offset += n;
          if (offset === starts[next]) hasher.cut(starts[next++]!);
        }
        flush.wrote(bytes.length);
      };
      try {
        for (const [index, spec] of weights.entries()) {
          const start = layout.offsets[index]!;
          if (start > offset) write(new Uint8Array(start - offset));
          for await (const chunk of spec.produce()) {
            const bytes = encodeChunk(spec, chunk);
            write(bytes);
            spendChunk(chunk, bytes);
          }
          if (offset - start !== weightBytes(spec)) throw wrongSize(spec, offset - start);
          onWeight(index);
        }
      } finally {
        await flush.settled();
      }
      return { pieces: filePieces(hasher.finish(), starts, layout.bytes) };
    },
  };
}

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
  let dataPieces: PieceRecord[];
  let model: Uint8Array;
  try {
    const onWeight = (index: number) => {
      const spec = graph.weights[index]!;
      opts.onProgress?.({ weight: spec.name, index, count: graph.weights.length, bytesWritten: layout.offsets[index]! + weightBytes(spec) });
    };
    const weights = (opts.weights ?? inThisThread()).write(graph.weights, layout, fd, onWeight);
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
    ({ pieces: dataPieces } = await weights);
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
    dataPieces,
    modelBytes: model.length,
    dataBytes: layout.bytes,
  };
}
