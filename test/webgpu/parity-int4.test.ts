import { describeProviderParity } from './provider-parity.ts';

// The GPU default: int4 weights, fp16 KV cache, fp16 vision matrices, and experts that compute in
// fp16 (QMoE's input, routing and scales; CUDA's kernel takes nothing else). Both providers
// dequantise the same codes exactly, but fp16 keeps 11 significant bits, so wherever the providers'
// fp32 values differ by ~1e-6 a value can round to the neighbouring fp16 one (a relative step of
// 4.9e-4) at the experts' input or in the cache, and carry on to the logits: text measured
// ≤ 4.5e-4 here and ≤ 1.0e-3 on 40 random prompts (qmoe-race.test.ts); bound 5e-3. Image features
// pass through fp16 products too: measured ≤ 7.8e-3; bound 2e-2.
describeProviderParity({ precision: 'int4', importFor: 'webgpu', tolerance: { text: 5e-3, images: 2e-2 }, sameGreedyTokens: false });
