/**
 * How many bytes an import will write, known before it writes any: the text and vision graphs
 * are built exactly as the importer builds them (same recipes, same precisions) with producers
 * that are never run, and the writer's own layout rule sums their declared weights.
 */
import { GraphBuilder } from '../../../onnx/graph-builder.ts';
import { ALIGN, plannedDataBytes } from '../../../onnx/data-layout.ts';
import { int4ExpertBlockSize } from '../../../quantization/int4-blocks.ts';
import { int4ExpertsPerExpert } from '../../../quantization/int4-experts.ts';
import { int4Experts } from '../../../quantization/matmul-nbits.ts';
import { isMoeLayer, type KimiTextConfig, type KimiVLConfig } from '../configuration.ts';
import { buildTextGraph, type Int4ExpertForm, type Precision } from '../graphs/modeling-text.ts';
import { buildVisionGraph, visionWeightsFor } from '../graphs/modeling-vision.ts';

export interface WeightsEstimate {
  /** text-model.onnx.data */
  readonly text: number;
  /** vision-model.onnx.data (MoonViT + projector: fp32 matrices for an fp32 import, fp16 otherwise) */
  readonly vision: number;
  readonly total: number;
}

function unproduced(): never {
  throw new Error('a size estimate produces no weights');
}

/**
 * `int4Experts`: the experts' form an int4 import writes. The CPU's per-expert form declares four
 * weights per expert, too many to build for a model with very many experts, so its size is the
 * QMoE graph's with each layer's expert weights swapped for E times one expert's (both are
 * declared at the same place in a layer and every weight starts on a page: the runs add up).
 */
export function estimateWeights(config: KimiVLConfig, precision: Precision, int4Experts: Int4ExpertForm = 'qmoe'): WeightsEstimate {
  let text = plannedDataBytes(buildTextGraph(config.text, { precision, produce: () => unproduced }).weights);
  if (precision === 'int4' && int4Experts === 'per-expert') {
    const t = config.text;
    const moeLayers = Array.from({ length: t.numHiddenLayers }, (_, i) => i).filter((i) => isMoeLayer(t, i)).length;
    text += moeLayers * (expertWeightsBytes(t, 'per-expert') - expertWeightsBytes(t, 'qmoe'));
  }
  const vision = plannedDataBytes(buildVisionGraph(config.vision, config.text.hiddenSize, unproduced, visionWeightsFor(precision)).weights);
  return { text, vision, total: text + vision };
}

/** One MoE layer's routed-expert weights in the data file, page padding included. */
function expertWeightsBytes(t: KimiTextConfig, form: Int4ExpertForm): number {
  const g = new GraphBuilder();
  const [E, D, I] = [t.nRoutedExperts, t.hiddenSize, t.moeIntermediateSize];
  const blockSize = int4ExpertBlockSize(D, I);
  const page = (bytes: number) => Math.ceil(bytes / ALIGN) * ALIGN;
  if (form === 'per-expert') {
    int4ExpertsPerExpert(g, 'experts', { experts: 1, hidden: D, intermediate: I, blockSize, fc1: unproduced, fc2: unproduced });
    return E * page(plannedDataBytes(g.weights));
  }
  int4Experts(g, 'fc1', E, 2 * I, D, unproduced, blockSize);
  int4Experts(g, 'fc2', E, D, I, unproduced, blockSize);
  return page(plannedDataBytes(g.weights));
}
