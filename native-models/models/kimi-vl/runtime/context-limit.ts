/**
 * The model's context (config.json's `max_position_embeddings`, 131,072 tokens for Kimi-VL-A3B)
 * checked before any model work: a prompt that does not fit is refused with both numbers, and a
 * reply is capped at what the prompt leaves. Images count with their expanded token counts.
 */

import { KestrelError } from '../../../../shared/errors.ts';

/** A prompt that does not fit the model's context; the message names both lengths. */
export class ContextLengthError extends KestrelError {
  override readonly name = 'ContextLengthError';
}

/** onnxruntime could not allocate memory for a prompt; nothing is left half-done, the model stays usable. */
export class ModelMemoryError extends KestrelError {
  override readonly name = 'ModelMemoryError';
}

const count = (n: number) => n.toLocaleString('en-US');

/**
 * Refuses a prompt of `promptTokens` that does not fit a context of `limit` tokens, leaving room
 * for at least one generated token when `reply` is set (a prompt of exactly `limit` tokens can
 * still be scored, not answered).
 */
export function checkContext(promptTokens: number, limit: number, reply: boolean, imagesIncluded: boolean): void {
  const room = reply ? 1 : 0;
  if (promptTokens + room <= limit) return;
  const what = imagesIncluded ? ' (images included)' : '';
  const fix = imagesIncluded ? 'shorten it or send fewer or smaller images' : 'shorten it';
  throw new ContextLengthError(
    promptTokens > limit
      ? `the prompt is ${count(promptTokens)} tokens${what}, over the model's context of ${count(limit)} tokens (max_position_embeddings); ${fix}`
      : `the prompt is ${count(promptTokens)} tokens${what}, which fills the model's context of ${count(limit)} tokens (max_position_embeddings) and leaves no room for a reply; ${fix}`,
  );
}

/** The reply's token budget: what was asked for, capped at what the prompt leaves of the context. */
export function replyBudget(promptTokens: number, limit: number, asked: number): number {
  return Math.max(0, Math.min(asked, limit - promptTokens));
}
