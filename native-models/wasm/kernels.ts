/**
 * The import's per-value kernels in WebAssembly SIMD (kernels.wat, committed compiled in
 * kernels-binary.ts): int4 block quantisation, bf16 → fp32 widening and fp32 → fp16 narrowing,
 * the same bytes as the JS versions in quantization/int4-blocks.ts and numeric/half.ts, which stay as the reference and
 * as the fallback where the engine has no WebAssembly SIMD (docs/wasm-kernels.md).
 *
 * WebAssembly works on its own memory only, so each call brings its input in (copied, or a bf16
 * span read straight from the checkpoint file) and copies the result out, a block at a time:
 * memory grows to the largest block and is reused, and the kernels work through it in pieces
 * small enough (a few hundred KB) to stay in the cache. Every thread (the import's workers)
 * instantiates its own module and memory on first use.
 */
import { spanOfValues, type Bf16Span } from '../checkpoint/bf16-span.ts';
import { KERNELS_WASM_BASE64 } from './kernels-binary.ts';

/** Which implementation runs: 'wasm' (SIMD, when the engine has it) or 'js' (the reference). */
export type Kernel = 'wasm' | 'js';

interface Exports {
  readonly memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  quantize(w: number, n: number, k: number, blockSize: number, symmetric: number, packed: number, scales: number, zeroPoints: number): void;
  quantize_bf16(w: number, n: number, k: number, blockSize: number, symmetric: number, packed: number, scales: number, zeroPoints: number, scratch: number): void;
  widen_bf16(src: number, dst: number, count: number): void;
  narrow_f16(src: number, dst: number, count: number): void;
}

/** Values per piece: 64 Ki fp32 values are 256 KB in, well inside a core's L2 cache. */
const PIECE_VALUES = 1 << 16;
const PAGE = 65536;

/** What this file uses of the engine's WebAssembly (its types live in the DOM's lib, not Node's). */
interface WebAssemblyApi {
  validate(binary: Uint8Array): boolean;
  Module: new (binary: Uint8Array) => object;
  Instance: new (module: object) => { readonly exports: object };
}

/** The module instantiated from `binary`, or undefined when this engine cannot compile it (no SIMD). */
export function instantiateKernels(binary: Uint8Array): Exports | undefined {
  const wasm = (globalThis as { WebAssembly?: WebAssemblyApi }).WebAssembly;
  if (!wasm?.validate(binary)) return undefined;
  return new wasm.Instance(new wasm.Module(binary)).exports as Exports;
}

let loaded: Exports | undefined | null = null;

function thisThreadsKernels(): Exports | undefined {
  if (loaded === null) loaded = instantiateKernels(Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0)));
  return loaded;
}

/** The kernel a call runs: `requested`, or WASM where this engine has it and JS elsewhere. */
export function kernelFor(requested?: Kernel): Kernel {
  if (requested === 'js') return 'js';
  if (thisThreadsKernels()) return 'wasm';
  if (requested === 'wasm') throw new Error('the WebAssembly SIMD kernels cannot run here: this engine has no WebAssembly SIMD (use the JS kernels)');
  return 'js';
}

/** Whether `buffer` is this thread's kernel memory (a quantiser reads spans straight into it). */
export function isKernelMemory(buffer: ArrayBufferLike): boolean {
  return thisThreadsKernels()?.memory.buffer === buffer;
}

/** Uses of this thread's kernel memory so far: a view handed out at one count is stale at the next. */
let memoryUses = 0;
/** The views of the kernel memory handed out to callers (widenSpanInKernelMemory), with the use that made each. */
const handedOut = new WeakMap<ArrayBufferView, number>();

/**
 * Throws when `chunk` is a view of the kernel memory handed out to a caller and a kernel has used
 * that memory since (its values overwritten, or the memory grown and the view emptied). The
 * weights writers check each chunk before they write it: a kernel run between a chunk's making and
 * its writing would otherwise write other values without a word.
 */
