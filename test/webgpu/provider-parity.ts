/**
 * WebGPU against the CPU provider on one imported folder, through the model's public surface
 * only (the chat encoder, the vision model, TextSession.forward and generate), so the checks hold
 * whatever the graphs do inside. For each conversation — text only, one image, two images — the
 * next-token logits must agree within the precision's tolerance and name the same top token:
 *
 * - after one forward pass over the whole prompt;
 * - after a chunked prefill (three calls, one boundary inside an image's tokens);
 * - at every step of a decode, token by token, with WebGPU's cache kept in GPU buffers.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { argmax, maxAbsDiff } from '../harness/floats.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import type { Device } from '../../native-models/onnx/device.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { Precision } from '../../native-models/models/kimi-vl/graphs/modeling-text.ts';
import { DeviceLatentCache } from '../../native-models/models/kimi-vl/runtime/latent-cache.ts';
import { KimiVLLocalModel, type LocalChatMessage } from '../../native-models/models/kimi-vl/runtime/local-model.ts';
import type { ImageFeatures, KvCache } from '../../native-models/models/kimi-vl/runtime/text-session.ts';

export interface ParityOptions {
  readonly precision: Precision;
  /** The device the import is for (its KV cache type follows: fp16 for a GPU). */
  readonly importFor: Device;
  /** Largest |Δlogit| allowed, text only and with images (the vision tower may differ in precision). The tiny model's logits reach about 3.5. */
  readonly tolerance: { readonly text: number; readonly images: number };
  /** Greedy generation must give the CPU's tokens. */
  readonly sameGreedyTokens: boolean;
}

const rgb = (width: number, height: number, seed: number) => encodePng({ width, height, colour: 'rgb', samples: noise(width * height * 3, seed) });

/** The conversations every precision is checked on; the screenshot has 96 patches, the icon 16. */
function conversations(dir: string): Record<'text' | 'one image' | 'two images', LocalChatMessage[]> {
  const screenshot = rgb(150, 100, 11);
  const icon = join(dir, 'icon.png');
  writeFileSync(icon, rgb(40, 40, 12));
  return {
    text: [{ role: 'user', content: 'Open the File menu, choose Save As, and type report.txt in the name field.' }],
    'one image': [{ role: 'user', content: [{ type: 'image', image: { data: screenshot } }, { type: 'text', text: 'Where is the Save button?' }] }],
    'two images': [
      { role: 'user', content: [{ type: 'image', image: { data: screenshot } }, { type: 'text', text: 'Where is the Save button?' }] },
      { role: 'assistant', content: 'Top left.' },
      { role: 'user', content: [{ type: 'text', text: 'And this icon?' }, { type: 'image', image: icon }] },
    ],
  };
}

/** The image rows whose positions fall in [start, end), positions made relative to `start`. */
function imagesIn(images: ImageFeatures | undefined, start: number, end: number, hidden: number): ImageFeatures | undefined {
  if (!images) return undefined;
  const rows = images.positions.flatMap((p, row) => (p >= start && p < end ? [row] : []));
  const features = new Float32Array(rows.length * hidden);
  rows.forEach((row, i) => features.set(images.features.subarray(row * hidden, (row + 1) * hidden), i * hidden));
  return { features, positions: rows.map((row) => images.positions[row]! - start) };
}

/** Three calls, the first boundary inside the first image's tokens when there is one. */
function chunkBounds(length: number, images: ImageFeatures | undefined): number[] {
  const first = images ? images.positions[Math.floor(images.positions.length / 2)]! : Math.floor(length / 3);
  const second = Math.floor((first + length) / 2);
  return [0, first, second, length];
}

/** Tokens whose logit is within `margin` of the largest, the largest first. */
function contenders(logits: Float32Array, margin: number): number[] {
  const top = argmax(logits);
  const near: number[] = [top];
  logits.forEach((v, i) => {
    if (i !== top && v >= logits[top]! - margin) near.push(i);
  });
  return near;
}

interface Step {
  readonly what: string;
  readonly cpu: Float32Array;
  readonly gpu: Float32Array;
}

