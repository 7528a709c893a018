/**
 * Graph helpers for int4 weights: a linear layer as com.microsoft.MatMulNBits (dense weights)
 * and the packed expert tensors com.microsoft.QMoE reads. Each quantised matrix is declared as
 * several initializers (codes, scales, zero points) that share one quantisation pass: the fp32
 * source is read and quantised when the first of them is written and dropped after the last,
 * so import memory stays bounded by one packed matrix (one layer's packed experts for QMoE).
 */
import { attr, type GraphBuilder } from '../onnx/graph-builder.ts';
import { DataType } from '../onnx/onnx-proto.ts';
import { roundToFloat16 } from '../numeric/half.ts';
import { isBf16Span, readSpan, type Bf16Span } from '../checkpoint/bf16-span.ts';
import { giveBackChunk, takeBytes } from '../checkpoint/buffers.ts';
import { emptyInt4, int4BlockSize, quantizeInt4, quantizeInt4Into, type Int4Options, type Int4Weight } from './int4-blocks.ts';

/**
 * Streams an [N, K] matrix's values, row-major; `rows`, when the source has it, streams rows
 * [from, to) alone, so that a parallel import can quantise a large matrix in parts (rows are
 * quantised independently: the parts are the whole's bytes, cut). `bf16Rows`, when the values
 * are a checkpoint's bf16 as stored, streams rows [from, to) as spans of their bit patterns, not
 * read yet: the quantiser reads them into its WebAssembly memory and widens them there (half the
 * bytes read, copied once, no fp32 copy made). As a WeightSpec's, chunks are fresh arrays (or
 * spans) the consumer owns, never touched by the source again once yielded.
 */
export type Fp32Source = (() => AsyncIterable<Float32Array>) & {
  readonly rows?: (from: number, to: number) => AsyncIterable<Float32Array>;
  readonly bf16Rows?: (from: number, to: number) => AsyncIterable<Bf16Span>;
};

/** fp32 values, or bf16 bit patterns (quantizeInt4Into takes either). */
type Values = Float32Array | Uint16Array;

/** Rows [from, to) of an [N, K] source, unwidened where it can (bf16Rows), else as fp32. */
function rowsToQuantise(source: Fp32Source, n: number, from = 0, to = n): AsyncIterable<Values | Bf16Span> {
  if (source.bf16Rows) return source.bf16Rows(from, to);
  if (from === 0 && to === n) return source();
  return source.rows!(from, to);
}

