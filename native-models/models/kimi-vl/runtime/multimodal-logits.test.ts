import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { encodePng, noise } from '../../../../test/fixtures/images/png.ts';
import { argmax, maxAbsDiff } from '../../../../test/harness/floats.ts';
import { tinyCheckpoint, tempDir } from '../../../../test/harness/tiny-checkpoint.ts';
import { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import { processImages, type ProcessedImages } from '../processing/image-processing.ts';
import { importKimiVL } from '../import/import-checkpoint.ts';
import { KimiVLLocalModel, type LocalChatMessage } from './local-model.ts';
import { MEDIA_PAD_TOKEN_ID } from './multimodal.ts';
import { referenceImageEmbeddings } from '../../../../test/harness/image-embeddings.ts';
import type { HostLatentCache } from './latent-cache.ts';
import { ReferenceTextModel } from '../testing/reference-text.ts';
import { TextSession } from './text-session.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const ckpt = tinyCheckpoint({ dtype: 'fp32', seed: 5 });
const out = tempDir('multimodal');
const rgb = (width: number, height: number, seed: number) => encodePng({ width, height, colour: 'rgb', samples: noise(width * height * 3, seed) });
const screenshot = rgb(60, 30, 1); // grid 4×6 → 6 tokens
const iconFile = join(out.dir, 'icon.png'); // 40×40 → grid 4×4 → 4 tokens
let model: KimiVLLocalModel;

const conversation = (first: Uint8Array): LocalChatMessage[] => [
  { role: 'user', content: [{ type: 'image', image: { data: first } }, { type: 'text', text: 'Where is the Save button?' }] },
  { role: 'assistant', content: 'Top left.' },
  { role: 'user', content: [{ type: 'text', text: 'And this icon?' }, { type: 'image', image: iconFile }] },
];

/** Logits of the plain-loop references: vision features placed at the <|media_pad|> positions of the text reference. */
function referenceLogits(inputIds: number[], images: ProcessedImages): Float32Array {
  const config = model.session.config;
  const embeddings = referenceImageEmbeddings(ckpt.dir, config, inputIds, images);
  const hf = HfCheckpoint.open(ckpt.dir);
  try {
    return new ReferenceTextModel(hf, config.text).forward(inputIds, embeddings);
  } finally {
    hf.close();
  }
}

beforeAll(async () => {
  writeFileSync(iconFile, rgb(40, 40, 2));
  await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'model'), precision: 'fp32' });
  model = await KimiVLLocalModel.load(join(out.dir, 'model'));
});

afterAll(async () => {
  await model?.release();
  ckpt.cleanup();
  out.cleanup();
});

describe('multimodal prompts on the imported tiny model', () => {
  test('two images in a conversation: logits match the TypeScript references to 1e-4', async () => {
    const { inputIds, logits, images } = await model.logits(conversation(screenshot));
    // Each image's single placeholder became its token count, inside its own media block.
    expect(inputIds.filter((id) => id === MEDIA_PAD_TOKEN_ID).length).toBe(6 + 4);
    expect(images!.positions.length).toBe(10);
    const processed = await processImages([screenshot, iconFile]);
    expect(processed.gridHws).toEqual([[4, 6], [4, 4]]);
    const expected = referenceLogits(inputIds, processed);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
  });

  test('the image content reaches the logits, and greedy generation starts with the reference token', async () => {
    const a = await model.logits(conversation(screenshot));
    const b = await model.logits(conversation(rgb(60, 30, 9)));
    expect(a.inputIds).toEqual(b.inputIds);
    expect(maxAbsDiff(a.logits, b.logits)).toBeGreaterThan(1e-3);
    const reply = await model.generate({ messages: conversation(screenshot), maxTokens: 1 });
    if (reply.finishReason === 'stop') expect(reply.tokens).toEqual([]);
    else expect(reply.tokens).toEqual([argmax(a.logits)]);
  });

  test('an fp16 import takes the same images: logits within 2 % of the references, same top token', async () => {
    await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'model-fp16'), precision: 'fp16' });
    const half = await KimiVLLocalModel.load(join(out.dir, 'model-fp16'));
    try {
      const { inputIds, logits } = await half.logits(conversation(screenshot));
      const expected = referenceLogits(inputIds, await processImages([screenshot, iconFile]));
      const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbsDiff(logits, expected) / scale).toBeLessThan(2e-2);
      expect(argmax(logits)).toBe(argmax(expected));
    } finally {
      await half.release();
    }
  });

  test('fed 7 tokens per call, an image split between calls, the prompt gives the logits and the cache of one call', async () => {
    const { inputIds, images } = await model.encodeMultimodal(conversation(screenshot));
    const positions = new Set(images!.positions);
    expect([...positions].some((p) => p % 7 === 6 && positions.has(p + 1))).toBe(true);
    const whole = await model.session.forward(inputIds, undefined, images);
    const chunked = await TextSession.open(join(out.dir, 'model'), { prefillChunk: 7 });
    try {
      const pieces = await chunked.forward(inputIds, undefined, images);
      expect(pieces.cache.length).toBe(inputIds.length);
      expect(maxAbsDiff(pieces.logits, whole.logits)).toBeLessThan(1e-5);
      for (let layer = 0; layer < 3; layer++) {
        expect(maxAbsDiff((pieces.cache as HostLatentCache).rows(layer), (whole.cache as HostLatentCache).rows(layer))).toBeLessThan(1e-5);
      }
    } finally {
      await chunked.release();
    }
  });

  test('the manifest records the vision model', () => {
    expect(model.session.manifest.vision?.graph.file).toBe('vision-model.onnx');
    expect(model.vision).toBeDefined();
  });
});

describe('import refuses a checkpoint without its vision tower', () => {
  test('text-only safetensors index → one-line error naming the missing tensors', async () => {
    const t = tinyCheckpoint({ dtype: 'fp32', shards: 2 });
    const dest = tempDir('no-vision');
    try {
      const indexFile = join(t.dir, 'model.safetensors.index.json');
      const { readFileSync } = await import('node:fs');
      const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { weight_map: Record<string, string> };
      for (const name of Object.keys(index.weight_map)) if (!name.startsWith('language_model.')) delete index.weight_map[name];
      writeFileSync(indexFile, JSON.stringify(index));
      await expect(importKimiVL({ source: t.dir, out: dest.dir })).rejects.toThrow(/has no vision tower: 35 of 35 vision tensors are missing/);
    } finally {
      t.cleanup();
      dest.cleanup();
    }
  });
});
