/**
 * Multimodal prompt assembly (docs/kimi-vl.md#image-features-in-the-prompt): every image leaves one
 * `<|media_pad|>` in the rendered chat template; the k-th one is widened to image k's token
 * count, and the projector's rows then overwrite the embeddings at those positions, in order.
 */
import type { StepModel } from '../../../generation/generate.ts';
import { processImages, type ImageProcessorConfig, type ImageSource } from '../processing/image-processing.ts';
import type { VisionEncoder } from './vision-session.ts';
import type { ImageFeatures, KvCache, TextSession } from './text-session.ts';
import { KestrelError } from '../../../../shared/errors.ts';

/** `<|media_pad|>` in Kimi-VL's vocabulary (config.json media_placeholder_token_id). */
export const MEDIA_PAD_TOKEN_ID = 163605;

/** A prompt whose placeholders and images do not line up; the message says which way. */
export class MultimodalPromptError extends KestrelError {
  override readonly name = 'MultimodalPromptError';
}

export interface ExpandedPrompt {
  readonly ids: number[];
  /** Where each image's features go: first position and token count, images in order. */
  readonly spans: ReadonlyArray<{ readonly start: number; readonly length: number }>;
}

/** Widens the k-th `<|media_pad|>` into tokenCounts[k] copies. */
export function expandMediaPads(ids: readonly number[], tokenCounts: readonly number[], padId = MEDIA_PAD_TOKEN_ID): ExpandedPrompt {
  const placeholders = ids.reduce((n, id) => n + (id === padId ? 1 : 0), 0);
  if (placeholders !== tokenCounts.length) {
    throw new MultimodalPromptError(
      `the prompt has ${placeholders} image placeholder${placeholders === 1 ? '' : 's'} (<|media_pad|>) but ${tokenCounts.length} image${tokenCounts.length === 1 ? ' was' : 's were'} given; ` +
        'pass one image per image part, and keep the literal text <|media_pad|> out of messages',
    );
  }
  const out: number[] = [];
  const spans: Array<{ start: number; length: number }> = [];
  let image = 0;
  for (const id of ids) {
    if (id !== padId) {
      out.push(id);
      continue;
    }
    const length = tokenCounts[image++]!;
    spans.push({ start: out.length, length });
    for (let i = 0; i < length; i++) out.push(padId);
  }
  return { ids: out, spans };
}

/**
 * Overwrites the embedding rows at `<|media_pad|>` positions with the image features, in order
 * (the reference for the graph's scatter; also usable on any [L, D] embedding buffer).
 */
export function placeImageFeatures(embeddings: Float32Array, ids: readonly number[], features: Float32Array, hidden: number, padId = MEDIA_PAD_TOKEN_ID): void {
  const positions = mediaPadPositions(ids, padId);
  if (positions.length * hidden !== features.length) {
    throw new MultimodalPromptError(`${positions.length} <|media_pad|> positions but ${features.length / hidden} image feature rows; the image token counts and the prompt disagree`);
  }
  positions.forEach((pos, row) => embeddings.set(features.subarray(row * hidden, (row + 1) * hidden), pos * hidden));
}

/** Positions of `<|media_pad|>` tokens, left to right. */
export function mediaPadPositions(ids: readonly number[], padId = MEDIA_PAD_TOKEN_ID): number[] {
  const positions: number[] = [];
  ids.forEach((id, i) => {
    if (id === padId) positions.push(i);
  });
  return positions;
}

/**
 * Images in the order their parts appear in the conversation: bytes (the agent's ImageContent)
 * or a file path (a messages file), as the image processor takes them.
 */
export function imagesInOrder(
  messages: ReadonlyArray<{ readonly content: string | ReadonlyArray<{ readonly type: string; readonly image?: unknown }> }>,
): ImageSource[] {
  const images: ImageSource[] = [];
  for (const message of messages) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'image') continue;
      const image = part.image;
      if (typeof image === 'string') images.push(image);
      else if (image && typeof image === 'object' && (image as { data?: unknown }).data instanceof Uint8Array) images.push((image as { data: Uint8Array }).data);
      else throw new MultimodalPromptError('an image part has neither image bytes ({data}) nor a file path; attach a PNG or JPEG');
    }
  }
  return images;
}

export interface PromptWithImages {
  readonly inputIds: number[];
  /** Features for the prefill; undefined for a text-only prompt. */
  readonly images: ImageFeatures | undefined;
  readonly imageTokenCounts: readonly number[];
}

/**
 * Takes the tokenized chat prompt (one `<|media_pad|>` per image part) and the images in
 * conversation order: widens the placeholders and encodes the images with the vision model.
 * `check` sees the widened prompt first and may refuse it before the vision model runs.
 */
export async function attachImages(
  ids: readonly number[],
  images: readonly ImageSource[],
  vision: VisionEncoder,
  imageConfig: ImageProcessorConfig,
  check: (expandedTokens: number) => void = () => undefined,
): Promise<PromptWithImages> {
  const processed = await processImages(images, imageConfig);
  const { ids: inputIds, spans } = expandMediaPads(ids, processed.tokenCounts);
  check(inputIds.length);
  const features = await vision.encode(processed);
  const positions = spans.flatMap(({ start, length }) => Array.from({ length }, (_, i) => start + i));
  return { inputIds, images: { features, positions }, imageTokenCounts: processed.tokenCounts };
}

/** A step model whose first (prefill) call carries the image features; later calls are text. */
export function withImagePrefill(
  session: Pick<TextSession, 'emptyCache' | 'forward' | 'releaseCache'>,
  images: ImageFeatures | undefined,
): StepModel<KvCache> {
  return {
    emptyCache: () => session.emptyCache(),
    forward: (ids, cache, wanted) => session.forward(ids, cache, cache.length === 0 ? images : undefined, wanted),
    releaseCache: (cache) => session.releaseCache(cache),
  };
}