/** a then b, in one new array of their type. */
function joined(a: Values, b: Values): Values {
  const out = a instanceof Float32Array ? new Float32Array(a.length + b.length) : new Uint16Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Quantises an [N, K] matrix as it streams: rows are independent (blocks never cross a row and
 * zero points are padded per row), so whole rows are quantised as they arrive, straight into the
 * packed result (~1/6 of fp32); only a row split between two chunks is copied. Chunks are fp32,
 * or bf16 bit patterns (all of one kind).
 */
export async function quantizeStream(chunks: () => AsyncIterable<Values | Bf16Span>, n: number, k: number, opts: Int4Options, what: string): Promise<Int4Weight> {
  const q = emptyInt4(n, k, opts);
  for await (const _ of quantisedRows(chunks, n, k, what, (values, row) => quantizeInt4Into(q, values, row, opts.kernel)));
  return q;
}

/**
 * quantizeStream's loop: calls `add` with each run of whole rows as they arrive (values, first row)
 * and yields what it returns, once the rows are quantised and before their chunk is given back.
 */
async function* quantisedRows<T>(chunks: () => AsyncIterable<Values | Bf16Span>, n: number, k: number, what: string, add: (values: Values | Bf16Span, row: number) => T): AsyncGenerator<T> {
  let rows = 0;
  let carry: Values | undefined;
  const quantise = (values: Values | Bf16Span): T => {
    if (rows + values.length / k > n) throw new Error(`${what}: source produced more than ${n * k} values`);
    const made = add(values, rows);
    rows += values.length / k;
    return made;
  };
  for await (const next of chunks()) {
    // A span of whole rows is read by the quantiser itself; one that splits a row is read here.
    if (isBf16Span(next) && !carry?.length && next.length % k === 0) {
      const made = quantise(next);
      next.release?.();
      yield made;
      continue;
    }
    const chunk = isBf16Span(next) ? readSpan(next) : next;
    if (isBf16Span(next)) next.release?.();
    let at = 0;
    if (carry?.length) {
      // The split row, completed from the chunk's front.
      at = Math.min(k - carry.length, chunk.length);
      carry = joined(carry, chunk.subarray(0, at));
      if (carry.length < k) continue;
      yield quantise(carry);
    }
    const whole = Math.floor((chunk.length - at) / k);
    if (whole > 0) yield quantise(chunk.subarray(at, at + whole * k));
    carry = chunk.slice(at + whole * k);
    // Quantised, the chunk is spent: the reader's next chunk of its size reuses its memory. New
    // memory costs more than the quantising on some machines (first touch of fresh pages
    // measured at about 0.3 GB/s on the development VM, against 12 GB/s for the bf16 widening).
    giveBackChunk(chunk);
  }
  const left = carry?.length ?? 0;
  if (rows !== n || left) throw new Error(`${what}: source produced ${rows * k + left} values, expected ${n * k}`);
}

/**
 * One quantisation of rows [from, to) of an [n, k] matrix for its initializers, the codes' first:
 * when the codes are asked for first (a writer makes a matrix's initializers in order), they are
 * quantised and yielded a source chunk at a time (each a pooled array the writer gives back), the
 * scales and zero points gathered whole for the initializers after; asked for later, the codes
 * come from a whole quantisation made for an initializer asked for before them. So the codes of
 * an embedding's or lm_head's part (15 MB for the benchmark checkpoint's, most of an int4 import's
 * bytes) are never one array: each chunk's are written while still in the cache, into memory the
 * last chunk's used.
 */
class CodesFirst {
  private whole: Promise<Int4Weight> | undefined;
  private streamed: Promise<Int4Weight> | undefined;

  constructor(
    private readonly chunks: () => AsyncIterable<Values | Bf16Span>,
    private readonly n: number,
    private readonly k: number,
    private readonly opts: Int4Options,
    private readonly what: string,
  ) {}

  /** The codes, as they are made (or whole, when another initializer came first). */
  async *codes(): AsyncGenerator<Uint8Array> {
    if (this.whole || this.streamed) {
      yield (await this.rest()).packed;
      return;
    }
    const { n, k, opts } = this;
    const q = emptyInt4(n, k, opts, false);
    const bytesPerRow = q.blocks * (q.blockSize / 2);
    let done!: (q: Int4Weight) => void;
    let failed!: (err: unknown) => void;
    this.streamed = new Promise<Int4Weight>((resolve, reject) => ((done = resolve), (failed = reject)));
    // Nobody may wait on it yet; a failure is reported to whoever does.
    this.streamed.catch(() => undefined);
    let finished = false;
    try {
      yield* quantisedRows(this.chunks, n, k, this.what, (values, row) => {
        const codes = takeBytes((values.length / k) * bytesPerRow);
        quantizeInt4Into(q, values, row, opts.kernel, codes);
        return codes;
      });
      finished = true;
      done(q);
    } finally {
      if (!finished) failed(new Error(`${this.what}: its codes were not all made, so neither are its scales and zero points`));
    }
  }

  /** Scales and zero points (and the codes, unless they were streamed): the whole weight. */
  rest(): Promise<Int4Weight> {
    return this.streamed ?? (this.whole ??= quantizeStream(this.chunks, this.n, this.k, this.opts, this.what));
  }
}

/** Computes lazily, once per range of rows, for the `consumers` producers asking for it; the last one releases the result. */
export function sharedRows<T>(compute: (from: number, to: number) => Promise<T>, consumers: number): (from: number, to: number) => Promise<T> {
  const pending = new Map<string, { readonly result: Promise<T>; left: number }>();
  return (from, to) => {
    const key = `${from}:${to}`;
    let entry = pending.get(key);
    if (!entry) pending.set(key, (entry = { result: compute(from, to), left: consumers }));
    if (--entry.left === 0) pending.delete(key);
    return entry.result;
  };
}

/** Quantises lazily, once, for several producers; the last consumer releases the result. */
export function shared<T>(compute: () => Promise<T>, consumers: number): () => Promise<T> {
  const once = sharedRows(compute, consumers);
  return () => once(0, 0);
}

/**
 * A quantised [n, k] matrix for `consumers` producers, its codes' first (CodesFirst): quantised
 * once for all of them, and once per range of rows where the source streams a range of its rows.
 */
export function sharedQuantised(source: Fp32Source, n: number, k: number, opts: Int4Options, what: string, consumers: number): Int4Parts {
  const pass = (from: number, to: number) => new CodesFirst(() => rowsToQuantise(source, n, from, to), to - from, k, opts, from === 0 && to === n ? what : `${what} rows ${from}–${to}`);
  const whole = shared(async () => pass(0, n), consumers);
  const parts = source.rows && sharedRows(async (from, to) => pass(from, to), consumers);
  return {
    get: async () => (await whole()).rest(),
    codes: async function* () {
      yield* (await whole()).codes();
    },
    ...(parts
      ? {
          rows: async (from: number, to: number) => (await parts(from, to)).rest(),
          codesOfRows: async function* (from: number, to: number) {
            yield* (await parts(from, to)).codes();
          },
        }
      : {}),
  };
}

/**
 * A quantised matrix as its initializers' producers take it: `get` all of it, `rows` rows
 * [from, to) of it (a parallel import's parts), and, where given, `codes` and `codesOfRows` its
 * codes as they are made (the codes' initializer uses those; sharedQuantised).
 */
export interface Int4Parts {
  readonly get: () => Promise<Int4Weight>;
  readonly rows?: (from: number, to: number) => Promise<Int4Weight>;
  readonly codes?: () => AsyncIterable<Uint8Array>;
  readonly codesOfRows?: (from: number, to: number) => AsyncIterable<Uint8Array>;
}

/**
 * MatMulNBits' `accuracy_level`: 4 quantises each activation block to int8 on the fly and
 * multiplies in integers (AVX-512 VNNI / AVX2 / NEON dot products), 0 multiplies in fp32.
 * 4 is the default for CPU imports: 2–3× faster here and its drift over 0 is small next to
 * int4's own (scripts/int4-drift.ts prints both; modeling-text-int4.test.ts bounds it). CUDA and
 * WebGPU accept the attribute and compute as they always do, so GPU imports ask for 0: on the
 * CPU provider such a folder then gives the GPU's logits (import-checkpoint.ts planImport).
 */
export type Int4AccuracyLevel = 0 | 4;
export const DEFAULT_INT4_ACCURACY_LEVEL: Int4AccuracyLevel = 4;

export interface Int4LinearOptions {
  readonly symmetric?: boolean;
  readonly accuracyLevel?: Int4AccuracyLevel;
}

/**
 * Declares an [N, K] weight (rows = outputs) as MatMulNBits initializers under `name` and
 * returns `apply(x, nodeName)` computing x · Wᵀ, like Gemm with transB.
 */
export function int4Linear(g: GraphBuilder, name: string, n: number, k: number, source: Fp32Source, opts: Int4LinearOptions = {}) {
  const blockSize = int4BlockSize(k);
  const symmetric = opts.symmetric ?? false;
  const quantised = sharedQuantised(source, n, k, { blockSize, symmetric }, name, symmetric ? 2 : 3);
  return int4NBits(g, name, n, k, quantised, { ...opts, blockSize, symmetric });
}

/**
 * MatMulNBits initializers for an [N, K] weight quantised elsewhere (`get` is called once per
 * initializer as it is written); `apply(x, nodeName, on)` adds the node to `on` (default `g`;
 * an If branch of `g` reads the initializers from the outer graph).
 */
export function int4NBits(
  g: GraphBuilder,
  name: string,
  n: number,
  k: number,
  quantised: (() => Promise<Int4Weight>) | Int4Parts,
  /** `group`: the weight group (GraphBuilder) when the quantisation is shared beyond this matrix (default `name`). */
  opts: Int4LinearOptions & { readonly blockSize: number; readonly group?: string },
) {
  const { blockSize } = opts;
  const blocks = Math.ceil(k / blockSize);
  const group = opts.group ?? name;
  const part = quantisedPart(typeof quantised === 'function' ? { get: quantised } : quantised);
  const b = g.weight({ name: `${name}.weight_q4`, dims: [n, blocks, blockSize / 2], dataType: DataType.UINT8, ...part.codes(), group });
  const scales = g.weight({ name: `${name}.weight_scales`, dims: [n * blocks], dataType: DataType.FLOAT, ...part.of((q) => q.scales), group });
  const zeroPoints = opts.symmetric ? undefined : g.weight({ name: `${name}.weight_zero_points`, dims: [n * Math.ceil(blocks / 2)], dataType: DataType.UINT8, ...part.of((q) => q.zeroPoints!), group });
  return (x: string, nodeName: string, on: GraphBuilder = g): string =>
    on.op('MatMulNBits', zeroPoints ? [x, b, scales, zeroPoints] : [x, b, scales], nodeName, [attr.int('K', k), attr.int('N', n), attr.int('bits', 4), attr.int('block_size', blockSize), attr.int('accuracy_level', opts.accuracyLevel ?? DEFAULT_INT4_ACCURACY_LEVEL)], 'com.microsoft');
}

/**
 * The producers of a quantised matrix's initializers: `of(pick)` for the one `pick` chooses, all
 * of it from `get` and, with `rows`, its share of rows [from, to); `codes()` for the codes, as they
 * are made where the parts say how (`codes`, `codesOfRows`), else picked as the others are.
 */
export function quantisedPart({ get, rows, codes, codesOfRows }: Int4Parts) {
  const of = (pick: (q: Int4Weight) => Uint8Array | Float32Array) => ({
    produce: async function* () {
      yield pick(await get());
    },
    ...(rows
      ? {
          rows: async function* (from: number, to: number) {
            yield pick(await rows(from, to));
          },
        }
      : {}),
  });
  return {
    of,
    codes: () => {
      const picked = of((q) => q.packed);
      return {
        produce: codes ?? picked.produce,
        ...(picked.rows ? { rows: codesOfRows ?? picked.rows } : {}),
      };
    },
  };
}

/**
 * One expert's [n, k] values (a produced chunk) quantised in symmetric blocks, the chunk given
 * back. The scales are rounded to fp16, which QMoE stores; the per-expert form stores the same
 * values in fp32, so imports for the CPU and for a GPU hold the same weights. Rounded in place
 * (roundToFloat16): the scales stay in their pooled buffer, and no array is made per expert.
 */
function quantizeExpert(chunk: Values | Bf16Span, n: number, k: number, blockSize: number): Int4Weight {
  const q = quantizeInt4(chunk, n, k, { blockSize, symmetric: true });
  if (isBf16Span(chunk)) chunk.release?.();
  else giveBackChunk(chunk);
  roundToFloat16(q.scales);
  return q;
}

/**
 * Quantises a layer's experts (one [n, k] expert per produced chunk, symmetric blocks) once for
 * `consumers` readers; the last one releases them, so import memory holds one layer's packed
 * experts at a time (QMoE's form, whose initializers stack the layer's experts).
 */
export function quantizedExperts(name: string, source: Fp32Source, experts: number, n: number, k: number, blockSize: number, consumers: number): () => Promise<Int4Weight[]> {
  return shared(async () => {
    const all: Int4Weight[] = [];
    for await (const chunk of rowsToQuantise(source, experts)) all.push(quantizeExpert(chunk, n, k, blockSize));
    if (all.length !== experts) throw new Error(`${name}: source produced ${all.length} experts, expected ${experts}`);
    return all;
  }, consumers);
}

/**
 * A layer's experts quantised as quantizedExperts does, for `consumers` readers of each expert
 * (the per-expert form: an expert's codes and scales). When the source streams a range of its
 * experts (`rows`), each expert is read and quantised on its own, when its first initializer is
 * made, and released after its last (`alone`): its initializers can then be a weight group of
 * their own, which a parallel import gives to any worker — a layer's experts shared out among
 * them rather than a whole layer on one (most of an MoE model's bytes), and memory holding one
 * expert, whose buffers the next expert of the layer reuses. Otherwise the whole layer is
 * quantised once for all of them.
 */
export function quantizedExpertByExpert(name: string, source: Fp32Source, experts: number, n: number, k: number, blockSize: number, consumers: number): { readonly get: (e: number) => Promise<Int4Weight>; readonly alone: boolean } {
  if (!source.rows) {
    const all = quantizedExperts(name, source, experts, n, k, blockSize, experts * consumers);
    return { get: async (e) => (await all())[e]!, alone: false };
  }
  const one = sharedRows(async (e) => {
    let q: Int4Weight | undefined;
    for await (const chunk of rowsToQuantise(source, experts, e, e + 1)) {
      if (q) throw new Error(`${name}: source produced more than one expert for expert ${e}`);
      q = quantizeExpert(chunk, n, k, blockSize);
    }
    if (!q) throw new Error(`${name}: source produced no values for expert ${e}`);
    return q;
  }, consumers);
  return { get: (e) => one(e, e + 1), alone: true };
}

/**
 * Declares experts stacked as [E, N, K] (one expert per produced chunk) as QMoE's symmetric
 * 4-bit initializers: codes uint8 [E, N, K / 2] and block scales [E, N, K / blockSize] in fp16
 * (onnxruntime's CUDA QMoE takes fp16 or bf16 only; docs/onnxruntime.md).
 * Returns the two names in QMoE's input order. QMoE has one block size for fc1 and fc2, so the
 * caller picks it from both widths (`int4ExpertBlockSize(hidden, intermediate)`).
 */
export function int4Experts(g: GraphBuilder, name: string, experts: number, n: number, k: number, source: Fp32Source, blockSize: number): [weights: string, scales: string] {
  if (k % blockSize !== 0) throw new Error(`${name}: QMoE needs the input width (${k}) to be a multiple of the int4 block size ${blockSize}`);
  const get = quantizedExperts(name, source, experts, n, k, blockSize, 2);
  const weights = g.weight({ name: `${name}.weight_q4`, dims: [experts, n, k / 2], dataType: DataType.UINT8, produce: async function* () { for (const q of await get()) yield q.packed; }, group: name });
  const scales = g.weight({ name: `${name}.weight_scales`, dims: [experts, n, k / blockSize], dataType: DataType.FLOAT16, produce: async function* () { for (const q of await get()) yield q.scales; }, group: name });
  return [weights, scales];
}
