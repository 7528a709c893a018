import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test, vi } from 'vitest';
import { tempDir, tinyCheckpoint } from '../../../../test/harness/tiny-checkpoint.ts';
import { parseKimiVLConfig } from '../configuration.ts';
import { importKimiVL, planImport } from './import-checkpoint.ts';
import { buildTextGraph, type Precision } from '../graphs/modeling-text.ts';
import { plannedDataBytes } from '../../../onnx/data-layout.ts';
import { estimateWeights } from './weights-size.ts';

vi.setConfig({ testTimeout: 120_000 });

const REAL_CONFIG = parseKimiVLConfig(JSON.parse(readFileSync(new URL('../../../../test/fixtures/kimi-vl/Kimi-VL-A3B-Instruct.config.json', import.meta.url), 'utf8')));
const PAGE = 4096;

/**
 * Kimi-VL-A3B-Instruct's tensors as docs/kimi-vl.md#weights lists them (written out here by hand,
 * not taken from tensor-names.ts), each with the role that decides how an import stores it.
 */
type Role = 'embed' | 'linear' | 'fp32' | 'kv_b' | 'experts-fc1' | 'experts-fc2' | 'skip';
function factsTensorList(): { name: string; shape: number[]; role: Role }[] {
  const out: { name: string; shape: number[]; role: Role }[] = [];
  const add = (name: string, shape: number[], role: Role) => out.push({ name, shape, role });
  const lm = 'language_model.model';
  add(`${lm}.embed_tokens.weight`, [163840, 2048], 'embed');
  add('language_model.lm_head.weight', [163840, 2048], 'linear');
  add(`${lm}.norm.weight`, [2048], 'fp32');
  for (let i = 0; i < 27; i++) {
    const l = `${lm}.layers.${i}`;
    add(`${l}.input_layernorm.weight`, [2048], 'fp32');
    add(`${l}.post_attention_layernorm.weight`, [2048], 'fp32');
    add(`${l}.self_attn.q_proj.weight`, [3072, 2048], 'linear');
    add(`${l}.self_attn.kv_a_proj_with_mqa.weight`, [576, 2048], 'linear');
    add(`${l}.self_attn.kv_a_layernorm.weight`, [512], 'fp32');
    add(`${l}.self_attn.kv_b_proj.weight`, [4096, 512], 'kv_b');
    add(`${l}.self_attn.o_proj.weight`, [2048, 2048], 'linear');
    add(`${l}.self_attn.rotary_emb.inv_freq`, [32], 'skip');
    if (i === 0) {
      add(`${l}.mlp.gate_proj.weight`, [11264, 2048], 'linear');
      add(`${l}.mlp.up_proj.weight`, [11264, 2048], 'linear');
      add(`${l}.mlp.down_proj.weight`, [2048, 11264], 'linear');
      continue;
    }
    add(`${l}.mlp.gate.weight`, [64, 2048], 'fp32');
    add(`${l}.mlp.gate.e_score_correction_bias`, [64], 'fp32');
    for (let e = 0; e < 64; e++) {
      add(`${l}.mlp.experts.${e}.gate_proj.weight`, [1408, 2048], 'experts-fc1');
      add(`${l}.mlp.experts.${e}.up_proj.weight`, [1408, 2048], 'experts-fc1');
      add(`${l}.mlp.experts.${e}.down_proj.weight`, [2048, 1408], 'experts-fc2');
    }
    add(`${l}.mlp.shared_experts.gate_proj.weight`, [2816, 2048], 'linear');
    add(`${l}.mlp.shared_experts.up_proj.weight`, [2816, 2048], 'linear');
    add(`${l}.mlp.shared_experts.down_proj.weight`, [2048, 2816], 'linear');
  }
  const v = 'vision_tower';
  add(`${v}.patch_embed.proj.weight`, [1152, 3, 14, 14], 'fp32');
  add(`${v}.patch_embed.proj.bias`, [1152], 'fp32');
  add(`${v}.patch_embed.pos_emb.weight`, [64, 64, 1152], 'fp32');
  for (let n = 0; n < 27; n++) {
    const b = `${v}.encoder.blocks.${n}`;
    for (const norm of ['norm0', 'norm1']) for (const p of ['weight', 'bias']) add(`${b}.${norm}.${p}`, [1152], 'fp32');
    add(`${b}.wqkv.weight`, [3456, 1152], 'fp32');
    add(`${b}.wqkv.bias`, [3456], 'fp32');
    add(`${b}.wo.weight`, [1152, 1152], 'fp32');
    add(`${b}.wo.bias`, [1152], 'fp32');
    add(`${b}.mlp.fc0.weight`, [4304, 1152], 'fp32');
    add(`${b}.mlp.fc0.bias`, [4304], 'fp32');
    add(`${b}.mlp.fc1.weight`, [1152, 4304], 'fp32');
    add(`${b}.mlp.fc1.bias`, [1152], 'fp32');
  }
  add(`${v}.encoder.final_layernorm.weight`, [1152], 'fp32');
  add(`${v}.encoder.final_layernorm.bias`, [1152], 'fp32');
  for (const p of ['weight', 'bias']) add(`multi_modal_projector.pre_norm.${p}`, [1152], 'fp32');
  add('multi_modal_projector.linear_1.weight', [4608, 4608], 'fp32');
  add('multi_modal_projector.linear_1.bias', [4608], 'fp32');
  add('multi_modal_projector.linear_2.weight', [2048, 4608], 'fp32');
  add('multi_modal_projector.linear_2.bias', [2048], 'fp32');
  return out;
}

