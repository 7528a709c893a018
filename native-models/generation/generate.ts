/**
 * The decode loop: prefill the prompt, then one token at a time through the KV cache, with
 * composable stop rules (end tokens, stop strings, max new tokens, abort) and timings.
 */
import { SeededRandom } from '../numeric/random.ts';
import { chooseToken, wantedFor, type NextTokenBasis, type NextTokenWanted, type SamplingOptions } from './sampling.ts';
import { StopStringMatcher } from './stop-strings.ts';

/** One forward step of a causal LM with an opaque cache. */
export interface StepModel<Cache> {
  emptyCache(): Cache;
  /** `wanted` 'logits' always returns the logits; 'greedy' may return the greedy token instead. */
  forward(ids: readonly number[], cache: Cache, wanted: NextTokenWanted): Promise<NextTokenBasis & { cache: Cache }>;
  /** Frees what the last cache holds outside the garbage collector's reach (GPU buffers). */
  releaseCache?(cache: Cache): void;
}

/** Token ids → text, incrementally and UTF-8 safe. */
export interface TextStream {
  push(id: number): string;
  flush(): string;
}

export interface GenerationOptions extends SamplingOptions {
  readonly maxNewTokens: number;
  readonly seed?: number;
  readonly stopTokens: ReadonlySet<number>;
  readonly stopStrings?: readonly string[];
  readonly signal?: AbortSignal;
  readonly onToken?: (delta: string) => void;
}

export interface GenerationTimings {
  readonly totalMs: number;
  readonly prefillMs: number;
  readonly firstTokenMs?: number;
  readonly promptTokensPerSecond: number;
  readonly decodeTokensPerSecond?: number;
}

export interface GenerationOutput {
  readonly text: string;
  readonly tokens: readonly number[];
  readonly finishReason: 'stop' | 'length' | 'abort';
  readonly promptTokens: number;
  readonly timings: GenerationTimings;
}

export async function generateTokens<Cache>(model: StepModel<Cache>, prompt: readonly number[], stream: TextStream, opts: GenerationOptions): Promise<GenerationOutput> {
  const start = performance.now();
  const rng = new SeededRandom(opts.seed ?? 0);
  const stops = new StopStringMatcher(opts.stopStrings ?? []);
  const tokens: number[] = [];
  let text = '';
  let finishReason: GenerationOutput['finishReason'] = 'length';
  let prefillMs = 0;
  let firstTokenMs: number | undefined;
  let decodeSteps = 0;
  let stoppedByString = false;
  const emit = (delta: string) => {
    if (!delta) return;
    text += delta;
    opts.onToken?.(delta);
  };

  const wanted = wantedFor(opts);
  let cache = model.emptyCache();
  let next: readonly number[] = prompt;
  try {
    while (tokens.length < opts.maxNewTokens) {
      if (opts.signal?.aborted) {
        finishReason = 'abort';
        break;
      }
      const step = await model.forward(next, cache, wanted);
      cache = step.cache;
      if (next === prompt) prefillMs = performance.now() - start;
      else decodeSteps++;
      const id = chooseToken(step, opts, rng);
      if (firstTokenMs === undefined) firstTokenMs = performance.now() - start;
      if (opts.stopTokens.has(id)) {
        finishReason = 'stop';
        break;
      }
      tokens.push(id);
      const { emit: shown, stopped } = stops.push(stream.push(id));
      emit(shown);
      if (stopped) {
        stoppedByString = true;
        finishReason = 'stop';
        break;
      }
      next = [id];
    }
  } finally {
    model.releaseCache?.(cache);
  }
  if (!stoppedByString) emit(stops.push(stream.flush()).emit + stops.flush());
  const totalMs = performance.now() - start;
  const decodeMs = totalMs - prefillMs;
  return {
    text,
    tokens,
    finishReason,
    promptTokens: prompt.length,
    timings: {
      totalMs,
      prefillMs,
      firstTokenMs,
      promptTokensPerSecond: prefillMs > 0 ? prompt.length / (prefillMs / 1000) : 0,
      decodeTokensPerSecond: decodeSteps > 0 && decodeMs > 0 ? decodeSteps / (decodeMs / 1000) : undefined,
    },
  };
}
