import { describeProviderParity } from './provider-parity.ts';

// The GPU default: int4 weights, fp16 KV cache, fp16 vision matrices, and experts that compute in
// fp16 (QMoE's input, routing and scales; CUDA's kernel takes nothing else). Both providers
// dequantise the same codes exactly, but fp16 keeps 11 significant bits, so wherever the providers'
// fp32 values differ by ~1e-6 a value can round to the neighbouring fp16 one (a relative step of
// 4.9e-4) at the experts' input or in the cache, and carry on to the logits: text measured
// ≤ 4.5e-4 here and ≤ 1.0e-3 on 40 random prompts (qmoe-race.test.ts); bound 5e-3. Image features
// pass through fp16 products too and differ between the providers by up to 5e-3 (of values up to
// 2.3); how far that moves the logits depends on where the differences fall (a value rounding to
// the other fp16 neighbour in the cache or at the experts' input): 7.8e-3 with the vision tower's
// attention in MultiHeadAttention, 2.5e-2 with it in MatMul/Softmax, although the features differ
// by the same amount (5.6e-3 and 5.3e-3 at most, 1.6e-3 rms) and either text graph gives 2.5e-2
// on the second set. Bound 5e-2, about 1.5% of the largest logit.
describeProviderParity({ precision: 'int4', importFor: 'webgpu', tolerance: { text: 5e-3, images: 5e-2 }, sameGreedyTokens: false });
