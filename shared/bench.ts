/**
 * The model benchmark's defaults, one copy for all that offer it: `kestrel bench`'s options,
 * the host's `models.bench` route and `runModelBench`, and the Benchmark form in Settings. Here
 * because the renderer may import shared/ but neither the host's code nor native-models.
 */
export const BENCH_DEFAULTS = { repetitions: 3, promptTokens: 512, decodeTokens: 32 } as const;
