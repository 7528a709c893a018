import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChatMessage, VisionLanguageModel } from '../../shared/model.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { KimiVLLocalModel } from '../../native-models/models/kimi-vl/runtime/local-model.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { tinyCheckpoint, tempDir } from '../harness/tiny-checkpoint.ts';

// The in-process model satisfies the agent's model seam structurally (no import between the two).
const ckpt = tinyCheckpoint({ seed: 21 });
const out = tempDir('seam');
let local: KimiVLLocalModel;

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'm') });
  local = await KimiVLLocalModel.load(join(out.dir, 'm'));
});
afterAll(async () => {
  await local.release();
  ckpt.cleanup();
  out.cleanup();
});

describe('KimiVLLocalModel as the agent sees it', () => {
  test('generate through the VisionLanguageModel interface streams text with usage and timings', async () => {
    const model: VisionLanguageModel = local;
    const messages: ChatMessage[] = [
      { role: 'system', content: 'You are a GUI agent.' },
      { role: 'user', content: [{ type: 'text', text: 'Rename the folder.' }] },
    ];
    const deltas: string[] = [];
    const r = await model.generate({ messages, maxTokens: 8, temperature: 0, onToken: (d) => deltas.push(d) });
    expect(model.name).toMatch(/^kimi-vl \(in-process, fp32\) @ /);
    expect(deltas.join('')).toBe(r.text);
    expect(r.usage?.completionTokens).toBeGreaterThan(0);
    expect(r.timings?.totalMs).toBeGreaterThan(0);
    expect(['stop', 'length']).toContain(r.finishReason);
  });

  test('a screenshot in the messages reaches the model: its image tokens count in the prompt', async () => {
    const model: VisionLanguageModel = local;
    const text: ChatMessage = { role: 'user', content: [{ type: 'text', text: 'click Save' }] };
    const shot = { mimeType: 'image/png' as const, data: encodePng({ width: 60, height: 30, colour: 'rgb', samples: noise(60 * 30 * 3, 2) }) };
    const withImage: ChatMessage = { role: 'user', content: [{ type: 'image', image: shot }, { type: 'text', text: 'click Save' }] };
    const plain = await model.generate({ messages: [text], maxTokens: 1 });
    const seen = await model.generate({ messages: [withImage], maxTokens: 1 });
    // The image adds <|media_start|>image<|media_content|>, 6 image tokens (grid 4×6) and <|media_end|>.
    expect(seen.usage!.promptTokens - plain.usage!.promptTokens).toBe(local.tokenizer.encode('<|media_start|>image<|media_content|><|media_end|>').length + 6);
  });

  test('a corrupt screenshot is refused with the reason, not silently dropped', async () => {
    const model: VisionLanguageModel = local;
    const png = { mimeType: 'image/png' as const, data: new Uint8Array([137, 80, 78, 71]) };
    await expect(model.generate({ messages: [{ role: 'user', content: [{ type: 'image', image: png }, { type: 'text', text: 'click Save' }] }] })).rejects.toThrow(/image data is not a readable image/);
  });
});
