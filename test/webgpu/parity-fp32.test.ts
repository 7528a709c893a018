import { describeProviderParity } from './provider-parity.ts';

// fp32 throughout, fp32 KV cache: the providers differ only in summation order. Measured ≤ 3.3e-6.
describeProviderParity({ precision: 'fp32', importFor: 'cpu', tolerance: { text: 1e-4, images: 1e-4 }, sameGreedyTokens: true });
