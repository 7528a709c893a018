import { statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tinyCheckpoint, tempDir } from '../../../test/harness/tiny-checkpoint.ts';
import { formatDrift, measureLogitDrift } from '../../quantization/logit-drift.ts';
import { ChatTemplate } from './chat-template.ts';
import { importKimiVL } from './import-checkpoint.ts';
import { TextSession } from './text-session.ts';
import { KimiTokenizer } from './tokenization.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const ckpt = tinyCheckpoint({ dtype: 'fp32', seed: 3 });
const out = tempDir('int4-models');
let fp32: TextSession;
let int4: TextSession;
let prompts: number[][];

const DRIFT_PROMPTS = ['Click the Save button, then type 你好 🙂 and press Enter.', 'Open the terminal.', 'Where is the search box on this page?', 'Scroll down to the bottom and click "Accept all cookies".'];

beforeAll(async () => {
  const tok = KimiTokenizer.fromDir(ckpt.dir, 163840);
  const template = ChatTemplate.fromDir(ckpt.dir);
  prompts = DRIFT_PROMPTS.map((content) => tok.encode(template.render([{ role: 'user', content }])));
  await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'fp32'), precision: 'fp32' });
  await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'int4'), precision: 'int4' });
  fp32 = await TextSession.open(join(out.dir, 'fp32'));
  int4 = await TextSession.open(join(out.dir, 'int4'));
});

afterAll(async () => {
  await fp32?.release();
  await int4?.release();
  ckpt.cleanup();
  out.cleanup();
});

describe('int4 import of the tiny checkpoint', () => {
  test('the graph uses MatMulNBits and QMoE, and the weights file shrinks', () => {
    expect(int4.manifest.precision).toBe('int4');
    const ratio = int4.manifest.text.weights.bytes / fp32.manifest.text.weights.bytes;
    console.log(`int4/fp32 text weights: ${int4.manifest.text.weights.bytes} / ${fp32.manifest.text.weights.bytes} bytes = ${ratio.toFixed(3)}`);
    expect(statSync(join(out.dir, 'int4', 'text-model.onnx.data')).size).toBe(int4.manifest.text.weights.bytes);
    expect(ratio).toBeLessThan(0.4);
  });

  test('logits drift against fp32 stays bounded and the top token agrees on most prompts', async () => {
    const drift = await measureLogitDrift(fp32, int4, prompts);
    console.log(`int4 vs fp32 logit drift (tiny checkpoint):\n${formatDrift(drift)}`);
    expect(drift.worstRelative).toBeGreaterThan(0); // it really is a different (quantised) model
    // Stated bound for this random 3-layer model (uniform weights, 4 bits, block 32): every logit
    // within 40% of the largest fp32 logit (measured 16–31%), the top token agreeing on ≥ 3 of 4.
    expect(drift.worstRelative).toBeLessThan(0.4);
    expect(drift.top1Agreement).toBeGreaterThanOrEqual(0.75);
  });

  test('decoding with the KV cache gives the same logits as one full prefill', async () => {
    const p = prompts[0]!;
    const first = await int4.forward(p.slice(0, 20));
    const second = await int4.forward(p.slice(20), first.cache);
    const full = await int4.forward(p);
    let diff = 0;
    for (let i = 0; i < full.logits.length; i++) diff = Math.max(diff, Math.abs(full.logits[i]! - second.logits[i]!));
    expect(diff).toBeLessThan(1e-4);
  });
});