const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/**
 * Bytes the tensors take when stored as an import stores them (docs/onnxruntime.md#operators-kestrel-uses and the
 * int4 layout in int4-blocks.ts: 4-bit codes, a scale per block of 64 weights — fp32 with a 4-bit zero point
 * for MatMulNBits, fp16 and symmetric for QMoE), before page alignment, and how many ONNX weights
 * they become (each may be preceded by < 4096 bytes of alignment).
 */
function independentCount(precision: Precision): { bytes: number; weights: number } {
  const act = precision === 'fp16' ? 2 : 4;
  let bytes = 0;
  let weights = 0;
  // Every input width of this model is a multiple of 64, so every int4 block holds 64 values.
  // MatMulNBits: fp32 scales and 4-bit zero points; QMoE: fp16 scales, symmetric.
  const nbits = (n: number, k: number, zeroPoints: boolean) => {
    const blocks = Math.ceil(k / 64);
    return n * blocks * 32 + n * blocks * (zeroPoints ? 4 : 2) + (zeroPoints ? n * Math.ceil(blocks / 2) : 0);
  };
  for (const { name, shape, role } of factsTensorList()) {
    const n = count(shape);
    const vision = !name.startsWith('language_model.');
    if (role === 'skip') continue;
    if (vision) {
      // MoonViT + projector: norms fp32; matrices, biases and the position table fp16 unless the import is fp32.
      bytes += (precision === 'fp32' || /norm/.test(name) ? 4 : 2) * n;
      weights += 1;
    } else if (role === 'fp32') {
      bytes += 4 * n;
      weights += 1;
    } else if (role === 'embed') {
      // int4: the MatMulNBits blocks again (GatherBlockQuantized), codes, scales and zero points.
      bytes += precision === 'int4' ? nbits(shape[0]!, shape[1]!, true) : act * n;
      weights += precision === 'int4' ? 3 : 1;
    } else if (role === 'kv_b') {
      // Split into the absorbed k and v halves, [16, 128, 512] and [16, 512, 128], in the
      // activations' type; int4 adds each head's two as MatMulNBits blocks (mla-int4.ts): W_ukᵀ
      // [512, 128] and W_uvᵀ [128, 512].
      bytes += act * n + (precision === 'int4' ? 16 * (nbits(512, 128, true) + nbits(128, 512, true)) : 0);
      weights += 2 + (precision === 'int4' ? 16 * 2 * 3 : 0);
    } else if (role === 'linear') {
      bytes += precision === 'int4' ? nbits(shape[0]!, shape[1]!, true) : act * n;
      weights += precision === 'int4' ? 3 : 1;
    } else {
      // One HF expert projection; the 64 experts of a layer are stacked into one fc1 / fc2.
      bytes += precision === 'int4' ? nbits(shape[0]!, shape[1]!, false) : act * n;
      if (name.endsWith('.experts.0.gate_proj.weight') || name.endsWith('.experts.0.down_proj.weight')) weights += precision === 'int4' ? 2 : 1;
    }
  }
  return { bytes, weights };
}

