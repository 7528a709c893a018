/**
 * The two graphs an import writes, described as plain data so a worker thread can build the very
 * same graph (import-worker.ts): weight producers are closures over the checkpoint and cannot be
 * sent, but the description can, and building a graph declares its weights without reading any.
 */
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import type { GraphBuilder, WeightSpec } from '../../../onnx/graph-builder.ts';
import type { Fp32Source } from '../../../quantization/matmul-nbits.ts';
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

export function buildImportGraph(ckpt: HfCheckpoint, config: KimiVLConfig, graph: ImportGraph): GraphBuilder {
  if (graph.kind === 'text') {
    const text = buildTextGraph(config.text, { ...graph.options, produce: (recipe) => recipeSource(ckpt, recipe) });
    // A weight that is its source's output as it stands (not quantised from it) makes a range of
    // its rows the way its source does, so a parallel import shares out the large ones
    // (embedding, lm_head, an expert layer). Quantised ones have their own (matmul-nbits.ts).
    text.weights.forEach((spec, i) => {
      const rows = (spec.produce as Fp32Source).rows;
      if (rows && !spec.rows) text.weights[i] = { ...spec, rows } satisfies WeightSpec;
    });
    return text;
  }
  const source = async function* (name: string) {
    yield* ckpt.readRows(name);
  };
  return buildVisionGraph(config.vision, config.text.hiddenSize, source, graph.weights);
}
