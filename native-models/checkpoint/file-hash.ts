/** SHA-256 of whole files (checkpoint shards, copied tokenizer files). */
import { createHash } from 'node:crypto';
import { open, type FileHandle } from 'node:fs/promises';
import { basename } from 'node:path';

export interface FileRecord {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Where hashed files are read: 4 MB through one buffer (a stream's fresh buffer per piece costs
 * page faults).
 */
export function hashBuffer(): Buffer {
  return Buffer.allocUnsafeSlow(4 << 20);
}

/**
 * The SHA-256 of `bytes` bytes of the open `file` from `start`, read through `buffer`, and how
 * many there were (fewer where the file ends first); `signal` stops it between reads.
 */
export async function hashRange(file: FileHandle, start: number, bytes: number, buffer: Buffer, signal?: AbortSignal): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let at = start;
  while (at < start + bytes) {
    signal?.throwIfAborted();
    const { bytesRead } = await file.read(buffer, 0, Math.min(buffer.length, start + bytes - at), at);
    if (bytesRead === 0) break;
    hash.update(buffer.subarray(0, bytesRead));
    at += bytesRead;
  }
  return { bytes: at - start, sha256: hash.digest('hex') };
}

/** The whole file's SHA-256 (hashRange); `signal` stops it between reads. */
export async function hashFile(path: string, signal?: AbortSignal): Promise<FileRecord> {
  signal?.throwIfAborted();
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    return { file: basename(path), ...(await hashRange(file, 0, size, hashBuffer(), signal)) };
  } finally {
    await file.close();
  }
}

/**
 * Compares a file with its whole-file record: none when it matches, else one line saying what
 * differs and `fix` (what to do about it).
 */
export async function checkWholeFile(path: string, record: { readonly bytes: number; readonly sha256: string }, fix: string, signal?: AbortSignal): Promise<string[]> {
  const found = await hashFile(path, signal);
  if (found.bytes !== record.bytes) return [`${found.file}: ${found.bytes} bytes, the manifest says ${record.bytes}; ${fix}`];
  return found.sha256 === record.sha256 ? [] : [`${found.file}: its SHA-256 is ${found.sha256}, the manifest says ${record.sha256}; ${fix}`];
}
