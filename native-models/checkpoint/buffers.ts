/**
 * Buffers for tensor reads and conversions, reused where a thread gets them back: each import
 * worker reads, quantises or narrows into them, writes them out and gives them back (weight-worker.ts,
 * model-writer.ts spendChunk), so the next chunk reuses their memory. Memory touched for the first
 * time costs more than most of what is done with it: on the development VM a 64 MB read took about
 * 300 ms into fresh memory and 4 ms into memory touched before. takeBuffer hands out buffers of an
 * exact size, takeBytes the front of one that may be larger (for arrays of many sizes).
 */
const free = new Map<number, ArrayBuffer[]>();
/** Every pooled buffer, oldest first: room for a new one is made by dropping the oldest. */
const order = new Set<ArrayBuffer>();
let held = 0;
/** Bytes kept per thread at most; the oldest buffers beyond it are left to the garbage collector. */
const LIMIT = 32 * 2 ** 20;

/** An ArrayBuffer of exactly `bytes`, contents undefined: every byte must be written before use. */
export function takeBuffer(bytes: number): ArrayBuffer {
  return free.has(bytes) ? takePooled(bytes) : fresh(bytes);
}

/**
 * Buffers lent by takeBytes, with the length of the view each was lent as: giveBackChunk pools
 * such a buffer when it is handed that view (byte 0, that length), though it spans less than the
 * whole buffer.
 */
const lent = new WeakMap<ArrayBuffer, number>();

/**
 * `bytes` bytes from byte 0 of a pooled buffer that may be larger (up to twice as large, so that
 * small arrays do not take the large buffers the next large array needs), contents undefined;
 * giveBackChunk takes the view back. For arrays of many sizes, each made once or a few times, such
 * as an int4 import's codes, scales and zero points: a pool of exact sizes misses on the first of
 * each size, and memory touched for the first time costs more than quantising into it (an int4
 * import of the 1 GB benchmark checkpoint missed 38–53 MB a worker that way, docs/wasm-kernels.md).
 * A fresh buffer is made a little larger (rounded up to an eighth of its power of two), so that
 * the next array of a near size fits it too.
 */
export function takeBytes(bytes: number): Uint8Array {
  let best: number | undefined;
  for (const size of free.keys()) if (size >= bytes && size <= 2 * bytes && (best === undefined || size < best)) best = size;
  const buffer = best !== undefined ? takePooled(best) : fresh(roundedUp(bytes));
  lent.set(buffer, bytes);
  return new Uint8Array(buffer, 0, bytes);
}

/** The newest pooled buffer of exactly `bytes` (there is one). */
function takePooled(bytes: number): ArrayBuffer {
  const list = free.get(bytes)!;
  const buffer = list.pop()!;
  if (list.length === 0) free.delete(bytes);
  order.delete(buffer);
  held -= bytes;
  return buffer;
}

function fresh(bytes: number): ArrayBuffer {
  // Never pooled by Node, so it starts at byte 0 of its own ArrayBuffer (aligned for any typed view).
  return Buffer.allocUnsafeSlow(bytes).buffer as ArrayBuffer;
}

/** `bytes` rounded up to the next eighth of its power of two (at most 12.5% more), from 64 KiB up. */
function roundedUp(bytes: number): number {
  if (bytes < 1 << 16) return bytes;
  const step = 2 ** (Math.floor(Math.log2(bytes)) - 3);
  return Math.ceil(bytes / step) * step;
}

/**
 * A buffer nothing uses any more, for the next takeBuffer of its size on this thread. The pool
 * keeps the newest: an import moves from one tensor size to the next (the embedding's chunks,
 * then each layer's experts), and buffers of sizes no longer read must not crowd out the next.
 */
export function giveBackBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === 0 || buffer.byteLength > LIMIT || order.has(buffer)) return;
  lent.delete(buffer);
  for (const oldest of order) {
    if (held + buffer.byteLength <= LIMIT) break;
    order.delete(oldest);
    const list = free.get(oldest.byteLength)!;
    list.splice(list.indexOf(oldest), 1);
    if (list.length === 0) free.delete(oldest.byteLength);
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

/**
 * Gives back the memory of a spent chunk that spans its whole buffer, or is the view takeBytes lent
 * (byte 0, the length lent); any other view into a larger buffer is left alone.
 */
export function giveBackChunk(chunk: ArrayBufferView): void {
  if (spansWholeBuffer(chunk)) giveBackBuffer(chunk.buffer);
  else if (chunk.byteOffset === 0 && chunk.buffer instanceof ArrayBuffer && lent.get(chunk.buffer) === chunk.byteLength) giveBackBuffer(chunk.buffer);
}
