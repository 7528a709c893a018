/**
 * The model benchmark both hosts offer (`kestrel bench`, Settings → Models → Benchmark):
 * native-models' bench, timing the first grounded point with the agent's own grounding prompt
 * and the reply form it reads. onnxruntime loads only when a benchmark runs.
 */
import { GROUNDING_REPLY_EXAMPLE, groundingMessages } from '../agent/index.ts';
import type { BenchOptions, BenchReport, Device } from '../native-models/index.ts';
import { BENCH_DEFAULTS } from '../shared/bench.ts';

/** What the first-point test asks for; the words do not change the work, only the prompt's length. */
export const BENCH_QUERY = 'the Save button';

/** The bench's options, each defaulting to BENCH_DEFAULTS (`kestrel bench`'s too). */
export async function runModelBench(dirs: readonly string[], devices: readonly Device[], opts: Partial<Omit<BenchOptions, 'grounding'>> = {}): Promise<BenchReport> {
  const { benchModels } = await import('../native-models/runtime.ts');
  return benchModels(dirs, devices, {
    ...BENCH_DEFAULTS,
    ...opts,
    grounding: { messages: (image) => groundingMessages(image, BENCH_QUERY), reply: GROUNDING_REPLY_EXAMPLE },
  });
}
