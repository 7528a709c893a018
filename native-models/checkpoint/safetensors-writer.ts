/**
 * Writes a .safetensors file from tensors whose values are produced chunk by chunk, so test
 * and benchmark checkpoints of any size can be generated without holding them in memory.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { float32ToBfloat16, float32ToFloat16 } from '../numeric/half.ts';
import type { SafetensorsDtype } from './safetensors.ts';

export interface TensorToWrite {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Yields the values in row-major order as fp32; converted to `dtype` on write. */
  readonly values: () => Iterable<Float32Array>;
}

const BYTES: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

export function writeSafetensors(path: string, tensors: readonly TensorToWrite[], metadata: Record<string, string> = { format: 'pt' }): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  for (const t of tensors) {
    const length = t.shape.reduce((a, b) => a * b, 1) * BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const fd = openSync(path, 'w');
  try {
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(headerBytes.length));
    writeSync(fd, len);
    writeSync(fd, headerBytes);
    for (const t of tensors) {
      let written = 0;
      for (const chunk of t.values()) {
        const data =
          t.dtype === 'F32' ? new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
          : t.dtype === 'BF16' ? new Uint8Array(float32ToBfloat16(chunk).buffer)
          : new Uint8Array(float32ToFloat16(chunk).buffer);
        writeSync(fd, data);
        written += chunk.length;
      }
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (written !== expected) throw new Error(`${t.name}: produced ${written} values, shape needs ${expected}`);
    }
  } finally {
    closeSync(fd);
  }
}
