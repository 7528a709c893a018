import { cpSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { tinyCheckpoint, tempDir } from '../../../test/harness/tiny-checkpoint.ts';
import { HfCheckpoint } from '../../checkpoint/hf-checkpoint.ts';
import { writeSafetensors } from '../../checkpoint/safetensors-writer.ts';
import { float16ToFloat32, float32ToFloat16 } from '../../numeric/half.ts';
import { dequantizeInt4, int4BlockSize, quantizeInt4 } from '../../quantization/int4-blocks.ts';
import { embeddingBlockSize } from '../../quantization/int4-embedding.ts';
import { formatDrift, measureLogitDrift } from '../../quantization/logit-drift.ts';
import { ChatTemplate } from './chat-template.ts';
import { parseKimiVLConfig } from './configuration.ts';
import { importKimiVL } from './import-checkpoint.ts';
import { buildTextGraph, routedExpertNodes } from './modeling-text.ts';
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
  test('the graph uses MatMulNBits, QMoE and GatherBlockQuantized, and the weights file shrinks', () => {
    expect(int4.manifest.precision).toBe('int4');
    const text = parseKimiVLConfig(JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8'))).text;
    const nodes = buildTextGraph(text, { precision: 'int4', produce: () => async function* () {} }).nodes;
    const ops = new Set(nodes.map((n) => n.opType));
    for (const op of ['MatMulNBits', 'QMoE', 'GatherBlockQuantized']) expect(ops).toContain(op);
    // What WebGPU is told to leave on the CPU is exactly the experts, at either precision.
    expect(routedExpertNodes(text)).toEqual(nodes.filter((n) => n.opType === 'QMoE').map((n) => n.name));
    expect(routedExpertNodes(text)).toEqual(buildTextGraph(text, { precision: 'fp32', produce: () => async function* () {} }).nodes.filter((n) => n.opType === 'MoE').map((n) => n.name));
    expect(ops).not.toContain('Gather'); // no fp table lookup left
    const ratio = int4.manifest.text.weights.bytes / fp32.manifest.text.weights.bytes;
    console.log(`int4/fp32 text weights: ${int4.manifest.text.weights.bytes} / ${fp32.manifest.text.weights.bytes} bytes = ${ratio.toFixed(3)}`);
    expect(statSync(join(out.dir, 'int4', 'text-model.onnx.data')).size).toBe(int4.manifest.text.weights.bytes);
    // Under a fifth: the real-size vocabulary's embedding, most of the tiny model, is int4 too.
    expect(ratio).toBeLessThan(0.2);
  });

  test('logits drift against fp32 stays bounded and the top token agrees on most prompts', async () => {
    const drift = await measureLogitDrift(fp32, int4, prompts);
    console.log(`int4 vs fp32 logit drift (tiny checkpoint):\n${formatDrift(drift)}`);
    expect(drift.worstRelative).toBeGreaterThan(0); // it really is a different (quantised) model
    // Stated bound for this random 3-layer model (uniform weights, 4 bits, blocks of 64 or 32):
    // every logit within 70% of the largest fp32 logit, the top token agreeing on ≥ 3 of 4.
    // Measured 18–60% since the embedding is int4 too (16–31% with it in fp16 and block 32
    // throughout): its uniform random rows are int4's worst case and this chaotic model
    // amplifies input noise.
    expect(drift.worstRelative).toBeLessThan(0.7);
    expect(drift.top1Agreement).toBeGreaterThanOrEqual(0.75);
  });

  test('the int4 graph computes exactly the fp32 model whose weights are the dequantised int4 values', async () => {
    // A checkpoint holding what int4 import keeps: the embedding, dense projections and lm_head
    // dequantised (asymmetric), routed experts dequantised (symmetric, as QMoE).
    // Imported as fp32 it must match the int4 import — so all the drift above is quantisation,
    // none of it layout (rope row order, gate/up interleave, block order, nibble order).
    const dir = join(out.dir, 'dequantised-ckpt');
    cpSync(ckpt.dir, dir, { recursive: true });
    rmSync(join(dir, 'model.safetensors'));
    const src = HfCheckpoint.open(ckpt.dir);
    // Blocks of 64 where the input width allows (the experts' one size must suit fc1 and fc2):
    // this checkpoint has widths of both kinds.
    const text = parseKimiVLConfig(JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8'))).text;
    const expertBlock = int4BlockSize(text.hiddenSize, text.moeIntermediateSize);
    const tensors = src.tensorNames.map((name) => {
      const shape = src.info(name).shape;
      const values = src.read(name);
      const dense = /(embed_tokens|q_proj|kv_a_proj_with_mqa|o_proj|mlp\.(gate|up|down)_proj|shared_experts\.\w+|lm_head)\.weight$/.test(name) && name.startsWith('language_model.');
      const expert = /\.experts\.\d+\.\w+\.weight$/.test(name);
      let kept = values;
      if (dense || expert) {
        const blockSize = expert ? expertBlock : name.endsWith('embed_tokens.weight') ? embeddingBlockSize(shape[1]!) : int4BlockSize(shape[1]!);
        const q = quantizeInt4(values, shape[0]!, shape[1]!, { symmetric: expert, blockSize });
        // QMoE's block scales are stored in fp16.
        kept = dequantizeInt4(expert ? { ...q, scales: float16ToFloat32(float32ToFloat16(q.scales)) } : q);
      }
      return { name, dtype: 'F32' as const, shape, values: () => [kept] };
    });
    src.close();
    writeSafetensors(join(dir, 'model.safetensors'), tensors);
    await importKimiVL({ source: dir, out: join(out.dir, 'dequantised'), precision: 'fp32' });
    const plain = await TextSession.open(join(out.dir, 'dequantised'));
    try {
      const drift = await measureLogitDrift(plain, int4, prompts);
      console.log(`int4 graph vs fp32 graph on dequantised weights: worst max |Δlogit| ${drift.worstMaxAbsDiff.toExponential(2)} (${drift.worstRelative.toExponential(2)} of the largest logit)`);
      // QMoE computes in fp16 (input, routing, result: 11 significant bits, 2⁻¹¹ ≈ 4.9e-4 each),
      // so exact means within a few fp16 roundings; a layout slip moves logits by whole units.
      expect(drift.worstRelative).toBeLessThan(2e-3);
      expect(drift.top1Agreement).toBe(1);
    } finally {
      await plain.release();
    }
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