/** Registers the suite for one precision: imports a tiny checkpoint once, loads it on both providers. */
export function describeProviderParity(opts: ParityOptions): void {
  const ckpt = tinyCheckpoint({ seed: 21 });
  const work = tempDir(`webgpu-${opts.precision}`);
  const chats = conversations(work.dir);
  let cpu: KimiVLLocalModel;
  let gpu: KimiVLLocalModel;

  beforeAll(async () => {
    const dir = join(work.dir, 'model');
    await importKimiVL({ source: ckpt.dir, out: dir, precision: opts.precision, device: opts.importFor });
    cpu = await KimiVLLocalModel.load(dir, { device: 'cpu' });
    gpu = await KimiVLLocalModel.load(dir, { device: 'webgpu', note: () => {} });
  });
  afterAll(async () => {
    await cpu?.release();
    await gpu?.release();
    ckpt.cleanup();
    work.cleanup();
  });

  /**
   * Every logit within the tolerance, and the same top token. Where the CPU's runner-up is within
   * twice the tolerance of its top logit, logits that agree to the tolerance cannot fix their
   * order, so WebGPU's top token must be one of those (said in the log); elsewhere it must be the
   * CPU's.
   */
  function expectAgreement(steps: readonly Step[], tolerance: number): void {
    const report = steps.map(({ what, cpu: a, gpu: b }) => ({ what, diff: maxAbsDiff(a, b), top: argmax(b), allowed: contenders(a, 2 * tolerance) }));
    const ties = report.filter((r) => r.allowed.length > 1).map((r) => `${r.what}: tokens ${r.allowed.join(', ')} within ${2 * tolerance} of the top`);
    console.log(`${opts.precision}: ${report.map((r) => `${r.what} ${r.diff.toExponential(1)}`).join(', ')}${ties.length ? `; near ties: ${ties.join('; ')}` : ''}`);
    for (const r of report) {
      expect(r.diff, `${r.what}: |Δlogit| ${r.diff} over ${tolerance}`).toBeLessThanOrEqual(tolerance);
      expect(r.allowed, `${r.what}: WebGPU's top token`).toContain(r.top);
    }
  }

  describe(`${opts.precision} import: WebGPU's logits equal the CPU provider's`, () => {
    test('WebGPU really runs: the session is on WebGPU and keeps its cache in GPU buffers', () => {
      expect(gpu.session.cacheHome).toBe('device');
      expect(cpu.session.cacheHome).toBe('host');
    });

    for (const [name, hasImages] of [['text', false], ['one image', true], ['two images', true]] as const) {
      const tolerance = hasImages ? opts.tolerance.images : opts.tolerance.text;

      test(`${name}: one forward pass, a chunked prefill, and a decode step by step`, async () => {
        const messages = chats[name];
        const [a, b] = [await cpu.encodeMultimodal(messages), await gpu.encodeMultimodal(messages)];
        expect(b.inputIds).toEqual(a.inputIds);
        expect(a.images !== undefined).toBe(hasImages);
        const ids = a.inputIds;
        const hidden = cpu.session.config.text.hiddenSize;
        const steps: Step[] = [];

        // One forward pass.
        const whole = { cpu: await cpu.session.forward(ids, undefined, a.images), gpu: await gpu.session.forward(ids, undefined, b.images) };
        steps.push({ what: 'prefill', cpu: whole.cpu.logits, gpu: whole.gpu.logits });

        // Chunked prefill: each call continues from the cache the last one returned.
        const bounds = chunkBounds(ids.length, a.images);
        let cacheCpu: KvCache | undefined;
        let cacheGpu: KvCache | undefined;
        let last: { cpu: Float32Array; gpu: Float32Array } = { cpu: new Float32Array(0), gpu: new Float32Array(0) };
        for (let i = 0; i + 1 < bounds.length; i++) {
          const [start, end] = [bounds[i]!, bounds[i + 1]!];
          const x = await cpu.session.forward(ids.slice(start, end), cacheCpu, imagesIn(a.images, start, end, hidden));
          const y = await gpu.session.forward(ids.slice(start, end), cacheGpu, imagesIn(b.images, start, end, hidden));
          [cacheCpu, cacheGpu, last] = [x.cache, y.cache, { cpu: x.logits, gpu: y.logits }];
        }
        steps.push({ what: `prefill in chunks ${bounds.join('/')}`, cpu: last.cpu, gpu: last.gpu });
        gpu.session.releaseCache(cacheGpu!);

        // Decode from the single prefill: both providers are fed the CPU's greedy tokens.
        let [cc, gc, logits] = [whole.cpu.cache, whole.gpu.cache, whole.cpu.logits];
        expect(gc).toBeInstanceOf(DeviceLatentCache);
        for (let step = 1; step <= 4; step++) {
          const next = [argmax(logits)];
          const x = await cpu.session.forward(next, cc);
          const y = await gpu.session.forward(next, gc);
          expect(y.cache).toBeInstanceOf(DeviceLatentCache);
          expect(y.cache.length).toBe(ids.length + step);
          steps.push({ what: `decode ${step}`, cpu: x.logits, gpu: y.logits });
          [cc, gc, logits] = [x.cache, y.cache, x.logits];
        }
        gpu.session.releaseCache(gc);
        expectAgreement(steps, tolerance);
      });
    }

    if (opts.sameGreedyTokens) {
      test('greedy generation gives the CPU\'s tokens, text and images', async () => {
        for (const messages of [chats.text, chats['two images']]) {
          const request = { messages, maxTokens: 12, temperature: 0 };
          const [a, b] = [await cpu.generate(request), await gpu.generate(request)];
          expect(a.tokens.length).toBeGreaterThan(0);
          expect(b.tokens).toEqual(a.tokens);
          expect(b.text).toBe(a.text);
        }
      });
    }
  });
}
