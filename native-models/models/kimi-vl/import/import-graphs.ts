/**
 * The two graphs an import writes, described as plain data so a worker thread can build the very
 * same graph (import-worker.ts): weight producers are closures over the checkpoint and cannot be
 * sent, but the description can, and building a graph declares its weights without reading any.
 */
import type { Bf16Span } from '../../../checkpoint/bf16-span.ts';
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import type { GraphBuilder, WeightSpec } from '../../../onnx/graph-builder.ts';
import { DataType } from '../../../onnx/onnx-proto.ts';
import type { Fp32Source } from '../../../quantization/matmul-nbits.ts';
import { kernelFor, widenSpanInKernelMemory } from '../../../wasm/kernels.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { buildTextGraph, type TextGraphOptions } from '../graphs/modeling-text.ts';
import { buildVisionGraph, type VisionWeights } from '../graphs/modeling-vision.ts';
import { hasRowRange, isBf16Recipe, produceRecipe, produceRecipeRows, produceRecipeRowsBf16, type WeightRecipe } from '../graphs/weight-recipes.ts';

export type ImportGraph =
  | { readonly kind: 'text'; readonly options: Omit<TextGraphOptions, 'produce'> }
  /** MoonViT + projector, its matrices in `weights`. */
  | { readonly kind: 'vision'; readonly weights: VisionWeights };

/**
 * A recipe's values, and, for a recipe whose output rows can be made on their own, a range of
 * them (`rows`) and, when its tensors are bf16, the same range unwidened (`bf16Rows`).
 */
function recipeSource(ckpt: HfCheckpoint, recipe: WeightRecipe): Fp32Source {
  const produce = () => produceRecipe(ckpt, recipe);
  if (!hasRowRange(recipe)) return produce;
  return Object.assign(produce, {
    rows: (from: number, to: number) => produceRecipeRows(ckpt, recipe, from, to),
    ...(isBf16Recipe(ckpt, recipe) ? { bf16Rows: (from: number, to: number) => produceRecipeRowsBf16(ckpt, recipe, from, to) } : {}),
  });
}

/**
 * Values widened at a time in the kernel memory: 512 Ki, a 2 MB fp32 chunk. Against 1 Mi it gave
 * 0.18 CPU-s less per fp32 import of the benchmark's checkpoint (9 of 10 paired runs) and 9 MB less
 * peak memory; 256 Ki was the same within the noise (8 paired runs); 1 Mi had given 0.25 CPU-s less
 * than 4 Mi (docs/measurements.md). Why smaller does better is a guess this machine cannot check:
 * the write and the hash read each chunk right after its widening, likelier from the cache the
 * smaller it is.
 */
const WIDEN_VALUES = 1 << 19;

/**
 * The spans' values widened in this thread's kernel memory, `chunk` values at a time: each chunk
 * is a view of that memory, overwritten by the next, so its consumer must be done with it before
 * it asks for the next (the weights writers are: they write and hash each chunk first).
 */
async function* widenedInKernelMemory(spans: AsyncIterable<Bf16Span>, chunk: number): AsyncGenerator<Float32Array> {
  for await (const span of spans) {
    for (let at = 0; at < span.length; at += chunk) yield widenSpanInKernelMemory(span, at, Math.min(chunk, span.length - at))!;
    span.release?.();
  }
}

export interface ImportGraphOptions {
  /** Tests only: values per chunk of a weight widened in the kernel memory (default 512 Ki). */
  readonly widenValues?: number;
  /** Tests only: false reads and widens every weight as its source does (the reference). */
  readonly inKernelMemory?: boolean;
}

export function buildImportGraph(ckpt: HfCheckpoint, config: KimiVLConfig, graph: ImportGraph, opts: ImportGraphOptions = {}): GraphBuilder {
  if (graph.kind === 'text') {
    const text = buildTextGraph(config.text, { ...graph.options, produce: (recipe) => recipeSource(ckpt, recipe) });
    // An fp32 weight that is its bf16 source as it stands is read straight into the WebAssembly
    // memory and widened there, and its chunks written from it: no read buffer, no copy into the
    // module and out again (a tenth of an fp32 import's CPU, profiled). Where the engine has no
    // WebAssembly SIMD, it is read and widened as its source reads it.
    const inKernelMemory = opts.inKernelMemory !== false && kernelFor() === 'wasm';
    const chunk = opts.widenValues ?? WIDEN_VALUES;
    // A weight that is its source's output as it stands (not quantised from it) makes a range of
    // its rows the way its source does, so a parallel import shares out the large ones
    // (embedding, lm_head, an expert layer). Quantised ones have their own (matmul-nbits.ts).
    text.weights.forEach((spec, i) => {
      const source = spec.produce as Fp32Source;
      const { bf16Rows } = source;
      if (inKernelMemory && bf16Rows && spec.dataType === DataType.FLOAT) {
        // Its rows are its first dimension, as the pool's parts cut them (data-layout.ts).
        const all = spec.dims[0] ?? 1;
        text.weights[i] = {
          ...spec,
          produce: () => widenedInKernelMemory(bf16Rows(0, all), chunk),
          rows: (from, to) => widenedInKernelMemory(bf16Rows(from, to), chunk),
        } satisfies WeightSpec;
        return;
      }
      if (source.rows && !spec.rows) text.weights[i] = { ...spec, rows: source.rows } satisfies WeightSpec;
    });
    return text;
  }
  const source = async function* (name: string) {
    yield* ckpt.readRows(name);
  };
  return buildVisionGraph(config.vision, config.text.hiddenSize, source, graph.weights);
}
