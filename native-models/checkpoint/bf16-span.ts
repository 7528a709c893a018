/**
 * bf16 values not yet read: a range of a checkpoint's tensor (or of several, one after another),
 * which its consumer reads into memory of its own choosing when it uses them. The int4 quantiser
 * reads them straight into its WebAssembly memory, a block of rows at a time, so the bytes are
 * copied once (from the page cache) instead of into a read buffer and again into the module.
 *
 * Ownership: a span holds no memory, only where its values are. Every `read` copies them afresh
 * into the memory the caller passes, which the caller owns; so two spans (an expert's gate and up
 * halves, say) never share memory however long either is kept, and the reader keeps nothing that
 * a later read could overwrite. A span made over values already in memory (spanOfValues) owns
 * that array until its consumer calls `release`, which gives a pooled buffer back.
 */
import { giveBackChunk, takeBuffer } from './buffers.ts';

export interface Bf16Span {
  /** How many values. */
  readonly length: number;
  /**
   * Copies values [from, from + into.length) into `into`. It must not run the WASM kernels
   * itself: `into` may be a view of their memory, which growing would detach.
   */
  read(into: Uint16Array, from: number): void;
  /** Called by the consumer once it has read all it needs: the span's memory, if it holds any, is given back. */
  release?(): void;
}

export function isBf16Span(values: unknown): values is Bf16Span {
  return typeof (values as Bf16Span | undefined)?.read === 'function';
}

/** A span over bit patterns already in memory; its release gives their buffer back when it is a whole pooled one. */
export function spanOfValues(values: Uint16Array): Bf16Span {
  return {
    length: values.length,
    read: (into, from) => into.set(values.subarray(from, from + into.length)),
    release: () => giveBackChunk(values),
  };
}

/** `parts` one after another, as one span (an fc1 expert's gate rows, then its up rows). */
export function joinSpans(parts: readonly Bf16Span[]): Bf16Span {
  const length = parts.reduce((sum, p) => sum + p.length, 0);
  return {
    length,
    read(into, from) {
      let start = 0;
      let done = 0;
      for (const part of parts) {
        const end = start + part.length;
        if (from + done < end && done < into.length) {
          const at = from + done - start;
          const count = Math.min(part.length - at, into.length - done);
          part.read(into.subarray(done, done + count), at);
          done += count;
        }
        start = end;
      }
      if (done !== into.length) throw new Error(`a span of ${length} values has no values ${from}–${from + into.length}`);
    },
    release: () => parts.forEach((p) => p.release?.()),
  };
}

/** A span's values read into a pooled buffer of their size (for a consumer that needs them in memory); the span is not released. */
export function readSpan(span: Bf16Span): Uint16Array {
  const out = new Uint16Array(takeBuffer(2 * span.length));
  span.read(out, 0);
  return out;
}
