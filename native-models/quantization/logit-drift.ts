/**
 * Logit drift of a quantised model against its fp32 import: for each prompt, the largest
 * |Δlogit|, that value relative to the largest fp32 |logit|, and whether the top token agrees.
 * Used by the int4 model test (with bounds) and scripts/int4-drift.ts (which prints them).
 */
import { argmax } from '../generation/sampling.ts';
import type { TextSession } from '../models/kimi-vl/runtime/text-session.ts';

export interface PromptDrift {
  readonly tokens: number;
  readonly maxAbsDiff: number;
  readonly relative: number;
  readonly top1Agrees: boolean;
  /** Where the quantised model's top token ranks among the reference's logits (0: it agrees). */
  readonly top1Rank: number;
}

export interface DriftReport {
  readonly prompts: readonly PromptDrift[];
  readonly worstMaxAbsDiff: number;
  readonly worstRelative: number;
  readonly top1Agreement: number;
  /** The worst prompt's top1Rank. */
  readonly worstTop1Rank: number;
}

/** The largest |got − want| over one set of logits, and that relative to the largest |want|. */
export function logitDiff(want: Float32Array, got: Float32Array): { readonly maxAbsDiff: number; readonly relative: number } {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return { maxAbsDiff: diff, relative: diff / scale };
}

export async function measureLogitDrift(reference: TextSession, quantised: TextSession, prompts: readonly (readonly number[])[]): Promise<DriftReport> {
  const results: PromptDrift[] = [];
  for (const ids of prompts) {
    const want = (await reference.forward([...ids])).logits;
    const got = (await quantised.forward([...ids])).logits;
    const top = argmax(got);
    const top1Rank = want.reduce((n, v) => (v > want[top]! ? n + 1 : n), 0);
    results.push({ tokens: ids.length, ...logitDiff(want, got), top1Agrees: top === argmax(want), top1Rank });
  }
  return {
    prompts: results,
    worstMaxAbsDiff: Math.max(...results.map((r) => r.maxAbsDiff)),
    worstRelative: Math.max(...results.map((r) => r.relative)),
    top1Agreement: results.filter((r) => r.top1Agrees).length / results.length,
    worstTop1Rank: Math.max(...results.map((r) => r.top1Rank)),
  };
}

export function formatDrift(d: DriftReport): string {
  const lines = d.prompts.map((p, i) => `  prompt ${i + 1} (${p.tokens} tokens): max |Δlogit| ${p.maxAbsDiff.toFixed(4)} (${(100 * p.relative).toFixed(1)}% of max |logit|), top-1 ${p.top1Agrees ? 'agrees' : `differs (the reference's no. ${p.top1Rank + 1})`}`);
  return [...lines, `  worst max |Δlogit| ${d.worstMaxAbsDiff.toFixed(4)} (${(100 * d.worstRelative).toFixed(1)}%), top-1 agreement ${(100 * d.top1Agreement).toFixed(0)}% of ${d.prompts.length} prompts`].join('\n');
}