describe('the estimate for Kimi-VL-A3B-Instruct', () => {
  test('the hand-written tensor list matches the facts sheet: 5679 tensors, 16,407,656,048 parameters', () => {
    const list = factsTensorList();
    expect(list).toHaveLength(5679);
    expect(list.filter((t) => t.role !== 'skip').reduce((s, t) => s + count(t.shape), 0)).toBe(16_407_656_048);
  });

  test.each(['fp32', 'fp16', 'int4'] as const)('%s agrees with an independent count from the tensor list', (precision) => {
    const estimate = estimateWeights(REAL_CONFIG, precision);
    const { bytes, weights } = independentCount(precision);
    expect(estimate.total).toBe(estimate.text + estimate.vision);
    expect(estimate.total).toBeGreaterThanOrEqual(bytes);
    expect(estimate.total - bytes).toBeLessThan(weights * PAGE);
    console.log(`Kimi-VL-A3B-Instruct ${precision}: ${(estimate.total / 1e9).toFixed(2)} GB (text ${(estimate.text / 1e9).toFixed(2)} GB, vision ${(estimate.vision / 1e9).toFixed(2)} GB); independent count ${(bytes / 1e9).toFixed(2)} GB + alignment`);
  });

  test('the sizes the README quotes', () => {
    const gb = (p: Precision) => Number((estimateWeights(REAL_CONFIG, p).total / 1e9).toFixed(1));
    expect([gb('fp32'), gb('fp16'), gb('int4')]).toEqual([65.6, 32.8, 9.7]);
    expect((estimateWeights(REAL_CONFIG, 'int4').text / 1e9).toFixed(2)).toBe('8.78');
    expect((estimateWeights(REAL_CONFIG, 'int4').vision / 1e9).toFixed(2)).toBe('0.90');
    // Imported for the CPU: the experts' scales are fp32 (MatMulNBits takes them in its activations' type).
    // The estimate swaps QMoE's expert weights for E times one expert's: the whole graph agrees.
    const whole = plannedDataBytes(buildTextGraph(REAL_CONFIG.text, { precision: 'int4', int4Experts: 'per-expert', produce: () => async function* () {} }).weights);
    expect(estimateWeights(REAL_CONFIG, 'int4', 'per-expert').text).toBe(whole);
    expect((estimateWeights(REAL_CONFIG, 'int4', 'per-expert').total / 1e9).toFixed(1)).toBe('10.1');
    expect((estimateWeights(REAL_CONFIG, 'int4', 'per-expert').text / 1e9).toFixed(2)).toBe('9.23');
  });
});

describe('the estimate for the tiny checkpoint', () => {
  const ckpt = tinyCheckpoint({ dtype: 'bf16', seed: 11 });
  const out = tempDir('weights-size');
  afterAll(() => {
    ckpt.cleanup();
    out.cleanup();
  });

  test.each([
    ['fp32', 'cpu'],
    ['fp16', 'cpu'],
    ['int4', 'cpu'],
    ['int4', 'webgpu'],
  ] as const)('%s for %s equals the bytes the import writes', async (precision, device) => {
    const config = parseKimiVLConfig(JSON.parse(readFileSync(join(ckpt.dir, 'config.json'), 'utf8')));
    // int4 experts: a MatMulNBits pair per expert for the CPU, QMoE for a GPU.
    const estimate = estimateWeights(config, precision, device === 'cpu' ? 'per-expert' : 'qmoe');
    expect(planImport(ckpt.dir, { precision, device }).weights).toEqual(estimate);
    const dir = join(out.dir, `${precision}-${device}`);
    const manifest = await importKimiVL({ source: ckpt.dir, out: dir, precision, device });
    expect(manifest.precision).toBe(precision);
    expect(statSync(join(dir, 'text-model.onnx.data')).size).toBe(estimate.text);
    expect(statSync(join(dir, 'vision-model.onnx.data')).size).toBe(estimate.vision);
    expect(manifest.stats.weightBytesWritten).toBe(estimate.total);
  });
});
