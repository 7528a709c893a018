/**
 * Import step for the vision side: checks every vision_tower.* / multi_modal_projector.* tensor
 * against config.json before anything is written, then writes the MoonViT + projector graph
 * (vision-session.ts opens it at run time).
 */
import { CheckpointError } from '../../../checkpoint/errors.ts';
import type { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import { writeModel, type WriteProgress, type WrittenModel, type WeightsWriter } from '../../../onnx/model-writer.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { buildImportGraph } from './import-graphs.ts';
import type { VisionWeights } from '../graphs/modeling-vision.ts';
import { visionTensorShapes } from '../graphs/tensor-names.ts';

export const VISION_MODEL_NAME = 'vision-model';

/** Refuses a checkpoint whose vision tensors are missing or mis-shaped, naming the first few. */
export function checkVisionTensors(ckpt: HfCheckpoint, config: KimiVLConfig): void {
  const shapes = visionTensorShapes(config.vision, config.text.hiddenSize);
  const missing = [...shapes.keys()].filter((name) => !ckpt.has(name));
  if (missing.length > 0) {
    const listed = missing.slice(0, 3).join(', ') + (missing.length > 3 ? ` and ${missing.length - 3} more` : '');
    throw new CheckpointError(
      `${ckpt.dir} has no vision tower: ${missing.length} of ${shapes.size} vision tensors are missing (${listed}); import a full Kimi-VL checkpoint, not a text-only one`,
    );
  }
  for (const [name, shape] of shapes) ckpt.expectShape(name, shape);
  const headDim = config.vision.hiddenSize / config.vision.numAttentionHeads;
  if (!Number.isInteger(headDim) || headDim % 4 !== 0) {
    throw new CheckpointError(`config.json: vision_config hidden_size / num_attention_heads = ${headDim}; MoonViT's 2-D RoPE needs a whole multiple of 4`);
  }
}

/**
 * Writes `vision-model.onnx` (+ .data) for the checkpoint into `dir`, its matrices in `weights`;
 * `opts.weights` makes them elsewhere (a parallel import's worker pool).
 */
export async function writeVisionModel(
  ckpt: HfCheckpoint,
  config: KimiVLConfig,
  dir: string,
  weights: VisionWeights,
  opts: { onProgress?: (p: WriteProgress) => void; weights?: WeightsWriter } = {},
): Promise<WrittenModel> {
  checkVisionTensors(ckpt, config);
  return writeModel(buildImportGraph(ckpt, config, { kind: 'vision', weights }), dir, VISION_MODEL_NAME, opts);
}
