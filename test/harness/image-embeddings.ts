import { HfCheckpoint } from '../../native-models/checkpoint/hf-checkpoint.ts';
import type { KimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import type { ProcessedImages } from '../../native-models/models/kimi-vl/processing/image-processing.ts';
import { MEDIA_PAD_TOKEN_ID } from '../../native-models/models/kimi-vl/runtime/multimodal.ts';
import { visionFeaturesReference } from '../../native-models/models/kimi-vl/testing/vision-reference.ts';

/**
 * The plain-loop vision reference's features for `images`, keyed by the index of each
 * `<|media_pad|>` in `inputIds` — the `embeddings` argument of ReferenceTextModel.forward.
 */
export function referenceImageEmbeddings(ckptDir: string, config: KimiVLConfig, inputIds: readonly number[], images: ProcessedImages): Map<number, Float32Array> {
  const hf = HfCheckpoint.open(ckptDir);
  try {
    const hidden = config.text.hiddenSize;
    const features = visionFeaturesReference(config.vision, (name) => hf.read(name), images.pixelValues, images.gridHws, hidden);
    const embeddings = new Map<number, Float32Array>();
    let row = 0;
    inputIds.forEach((id, i) => {
      if (id === MEDIA_PAD_TOKEN_ID) embeddings.set(i, features.subarray(row * hidden, ++row * hidden));
    });
    if (row * hidden !== features.length) throw new Error(`${row} <|media_pad|> tokens for ${features.length / hidden} feature rows`);
    return embeddings;
  } finally {
    hf.close();
  }
}
