/**
 * Greedy decode steps as the decode benchmarks time them (bench-lm.ts, bench-decode-ab.ts): each
 * step asks the session for 'greedy', as generation does, so a folder whose graph outputs its
 * greedy token returns only that.
 */
import { greedyToken, type NextTokenBasis } from '../native-models/generation/sampling.ts';
import type { KvCache, TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';

/** Where a decode stands: the cache, and what the last call said about the next token. */
export type DecodeState = { readonly cache: KvCache } & NextTokenBasis;

/** A prompt fed to an empty cache, greedily. */
export async function greedyPrefill(session: TextSession, prompt: readonly number[]): Promise<DecodeState> {
  return session.forward(prompt, undefined, undefined, 'greedy');
}

/** `steps` greedy tokens from `from`, each fed back: the tokens, and where the decode then stands. */
export async function greedySteps(session: TextSession, from: DecodeState, steps: number): Promise<{ tokens: number[]; last: DecodeState }> {
  const tokens: number[] = [];
  let state = from;
  for (let i = 0; i < steps; i++) {
    tokens.push(greedyToken(state));
    state = await session.forward([tokens.at(-1)!], state.cache, undefined, 'greedy');
  }
  return { tokens, last: state };
}
