import { describeProviderParity } from './provider-parity.ts';

// fp16 activations, weights and KV cache keep 11 significant bits (a relative step of 4.9e-4),
// and the providers round at different points: the CPU provider widens fp16 to fp32 for its
// matrix products, WebGPU's kernels keep more of the work in fp16. Some twenty roundings a layer
// compound over 3 layers and lm_head, on logits of up to ~3.5: measured ≤ 1.4e-2 on text and
// ≤ 5.9e-2 with images (whose features come from an fp16 vision tower too). Bounds: 0.05 and 0.1,
// about 1.5% and 3% of the largest logit.
describeProviderParity({ precision: 'fp16', importFor: 'cpu', tolerance: { text: 0.05, images: 0.1 }, sameGreedyTokens: false });
