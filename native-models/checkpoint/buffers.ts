/**
 * Buffers for tensor reads, reused where a thread gets them back. A parallel import's workers
 * read every chunk into a fresh buffer and hand it to the main thread, which hashes it and hands
 * it back (weight-pool.ts): reading the next chunk into it spares the page faults of new memory
 * (and the freeing thread's unmapping), which cost more than the read itself. A thread that never
 * gives buffers back (a single-threaded import) just gets new ones.
 */
const free = new Map<number, ArrayBuffer[]>();
let held = 0;
/** Buffers kept per thread at most; more are left to the garbage collector. */
const LIMIT = 32 * 2 ** 20;

/** An ArrayBuffer of exactly `bytes`, contents undefined: every byte must be written before use. */
export function takeBuffer(bytes: number): ArrayBuffer {
  const reused = free.get(bytes)?.pop();
  if (reused) {
    held -= bytes;
    return reused;
  }
  // Never pooled by Node, so it starts at byte 0 of its own ArrayBuffer (aligned for any typed view).
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** A buffer nothing uses any more, for the next takeBuffer of its size on this thread. */
export function giveBackBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === 0 || held + buffer.byteLength > LIMIT) return;
  held += buffer.byteLength;
  const list = free.get(buffer.byteLength);
  if (list) list.push(buffer);
  else free.set(buffer.byteLength, [buffer]);
}
