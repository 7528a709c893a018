import { describe, expect, it } from 'vitest';
import { MEDIA_PAD_TOKEN_ID as PAD, MultimodalPromptError, expandMediaPads, imagesInOrder, mediaPadPositions, placeImageFeatures } from './multimodal.ts';

describe('expandMediaPads', () => {
  it('widens each placeholder to its image’s token count, in order', () => {
    const { ids, spans } = expandMediaPads([1, PAD, 2, 3, PAD, 4], [3, 1]);
    expect(ids).toEqual([1, PAD, PAD, PAD, 2, 3, PAD, 4]);
    expect(spans).toEqual([
      { start: 1, length: 3 },
      { start: 6, length: 1 },
    ]);
  });

  it('leaves a text-only prompt alone', () => {
    expect(expandMediaPads([5, 6, 7], [])).toEqual({ ids: [5, 6, 7], spans: [] });
  });

  it('refuses a mismatch between placeholders and images', () => {
    expect(() => expandMediaPads([1, PAD, PAD], [4])).toThrow(MultimodalPromptError);
    expect(() => expandMediaPads([1, PAD, PAD], [4])).toThrow(/2 image placeholders \(<\|media_pad\|>\) but 1 image was given/);
    expect(() => expandMediaPads([1, 2], [4, 5])).toThrow(/0 image placeholders .* but 2 images were given/);
  });
});

describe('placeImageFeatures', () => {
  it('overwrites exactly the <|media_pad|> rows with feature rows in order', () => {
    const ids = [7, PAD, PAD, 8, PAD];
    const hidden = 2;
    const embeddings = Float32Array.from({ length: ids.length * hidden }, (_, i) => 100 + i);
    placeImageFeatures(embeddings, ids, Float32Array.from([1, 2, 3, 4, 5, 6]), hidden);
    expect(Array.from(embeddings)).toEqual([100, 101, 1, 2, 3, 4, 106, 107, 5, 6]);
    expect(mediaPadPositions(ids)).toEqual([1, 2, 4]);
    expect(() => placeImageFeatures(embeddings, ids, new Float32Array(4), hidden)).toThrow(/3 <\|media_pad\|> positions but 2 image feature rows/);
  });
});

describe('imagesInOrder', () => {
  it('collects image bytes and paths across messages in conversation order', () => {
    const a = Uint8Array.from([1]);
    const b = Uint8Array.from([2]);
    const c = Uint8Array.from([3]);
    const images = imagesInOrder([
      { content: 'system prompt' },
      { content: [{ type: 'image', image: { data: a } }, { type: 'text' }, { type: 'image', image: { data: b } }] },
      { content: [{ type: 'text' }] },
      { content: [{ type: 'image', image: { data: c } }, { type: 'image', image: '/tmp/shot.png' }] },
    ]);
    expect(images).toEqual([a, b, c, '/tmp/shot.png']);
    expect(() => imagesInOrder([{ content: [{ type: 'image' }] }])).toThrow(/neither image bytes \(\{data\}\) nor a file path/);
    expect(() => imagesInOrder([{ content: [{ type: 'image', image: { data: [1, 2] } }] }])).toThrow(MultimodalPromptError);
  });
});
