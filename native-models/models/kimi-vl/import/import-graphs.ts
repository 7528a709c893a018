/**
 * The two graphs an import writes, described as plain data so a worker thread can build the very
 * same graph (import-worker.ts): weight producers are closures over the checkpoint and cannot be
 * sent, but the description can, and building a graph declares its weights without reading any.
 */
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import type { GraphBuilder } from '../../../onnx/graph-builder.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { buildTextGraph, type TextGraphOptions } from '../graphs/modeling-text.ts';
import { buildVisionGraph, type VisionWeights } from '../graphs/modeling-vision.ts';
import { hasRowRange, produceRecipe, produceRecipeRows, type WeightRecipe } from '../graphs/weight-recipes.ts';

export type ImportGraph =
  | { readonly kind: 'text'; readonly options: Omit<TextGraphOptions, 'produce'> }
  /** MoonViT + projector, its matrices in `weights`. */
  | { readonly kind: 'vision'; readonly weights: VisionWeights };

export function buildImportGraph(ckpt: HfCheckpoint, config: KimiVLConfig, graph: ImportGraph): GraphBuilder {
  if (graph.kind === 'text') {
    // Weights that are a recipe's output as they stand (not quantised from it) can also make a
    // range of their rows, so a parallel import shares out the large ones (embedding, lm_head,
    // an expert layer).
    const recipes = new Map<() => AsyncIterable<Float32Array>, WeightRecipe>();
    const text = buildTextGraph(config.text, {
      ...graph.options,
      produce: (recipe) => {
        const produce = () => produceRecipe(ckpt, recipe);
        recipes.set(produce, recipe);
        return produce;
      },
    });
    text.weights.forEach((spec, i) => {
      const recipe = recipes.get(spec.produce as () => AsyncIterable<Float32Array>);
      if (recipe && hasRowRange(recipe)) text.weights[i] = { ...spec, rows: (from, to) => produceRecipeRows(ckpt, recipe, from, to) };
    });
    return text;
  }
  const source = async function* (name: string) {
    yield* ckpt.readRows(name);
  };
  return buildVisionGraph(config.vision, config.text.hiddenSize, source, graph.weights);
}
