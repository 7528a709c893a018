import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { argmax, maxAbsDiff } from '../../../../test/harness/floats.ts';
import { tinyCheckpoint, tempDir } from '../../../../test/harness/tiny-checkpoint.ts';
import { HfCheckpoint, readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { ChatTemplate } from '../processing/chat-template.ts';
import { parseKimiVLConfig } from '../configuration.ts';
import { importKimiVL } from '../import/import-checkpoint.ts';
import type { HostLatentCache, KvCache } from '../runtime/latent-cache.ts';
import { ReferenceTextModel } from '../testing/reference-text.ts';
import { TextSession } from '../runtime/text-session.ts';
import { KimiTokenizer } from '../processing/tokenization.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

// Two checkpoints with the same random values: bf16 as published, and fp32.
const bf16 = tinyCheckpoint({ dtype: 'bf16', seed: 3 });
const fp32 = tinyCheckpoint({ dtype: 'fp32', seed: 3 });
const out = tempDir('models');
const sessions: TextSession[] = [];
let prompt: number[];

async function imported(src: string, name: string, precision: 'fp32' | 'fp16', debugOutputs?: string[], decompressedFrom?: number): Promise<TextSession> {
  await importKimiVL({ source: src, out: join(out.dir, name), precision, debugOutputs, decompressedFrom });
  const s = await TextSession.open(join(out.dir, name));
  sessions.push(s);
  return s;
}

function reference(src: string): ReferenceTextModel {
  const config = parseKimiVLConfig(readJsonFile(join(src, 'config.json'), 'config.json'));
  const ckpt = HfCheckpoint.open(src);
  const ref = new ReferenceTextModel(ckpt, config.text);
  ckpt.close();
  return ref;
}

beforeAll(() => {
  const tok = KimiTokenizer.fromDir(fp32.dir, 163840);
  const text = ChatTemplate.fromDir(fp32.dir).render([{ role: 'user', content: 'Click the Save button, then type 你好 🙂 and press Enter.' }]);
  prompt = tok.encode(text);
});

afterAll(async () => {
  for (const s of sessions) await s.release();
  bf16.cleanup();
  fp32.cleanup();
  out.cleanup();
});

describe('Kimi-VL text graph vs the plain TypeScript reference', () => {
  test('the prompt is a few dozen tokens of real chat template', () => {
    expect(prompt.length).toBeGreaterThanOrEqual(30);
    expect(prompt.length).toBeLessThanOrEqual(80);
  });

  test.each([
    ['fp32', () => fp32.dir],
    ['bf16', () => bf16.dir],
  ])('%s checkpoint → fp32 graph: logits match to 1e-4 without the cache', async (name, dir) => {
    const session = await imported(dir(), `${name}-nocache`, 'fp32');
    const { logits, cache } = await session.forward(prompt);
    const expected = reference(dir()).forward(prompt);
    expect(logits.length).toBe(163840);
    expect(maxAbsDiff(logits, expected)).toBeLessThan(1e-4);
    expect(cache.length).toBe(prompt.length);
    expect(session.cacheHome).toBe('host');
    expect((cache as HostLatentCache).rows(0).length).toBe(prompt.length * (32 + 8));
  });

  // MLA's two forms: decompressed keys and values (prefill) and the absorbed latent (decode); by
  // default the form follows the call's length (32 new tokens on this checkpoint), and either
  // form must give the reference's logits for any call, with or without a cache.
  test.each([
    ['each call in the form its length picks', undefined],
    ['every call decompressed, decode steps too', 1],
    ['every call absorbed, the prefill too', 1_000_000],
  ])('with the KV cache: chunked prefill then token-by-token decode match at every step — %s', async (_, decompressedFrom) => {
    const session = await imported(fp32.dir, `fp32-cache-${decompressedFrom ?? 'auto'}`, 'fp32', undefined, decompressedFrom);
    const ref = reference(fp32.dir);
    // By default a first call long enough for the decompressed form, then one token at a time.
    const calls = decompressedFrom === undefined ? [0, 33] : [0, 20, 28];
    const split = [...calls, ...Array.from({ length: prompt.length - calls.at(-1)! }, (_, i) => calls.at(-1)! + 1 + i)];
    let cache: KvCache = session.emptyCache();
    let worst = 0;
    for (let k = 0; k + 1 < split.length; k++) {
      const chunk = prompt.slice(split[k], split[k + 1]);
      const step: { logits: Float32Array; cache: KvCache } = await session.forward(chunk, cache);
      cache = step.cache;
      const expected = ref.forward(chunk);
      worst = Math.max(worst, maxAbsDiff(step.logits, expected));
      expect(argmax(step.logits)).toBe(argmax(expected));
    }
    expect(cache.length).toBe(prompt.length);
    expect(worst).toBeLessThan(1e-4);
  });

  test('both forms write the same latent cache: a prefill in one form decodes in the other like the reference', async () => {
    const byLength = await imported(fp32.dir, 'fp32-forms-by-length', 'fp32');
    const absorbed = await imported(fp32.dir, 'fp32-forms-absorbed', 'fp32', undefined, 1_000_000);
    const head = prompt.slice(0, 33); // 33 new tokens: decompressed by length on this checkpoint
    const viaDecompressed = await byLength.forward(head);
    const viaAbsorbed = await absorbed.forward(head);
    const rows = (c: KvCache, i: number) => (c as HostLatentCache).rows(i);
    // Layer 0's rows come before any attention: equal. Later layers' differ by the two forms' rounding.
    expect(maxAbsDiff(rows(viaDecompressed.cache, 0), rows(viaAbsorbed.cache, 0))).toBe(0);
    for (let i = 1; i < 3; i++) expect(maxAbsDiff(rows(viaDecompressed.cache, i), rows(viaAbsorbed.cache, i))).toBeLessThan(1e-5);
    // Each session decodes from the other's prefill: decode steps are absorbed in both.
    for (const [session, start] of [[byLength, viaAbsorbed], [absorbed, viaDecompressed]] as const) {
      const ref = reference(fp32.dir);
      expect(maxAbsDiff(start.logits, ref.forward(head))).toBeLessThan(1e-4);
      let cache = start.cache;
      for (const id of prompt.slice(33)) {
        const step = await session.forward([id], cache);
        cache = step.cache;
        expect(maxAbsDiff(step.logits, ref.forward([id]))).toBeLessThan(1e-4);
      }
    }
  });

  test('fp16 weights and activations stay close to the reference and agree on the top token', async () => {
    const session = await imported(fp32.dir, 'fp16', 'fp16');
    expect(session.manifest.precision).toBe('fp16');
    const first = await session.forward(prompt.slice(0, 30));
    const { logits } = await session.forward(prompt.slice(30), first.cache);
    expect((first.cache as HostLatentCache).rows(0)).toBeInstanceOf(Uint16Array);
    const expected = reference(fp32.dir).forward(prompt);
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(maxAbsDiff(logits, expected) / scale).toBeLessThan(2e-2);
    expect(argmax(logits)).toBe(argmax(expected));
  });

  test('intermediates are exposed by node name: every layer output matches the reference layer by layer', async () => {
    const names = [0, 1, 2].map((i) => `layers.${i}.output`);
    const session = await imported(fp32.dir, 'fp32-debug', 'fp32', names);
    const { extras } = await session.forward(prompt);
    const ref = reference(fp32.dir);
    ref.forward(prompt);
    for (const [i, name] of names.entries()) {
      const value = extras[name]!;
      expect(value.dims).toEqual([prompt.length, 64]);
      const lastRow = (value.data as Float32Array).subarray((prompt.length - 1) * 64);
      expect(maxAbsDiff(lastRow, ref.layerOutputs[i]!)).toBeLessThan(1e-4);
    }
  });
});