export function checkKernelView(chunk: ArrayBufferView): void {
  const madeAt = handedOut.get(chunk);
  if (madeAt !== undefined && madeAt !== memoryUses) {
    throw new Error('a chunk made in the kernel memory was overwritten by another kernel call before it was written; a consumer of widenSpanInKernelMemory must use each chunk before any other kernel runs on its thread');
  }
}

/** The module's memory, grown to at least `bytes`; its buffer changes when it grows. Every kernel use comes here. */
function memoryOf(wasm: Exports, bytes: number): ArrayBuffer {
  memoryUses++;
  const short = bytes - wasm.memory.buffer.byteLength;
  if (short > 0) wasm.memory.grow(Math.ceil(short / PAGE));
  return wasm.memory.buffer;
}

const align16 = (n: number) => (n + 15) & ~15;

/**
 * bf16 values brought into the module's memory at a time by quantizeRowsWasm: 4 Mi values (8 MB),
 * the checkpoint reader's chunk, so a span is read in one call as large as before (a cold import
 * took 2.0–2.1 s with these against 2.5–3.4 s with 1 MB reads, and no more CPU warm).
 */
export const READ_VALUES = 1 << 22;

/**
 * quantizeInt4's loops in WASM, whole rows a piece: the same arguments and the same bytes out as
 * quantizeRows in int4-blocks.ts (`zeroPoints` is overwritten, not or-ed into). `w` is fp32, or
 * bf16 bit patterns: a Uint16Array, as the checkpoint stores them, or a span of them not read yet
 * (checkpoint/bf16-span.ts). bf16 is brought into the module's memory a block of rows at a time —
 * a span read straight there from the file, an array copied — at half the bytes of fp32, and each
 * piece widened there by widen_bf16 into the piece `quantize` reads, so no fp32 copy of the weight
 * exists outside the module's memory (widening is exact: the same values, the same bytes). Each
 * piece's codes, scales and zero points are copied out as soon as it is quantised.
 */
export function quantizeRowsWasm(w: Float32Array | Uint16Array | Bf16Span, n: number, k: number, blockSize: number, symmetric: boolean, packed: Uint8Array, scales: Float32Array, zeroPoints: Uint8Array | undefined): void {
  const wasm = thisThreadsKernels()!;
  const blocks = Math.ceil(k / blockSize);
  const blob = blockSize / 2;
  const zpRow = Math.ceil(blocks / 2);
  const rowsPer = Math.max(1, Math.floor(PIECE_VALUES / k));
  // Rows brought in at a time (the fp32 path: one piece), and where each region lies: a piece's
  // fp32 values, its codes, scales and zero points, then the bf16 brought in.
  const rowsIn = w instanceof Float32Array ? rowsPer : rowsPer * Math.max(1, Math.floor(READ_VALUES / (rowsPer * k)));
  const packedAt = align16(4 * rowsPer * k);
  const scalesAt = align16(packedAt + rowsPer * blocks * blob);
  const zpsAt = align16(scalesAt + 4 * rowsPer * blocks);
  const bf16At = align16(zpsAt + rowsPer * zpRow);
  const memory = memoryOf(wasm, w instanceof Float32Array ? bf16At : bf16At + 2 * rowsIn * k);
  const source = w instanceof Uint16Array ? spanOfValues(w) : w;
  // A piece's codes, scales and zero points, for its `rows` rows from row `at`, copied out while
  // still in the cache (copied a block of reads at a time, they were read back from memory).
  const copyOut = (at: number, rows: number) => {
    packed.set(new Uint8Array(memory, packedAt, rows * blocks * blob), at * blocks * blob);
    scales.set(new Float32Array(memory, scalesAt, rows * blocks), at * blocks);
    zeroPoints?.set(new Uint8Array(memory, zpsAt, rows * zpRow), at * zpRow);
  };
  for (let first = 0; first < n; first += rowsIn) {
    const rowsNow = Math.min(rowsIn, n - first);
    if (source instanceof Float32Array) {
      new Float32Array(memory, 0, rowsNow * k).set(source.subarray(first * k, (first + rowsNow) * k));
      wasm.quantize(0, rowsNow, k, blockSize, symmetric ? 1 : 0, packedAt, scalesAt, zpsAt);
      copyOut(first, rowsNow);
    } else {
      source.read(new Uint16Array(memory, bf16At, rowsNow * k), first * k);
      for (let row = 0; row < rowsNow; row += rowsPer) {
        const rows = Math.min(rowsPer, rowsNow - row);
        wasm.quantize_bf16(bf16At + 2 * row * k, rows, k, blockSize, symmetric ? 1 : 0, packedAt, scalesAt, zpsAt, 0);
        copyOut(first + row, rows);
      }
    }
  }
}

