/**
 * What one decode step of the text graph has to read: every weight a single token touches
 * (attention, the dense or shared MLPs, the router, the top-k experts, lm_head, one embedding
 * row) plus the latent cache. Divided by the step time this gives the effective memory
 * bandwidth the benchmark compares with the machine's copy bandwidth.
 */
import { isMoeLayer, type KimiTextConfig } from '../configuration.ts';
import { cacheWidth, type Precision } from './modeling-text.ts';

export interface DecodeCost {
  /** Weight parameters touched per token. */
  readonly parameters: number;
  /** Bytes of weights read per token at the model's precision (norms and router are fp32). */
  readonly weightBytes: number;
  /** Bytes of latent cache read per token, per token already in the context. */
  readonly cacheBytesPerContextToken: number;
}

export function decodeCost(t: KimiTextConfig, precision: Precision): DecodeCost {
  const width = precision === 'fp16' ? 2 : 4; // activations and cache (int4 keeps them fp32)
  // int4: 4-bit codes + an fp32 scale and a 4-bit zero point per block of 64 weights (the
  // block size when widths are multiples of 64, as Kimi-VL-A3B's are; this is the bulk figure).
  // The absorbed kv_b halves stay in the activations' type.
  const weightWidth = precision === 'int4' ? (4 + 32 / 64 + 4 / 64) / 8 : width;
  const D = t.hiddenSize;
  const H = t.numAttentionHeads;
  const qHead = t.qkNopeHeadDim + t.qkRopeHeadDim;
  let big = D; // one embedding row
  let fp32 = D; // final norm
  let absorbed = 0; // k_absorb and v_absorb: never quantised
  for (let i = 0; i < t.numHiddenLayers; i++) {
    fp32 += 2 * D + t.kvLoraRank;
    absorbed += H * t.kvLoraRank * (t.qkNopeHeadDim + t.vHeadDim);
    big += H * qHead * D + cacheWidth(t) * D + D * H * t.vHeadDim;
    if (isMoeLayer(t, i)) {
      fp32 += t.nRoutedExperts * D + t.nRoutedExperts;
      big += 3 * D * t.moeIntermediateSize * (t.numExpertsPerTok + t.nSharedExperts);
    } else {
      big += 3 * D * t.intermediateSize;
    }
  }
  big += t.vocabSize * D;
  return {
    parameters: big + absorbed + fp32,
    weightBytes: big * weightWidth + absorbed * width + fp32 * 4,
    cacheBytesPerContextToken: t.numHiddenLayers * cacheWidth(t) * width,
  };
}
