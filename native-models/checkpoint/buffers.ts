/**
 * Buffers for tensor reads, reused where a thread gets them back. A parallel import's workers
 * read every chunk into a fresh buffer and hand it to the main thread, which hashes it and hands
 * it back (weight-pool.ts); the int4 quantiser gives back each chunk it has quantised. Reading the
 * next chunk into a used buffer spares the page faults of new memory (and the freeing thread's
 * unmapping), which cost more than the read itself: on the development VM a 64 MB read took
 * about 300 ms into fresh memory and 4 ms into memory touched before.
 */
const free = new Map<number, ArrayBuffer[]>();
/** Every pooled buffer, oldest first: room for a new one is made by dropping the oldest. */
const order = new Set<ArrayBuffer>();
let held = 0;
/** Bytes kept per thread at most; the oldest buffers beyond it are left to the garbage collector. */
const LIMIT = 32 * 2 ** 20;

/** An ArrayBuffer of exactly `bytes`, contents undefined: every byte must be written before use. */
export function takeBuffer(bytes: number): ArrayBuffer {
  const reused = free.get(bytes)?.pop();
  if (reused) {
    order.delete(reused);
    held -= bytes;
    return reused;
  }
  // Never pooled by Node, so it starts at byte 0 of its own ArrayBuffer (aligned for any typed view).
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/**
 * A buffer nothing uses any more, for the next takeBuffer of its size on this thread. The pool
 * keeps the newest: an import moves from one tensor size to the next (the embedding's chunks,
 * then each layer's experts), and buffers of sizes no longer read must not crowd out the next.
 */
export function giveBackBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === 0 || buffer.byteLength > LIMIT || order.has(buffer)) return;
  for (const oldest of order) {
    if (held + buffer.byteLength <= LIMIT) break;
    order.delete(oldest);
    const list = free.get(oldest.byteLength)!;
    list.splice(list.indexOf(oldest), 1);
    held -= oldest.byteLength;
  }
  order.add(buffer);
  held += buffer.byteLength;
  const list = free.get(buffer.byteLength);
  if (list) list.push(buffer);
  else free.set(buffer.byteLength, [buffer]);
}

/** Whether `view` spans the whole of its (non-shared) buffer: only then may the buffer change hands. */
export function spansWholeBuffer(view: ArrayBufferView): view is ArrayBufferView & { readonly buffer: ArrayBuffer } {
  return view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer;
}

/** Gives back the memory of a spent chunk that spans its whole buffer; a view into a larger buffer is left alone. */
export function giveBackChunk(chunk: ArrayBufferView): void {
  if (spansWholeBuffer(chunk)) giveBackBuffer(chunk.buffer);
}
