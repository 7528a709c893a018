import type { NormalizedPoint } from '../shared/actions.ts';
import type { ImageContent, VisionLanguageModel } from '../shared/model.ts';
import { parseKimiResponse } from './parser/index.ts';
import { groundingMessages } from './prompts/grounding.ts';

export interface GroundImage extends ImageContent {
  readonly width: number;
  readonly height: number;
}

export interface GroundOptions {
  readonly signal?: AbortSignal;
  readonly maxTokens?: number;
  readonly temperature?: number;
  readonly onToken?: (delta: string) => void;
}

export interface GroundResult {
  /** Normalised 0..1 of the image; null when the reply held no point. */
  readonly point: NormalizedPoint | null;
  /** The same point in the image's pixels (rounded). */
  readonly pixel: { readonly px: number; readonly py: number } | null;
  readonly raw: string;
  readonly thinking?: string;
  /** Model latency in milliseconds. */
  readonly ms: number;
  /** Why there is no point, when there is none. */
  readonly error?: string;
}

/** The first point an action in the reply aims at. */
function pointOf(reply: string, size: { width: number; height: number }): { point?: NormalizedPoint; thinking?: string; error?: string } {
  const parsed = parseKimiResponse(reply, { imageSize: size });
  if (parsed.ok) {
    for (const action of parsed.actions) {
      const point = 'at' in action ? action.at : 'to' in action ? action.to : undefined;
      if (point) return { point, thinking: parsed.thinking };
    }
  }
  if (parsed.ok || !parsed.truncated) {
    // Grounding replies are often a bare pair: "(0.42, 0.17)" or "x=0.42, y=0.17". Run the two
    // numbers through the same parser so pixel/normalised reading and range checks stay in one place.
    const answer = parsed.thinking !== undefined ? reply.slice(reply.lastIndexOf('▷') + 1) : reply;
    const pair = /(?:x\s*[=:]\s*)?(\d+(?:\.\d+)?)\s*,\s*(?:y\s*[=:]\s*)?(\d+(?:\.\d+)?)/.exec(answer);
    if (pair) {
      const retry = parseKimiResponse(`pyautogui.click(${pair[1]}, ${pair[2]})`, { imageSize: size });
      if (retry.ok && retry.actions[0]?.kind === 'click' && retry.actions[0].at) return { point: retry.actions[0].at, thinking: parsed.thinking };
      if (!retry.ok) return { thinking: parsed.thinking, error: retry.error };
    }
  }
  return { thinking: parsed.thinking, error: parsed.ok ? 'the reply names no point' : parsed.error };
}

/** Asks the model where `query` is on the image; returns the point, the raw reply and the latency. */
export async function ground(model: VisionLanguageModel, image: GroundImage, query: string, options: GroundOptions = {}): Promise<GroundResult> {
  const started = performance.now();
  const result = await model.generate({
    messages: groundingMessages({ mimeType: image.mimeType, data: image.data }, query),
    maxTokens: options.maxTokens ?? 256,
    temperature: options.temperature ?? 0,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onToken ? { onToken: options.onToken } : {}),
  });
  const ms = Math.round(performance.now() - started);
  const { point, thinking, error } = pointOf(result.text, image);
  return {
    point: point ?? null,
    pixel: point ? { px: Math.round(point.x * image.width), py: Math.round(point.y * image.height) } : null,
    raw: result.text,
    ms,
    ...(thinking !== undefined ? { thinking } : {}),
    ...(error !== undefined && !point ? { error } : {}),
  };
}
