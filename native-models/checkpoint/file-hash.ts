/** SHA-256 of whole files (checkpoint shards, copied tokenizer files). */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';

export interface FileRecord {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

/**
 * Reads the file in 4 MB pieces through one buffer (a stream's fresh buffer per piece costs page
 * faults); `signal` stops it between pieces.
 */
export async function hashFile(path: string, signal?: AbortSignal): Promise<FileRecord> {
  const hash = createHash('sha256');
  const buffer = Buffer.allocUnsafeSlow(4 << 20);
  const file = await open(path, 'r');
  try {
    let bytes = 0;
    for (;;) {
      signal?.throwIfAborted();
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) break;
      hash.update(buffer.subarray(0, bytesRead));
      bytes += bytesRead;
    }
    return { file: basename(path), bytes, sha256: hash.digest('hex') };
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
