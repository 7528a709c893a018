/**
 * How many bytes an import will write, known before it writes any: the text and vision graphs
 * are built exactly as the importer builds them (same recipes, same precisions) with producers
 * that are never run, and the writer's own layout rule sums their declared weights.
 */
import { plannedDataBytes } from '../../onnx/model-writer.ts';
import type { KimiVLConfig } from './configuration.ts';
import { buildTextGraph, type Int4ExpertForm, type Precision } from './modeling-text.ts';
import { buildVisionGraph, visionWeightsFor } from './modeling-vision.ts';

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

/** `int4Experts`: the experts' form an int4 import writes (a CPU's per-expert form has fp32 scales, QMoE's are fp16). */
export function estimateWeights(config: KimiVLConfig, precision: Precision, int4Experts: Int4ExpertForm = 'qmoe'): WeightsEstimate {
  const text = plannedDataBytes(buildTextGraph(config.text, { precision, int4Experts, produce: () => unproduced }).weights);
  const vision = plannedDataBytes(buildVisionGraph(config.vision, config.text.hiddenSize, unproduced, visionWeightsFor(precision)).weights);
  return { text, vision, total: text + vision };
}
