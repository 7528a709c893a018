/**
 * Reads a model's external weight files once, front to back, before onnxruntime opens them.
 * One long sequential read fills the page cache much faster than the scattered page faults of
 * a memory map would, and unlike onnxruntime's session creation it can say how far it got.
 * One buffer is reused for every chunk, so memory stays flat whatever the model size.
 */
import { open, stat } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { CheckpointError } from './errors.ts';

export interface WeightFile {
  readonly path: string;
  /** The size the manifest records. */
  readonly bytes: number;
}

export interface ReadAheadOptions {
  /** Bytes per read (default 16 MiB): large enough that the disk streams, small enough to report often. */
  readonly chunkBytes?: number;
  /** The machine's memory, for the skip rule (default os.totalmem()). */
  readonly memoryBytes?: number;
}

export const DEFAULT_CHUNK_BYTES = 16 << 20;
/**
 * Above this share of memory the page cache cannot hold all the weights until the sessions map
 * them: the first files would be evicted by the last, so the read would be wasted.
 */
export const MAX_MEMORY_SHARE = 0.8;

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

/** Why reading `totalBytes` ahead would not help on a machine with `memoryBytes`, or undefined when it would. */
export function readAheadSkipReason(totalBytes: number, memoryBytes: number = totalmem()): string | undefined {
  if (totalBytes <= MAX_MEMORY_SHARE * memoryBytes) return undefined;
  return `not reading ahead: ${gb(totalBytes)} of weights is over ${MAX_MEMORY_SHARE * 100}% of this machine's ${gb(memoryBytes)} of memory, so onnxruntime reads them as it maps them`;
}

/** Checks that every weight file is there and has the size the manifest records (cheap: one stat each). */
export async function checkWeightFiles(files: readonly WeightFile[]): Promise<void> {
  for (const f of files) {
    const info = await stat(f.path).catch(() => undefined);
    if (!info?.isFile()) throw new CheckpointError(`weight file ${f.path} is missing; re-run \`kestrel model import\` into this folder`);
    if (info.size !== f.bytes) {
      throw new CheckpointError(`weight file ${f.path} is ${info.size} bytes but the manifest records ${f.bytes}; the folder is damaged or incomplete, re-run \`kestrel model import\``);
    }
  }
}

/**
 * Reads every file in order, calling `onProgress` after each chunk with the bytes read so far
 * (over all files) and the file being read. Stops with the signal's reason when aborted.
 * Returns the bytes read.
 */
export async function readAhead(
  files: readonly WeightFile[],
  opts: ReadAheadOptions & { readonly signal?: AbortSignal; readonly onProgress?: (done: number, total: number, file: string) => void } = {},
): Promise<number> {
  const total = files.reduce((sum, f) => sum + f.bytes, 0);
  const buffer = Buffer.allocUnsafe(Math.max(1, Math.min(opts.chunkBytes ?? DEFAULT_CHUNK_BYTES, total)));
  let done = 0;
  for (const f of files) {
    opts.signal?.throwIfAborted();
    const handle = await open(f.path, 'r');
    try {
      for (let position = 0; position < f.bytes; ) {
        opts.signal?.throwIfAborted();
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, f.bytes - position), position);
        if (bytesRead === 0) throw new CheckpointError(`weight file ${f.path} ends at byte ${position}, before the ${f.bytes} the manifest records; re-run \`kestrel model import\``);
        position += bytesRead;
        done += bytesRead;
        opts.onProgress?.(done, total, f.path);
      }
    } finally {
      await handle.close();
    }
  }
  return done;
}