/**
 * bf16 → fp32 in WASM, as widenBfloat16 in half.ts. `out` may share `src`'s buffer as
 * widenInPlace lays it out (src in the back half): piece by piece from the front, each piece's
 * fp32 ends before any unread source, as the source's 2·count bytes start halfway.
 */
export function widenBfloat16Wasm(src: Uint16Array, out: Float32Array): void {
  inPieces(src, out, (wasm, dstAt, count) => wasm.widen_bf16(0, dstAt, count));
}

/** fp32 → fp16 in WASM, as float32ToFloat16 in half.ts (into a separate `out`). */
export function narrowFloat16Wasm(src: Float32Array, out: Uint16Array): void {
  inPieces(src, out, (wasm, dstAt, count) => wasm.narrow_f16(0, dstAt, count));
}

type Values = Uint16Array | Float32Array;
const viewLike = (like: Values, memory: ArrayBuffer, at: number, count: number): Values => (like instanceof Float32Array ? new Float32Array(memory, at, count) : new Uint16Array(memory, at, count));

/**
 * Converts `src` into `out` a piece at a time: copied to the module's memory at 0, converted by
 * `run` to `dstAt`, copied out. The room left after each region lets a kernel that works four
 * values at a time run past `count`.
 */
function inPieces(src: Values, out: Values, run: (wasm: Exports, dstAt: number, count: number) => void): void {
  const wasm = thisThreadsKernels()!;
  const piece = Math.min(PIECE_VALUES, src.length);
  const dstAt = align16(src.BYTES_PER_ELEMENT * (piece + 4));
  const memory = memoryOf(wasm, dstAt + out.BYTES_PER_ELEMENT * (piece + 4));
  for (let at = 0; at < src.length; at += piece) {
    const count = Math.min(piece, src.length - at);
    viewLike(src, memory, 0, count).set(src.subarray(at, at + count));
    run(wasm, dstAt, count);
    out.set(viewLike(out, memory, dstAt, count), at);
  }
}

/**
 * `count` values of a bf16 span from value `from`, read straight from the file into this thread's
 * kernel memory and widened there (widen_bf16, as widenBfloat16 in half.ts): a view of the fp32
 * values in that memory, or undefined where the engine has no WebAssembly SIMD. No copy in or out
 * and no buffer of its own, so a chunk written as it is (an fp32 import's) costs one read, one
 * widening and the write. The view is valid only until the next kernel call on this thread (any
 * of them reuses the memory, and growing it detaches the view): its consumer uses it first, and
 * the weights writers refuse it otherwise (checkKernelView).
 */
export function widenSpanInKernelMemory(span: Bf16Span, from: number, count: number): Float32Array | undefined {
  const wasm = thisThreadsKernels();
  if (!wasm) return undefined;
  // The fp32 values at 0, the bf16 after them (apart: the kernel reads eight values ahead of what it writes).
  const srcAt = align16(4 * count + 16);
  const memory = memoryOf(wasm, srcAt + 2 * count + 16);
  span.read(new Uint16Array(memory, srcAt, count), from);
  wasm.widen_bf16(srcAt, 0, count);
  const view = new Float32Array(memory, 0, count);
  handedOut.set(view, memoryUses);
  return view;
}
