/**
 * Every graph an import can write, built without weights (their producers are never called):
 * the text graph at each precision with either KV-cache type, and the vision graph with the
 * matrices that precision stores. For checks that need the nodes, not the values — which
 * kernels onnxruntime has for them (kernel-coverage.test.ts). int4 text graphs are listed with
 * their experts in QMoE, the form an import for a GPU writes; an import for the CPU writes a
 * MatMulNBits pair per expert under If instead (quantization/int4-experts.ts), for the CPU only.
 */
import type { GraphBuilder } from '../../../onnx/graph-builder.ts';
import { typedNodes, type TypedNode } from '../../../onnx/node-signatures.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { buildTextGraph, type CacheType, type Precision } from './modeling-text.ts';
import { buildVisionGraph, visionWeightsFor } from './modeling-vision.ts';

export const PRECISIONS: readonly Precision[] = ['fp32', 'fp16', 'int4'];
const CACHE_TYPES: readonly CacheType[] = ['fp32', 'fp16'];

export interface GeneratedGraph {
  /** `text int4 (fp16 cache)`, `vision int4 (fp16 matrices)`. */
  readonly name: string;
  readonly part: 'text' | 'vision';
  readonly precision: Precision;
  readonly graph: GraphBuilder;
}

const never = () => {
  throw new Error('generated-graphs.ts builds graphs without weights; nothing may read them');
};

export function generatedGraphs(config: KimiVLConfig, precision: Precision): GeneratedGraph[] {
  const text = CACHE_TYPES.map((cacheType) => ({
    name: `text ${precision} (${cacheType} cache)`,
    part: 'text' as const,
    precision,
    graph: buildTextGraph(config.text, { precision, cacheType, produce: () => never }),
  }));
  const matrices = visionWeightsFor(precision);
  const vision = { name: `vision ${precision} (${matrices} matrices)`, part: 'vision' as const, precision, graph: buildVisionGraph(config.vision, config.text.hiddenSize, never, matrices) };
  return [...text, vision];
}

/** Every node of every graph an import of these configurations can write. */
export function generatedNodes(configs: readonly KimiVLConfig[]): (TypedNode & { readonly graph: string })[] {
  return configs.flatMap((config) => PRECISIONS.flatMap((p) => generatedGraphs(config, p).flatMap((g) => typedNodes(g.graph).map((n) => ({ ...n, graph: g.name })))));
}
