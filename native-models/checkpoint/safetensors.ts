/**
 * Reads one .safetensors file: an 8-byte little-endian header length, a JSON header mapping
 * tensor names to {dtype, shape, data_offsets}, then the raw little-endian data. Tensors are
 * read on demand with positioned reads, optionally a slice of rows at a time, and widened to
 * fp32 — so memory use is bounded by the largest chunk, not the file.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { widenInPlace } from '../numeric/half.ts';
import { readSpan, type Bf16Span } from './bf16-span.ts';
import { takeBuffer } from './buffers.ts';
import { CheckpointError } from './errors.ts';

/** The float types tensors can be read as; other safetensors types are listed but not readable. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

export function isFloatDtype(dtype: string): dtype is SafetensorsDtype {
  return dtype === 'F32' || dtype === 'F16' || dtype === 'BF16';
}
const FLOAT_BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };
const OTHER_BYTES: Record<string, number> = { F64: 8, I64: 8, U64: 8, I32: 4, U32: 4, I16: 2, U16: 2, I8: 1, U8: 1, BOOL: 1, F8_E4M3: 1, F8_E5M2: 1 };
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype | string;
  readonly shape: readonly number[];
  /** Absolute byte offset of the first element in the file. */
  readonly offset: number;
  readonly byteLength: number;
}

export class SafetensorsFile {
  readonly tensors = new Map<string, TensorInfo>();
  readonly metadata: Record<string, string> = {};
  private fd: number | undefined;

  constructor(readonly path: string) {
    const file = basename(path);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw new CheckpointError(`cannot open ${path}: ${(err as Error).message}`);
    }
    this.fd = fd;
    try {
      this.parseHeader(fd, file);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  private parseHeader(fd: number, file: string): void {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(8);
    if (readSync(fd, head, 0, 8, 0) < 8) {
      throw new CheckpointError(`${file}: file is ${size} bytes, too short for a safetensors header; re-download it`);
    }
    const headerLen = Number(head.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) {
      throw new CheckpointError(`${file}: bad safetensors header length ${headerLen} (file is ${size} bytes); the file is not safetensors or is truncated`);
    }
    const json = Buffer.alloc(headerLen);
    readSync(fd, json, 0, headerLen, 8);
    let header: Record<string, unknown>;
    try {
      header = JSON.parse(json.toString('utf8')) as Record<string, unknown>;
    } catch {
      throw new CheckpointError(`${file}: the safetensors header is not valid JSON; the file is corrupt, re-download it`);
    }
    const dataStart = 8 + headerLen;
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        Object.assign(this.metadata, raw);
        continue;
      }
      const entry = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
      const dtype = String(entry.dtype);
      const width = FLOAT_BYTES[dtype as SafetensorsDtype] ?? OTHER_BYTES[dtype];
      if (width === undefined) throw new CheckpointError(`${file}: tensor ${name} has unknown dtype ${dtype}; the file is corrupt or newer than this reader`);
      const shape = entry.shape as number[];
      const offsets = entry.data_offsets as [number, number];
      if (!Array.isArray(shape) || !Array.isArray(offsets) || offsets.length !== 2) {
        throw new CheckpointError(`${file}: tensor ${name} has a malformed header entry`);
      }
      const elements = shape.reduce((a, b) => a * b, 1);
      const byteLength = offsets[1] - offsets[0];
      if (byteLength !== elements * width) {
        throw new CheckpointError(`${file}: tensor ${name} spans ${byteLength} bytes but shape [${shape.join(', ')}] ${dtype} needs ${elements * width}`);
      }
      if (dataStart + offsets[1] > size) {
        throw new CheckpointError(`${file}: truncated — tensor ${name} ends at byte ${dataStart + offsets[1]} but the file has ${size}; re-download it`);
      }
      this.tensors.set(name, { name, dtype, shape, offset: dataStart + offsets[0], byteLength });
    }
  }

  info(name: string): TensorInfo {
    const t = this.tensors.get(name);
    if (!t) throw new CheckpointError(`${basename(this.path)}: tensor ${name} is missing`);
    return t;
  }

  /** Reads `length` bytes at `offset` into `into` from byte `at` on. */
  private readInto(into: Uint8Array, at: number, offset: number, length: number, what: string): void {
    if (this.fd === undefined) throw new Error(`${this.path} is closed`);
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, into, at + done, length - done, offset + done);
      if (n === 0) throw new CheckpointError(`${basename(this.path)}: truncated while reading ${what}; re-download it`);
      done += n;
    }
  }

  /** A float tensor's info and element width; integer buffers (step counters and the like) may sit in a checkpoint, but weights are floats. */
  private floatInfo(name: string): [TensorInfo, number] {
    const t = this.info(name);
    const width = FLOAT_BYTES[t.dtype as SafetensorsDtype];
    if (width === undefined) throw new CheckpointError(`${basename(this.path)}: tensor ${name} is ${t.dtype}; only F32, F16 and BF16 tensors can be loaded as weights`);
    return [t, width];
  }

  /** Elements [start, start+count) of a tensor in row-major order, as fp32. */
  readRange(name: string, start: number, count: number): Float32Array {
    const [t, width] = this.floatInfo(name);
    // One buffer the size of the result, never filled first (every byte is read or computed):
    // 16-bit values are read into its back half and widened in place.
    const out = new Uint8Array(takeBuffer(count * 4));
    const bytes = count * width;
    this.readInto(out, out.length - bytes, t.offset + start * width, bytes, `tensor ${name}`);
    return t.dtype === 'F32' ? new Float32Array(out.buffer, 0, count) : widenInPlace(out.buffer as ArrayBuffer, count, t.dtype as 'BF16' | 'F16');
  }

  /**
   * Elements [start, start+count) of a BF16 tensor as stored: their bit patterns, half the bytes
   * of readRange's fp32, for a consumer that widens them itself (the int4 quantiser does, inside
   * its WebAssembly memory). In a buffer of exactly these bytes from the pool (buffers.ts).
   */
  readBf16Range(name: string, start: number, count: number): Uint16Array {
    return readSpan(this.bf16Span(name, start, count));
  }

  /**
   * Elements [start, start+count) of a BF16 tensor, not read yet: each `read` of the span reads
   * the ones it asks for, straight into the caller's memory (bf16-span.ts).
   */
  bf16Span(name: string, start: number, count: number): Bf16Span {
    const [t] = this.floatInfo(name);
    if (t.dtype !== 'BF16') throw new Error(`${basename(this.path)}: tensor ${name} is ${t.dtype}, not BF16`);
    if (start < 0 || start + count > t.byteLength / 2) throw new Error(`${basename(this.path)}: tensor ${name} has no elements ${start}–${start + count}`);
    return {
      length: count,
      read: (into, from) => {
        if (from < 0 || from + into.length > count) throw new Error(`${basename(this.path)}: a span of ${count} values of ${name} has no values ${from}–${from + into.length}`);
        this.readInto(new Uint8Array(into.buffer, into.byteOffset, into.byteLength), 0, t.offset + (start + from) * 2, into.byteLength, `tensor ${name}`);
      },
    };
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
