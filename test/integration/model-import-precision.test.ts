/**
 * `kestrel model import`'s precision choice and disk-space refusal, end to end through the CLI.
 * The Kimi-VL-A3B-Instruct config (beside the tiny checkpoint's tokenizer and template, without
 * weights) shows what the 16B model would get; a config with absurdly many experts is too big
 * for any machine's memory and any disk, so the refusals do not depend on this machine.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runKestrel as kestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const REAL_CONFIG = JSON.parse(readFileSync(join(import.meta.dirname, '../fixtures/kimi-vl/Kimi-VL-A3B-Instruct.config.json'), 'utf8')) as { text_config: Record<string, unknown> };
const ckpt = tinyCheckpoint({ dtype: 'bf16', seed: 2 });
const work = tempDir('import-precision');
const real = join(work.dir, 'kimi-vl-a3b-config-only');
const huge = join(work.dir, 'huge-config-only');

/** A checkpoint folder with this config.json and the tiny checkpoint's tokenizer and template files. */
function configOnly(dir: string, config: unknown): void {
  mkdirSync(dir);
  for (const file of readdirSync(ckpt.dir)) if (!file.endsWith('.safetensors') && file !== 'config.json' && !file.endsWith('.index.json')) copyFileSync(join(ckpt.dir, file), join(dir, file));
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
}

beforeAll(() => {
  configOnly(real, REAL_CONFIG);
  // 640,000 experts per layer: about 576 TB as fp32, 90 TB as int4.
  configOnly(huge, { ...REAL_CONFIG, text_config: { ...REAL_CONFIG.text_config, n_routed_experts: 640_000 } });
});
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

const lines = (text: string) => text.trimEnd().split('\n');

describe('kestrel model import: precision and disk space', () => {
  test('the 16B model for CUDA: int4 by default, 9.7 GB of weights', async () => {
    const r = await kestrel(['model', 'import', real, '--out', join(work.dir, 'out-cuda'), '--device', 'cuda']);
    expect(lines(r.stderr)[0]).toBe("kestrel: precision int4 — for CUDA: int4 weights are about a sixth of fp32's size and every GPU provider runs them; 9.7 GB of weights to write; KV cache fp16");
    // No weights in this folder: the import stops there (or at the disk check on a small disk), in one more line.
    expect(r.code).toBe(1);
    expect(lines(r.stderr)).toHaveLength(2);
  });

  test.each([
    ['webgpu', 'int4', /^for WebGPU: /, '9.7 GB'],
    ['cpu', 'int4', /^for the CPU: int4 decodes several times faster than fp32 there, in about a sixth of its memory(; fp32 would not fit comfortably \(65\.6 GB of fp32 weights against 60% of this machine's [\d.]+ GB of memory\))?; --precision fp32 is the reference$/, '10.1 GB'],
    ['cpu', 'fp16', /^asked for with --precision$/, '32.8 GB'],
  ])('the 16B model for %s as %s', async (device, precision, reason, size) => {
    const r = await kestrel(['model', 'import', real, '--out', join(work.dir, `out-${device}`), '--device', device, ...(precision === 'int4' ? [] : ['--precision', precision])]);
    const first = lines(r.stderr)[0]!.match(/^kestrel: precision (\w+) — (.*); ([\d.]+ GB) of weights to write; KV cache fp(?:16|32)$/);
    expect(first?.[1]).toBe(precision);
    expect(first?.[2]).toMatch(reason);
    expect(first?.[3]).toBe(size);
  });

  test('auto on a CPU whose memory fp32 would overflow: int4, saying so too; then a disk too small is refused before anything is written', async () => {
    const out = join(work.dir, 'out-huge');
    const r = await kestrel(['model', 'import', huge, '--out', out, '--device', 'cpu']);
    expect(r.code).toBe(1);
    const [plan, refusal, ...rest] = lines(r.stderr);
    expect(plan).toMatch(/^kestrel: precision int4 — for the CPU: int4 decodes several times faster than fp32 there, in about a sixth of its memory; fp32 would not fit comfortably \([\d.]+ TB of fp32 weights against 60% of this machine's [\d.]+ GB of memory\); --precision fp32 is the reference; [\d.]+ TB of weights to write; KV cache fp32$/);
    expect(refusal).toMatch(/^kestrel: not enough disk space for .*out-huge: this int4 import writes about [\d.]+ TB and [\d.]+ [GT]B is free there; free some space, choose another output folder$/);
    expect(rest).toEqual([]);
    expect(existsSync(out)).toBe(false);
  });

  test('fp32 asked for on that CPU: kept, with a note, and the refusal offers int4 with its size', async () => {
    const r = await kestrel(['model', 'import', huge, '--out', join(work.dir, 'out-huge-fp32'), '--precision', 'fp32', '--device', 'cpu']);
    expect(r.code).toBe(1);
    const [plan, note, refusal] = lines(r.stderr);
    expect(plan).toMatch(/^kestrel: precision fp32 — asked for with --precision; [\d.]+ TB of weights to write; KV cache fp32$/);
    expect(note).toMatch(/^kestrel: note: fp32 may not fit in memory \(.*\); --precision int4 writes about a sixth of that$/);
    expect(refusal).toMatch(/this fp32 import writes about [\d.]+ TB .*; free some space, choose another output folder, or import as int4 \(about [\d.]+ TB\)$/);
  });

  test('the tiny checkpoint for WebGPU as fp16: imported, with the note that its experts would run on the CPU', async () => {
    const out = join(work.dir, 'tiny-fp16');
    const r = await kestrel(['model', 'import', ckpt.dir, '--out', out, '--device', 'webgpu', '--precision', 'fp16']);
    expect(r.code).toBe(0);
    expect(lines(r.stderr).slice(0, 2)).toEqual([
      expect.stringMatching(/^kestrel: precision fp16 — asked for with --precision; [\d.]+ MB of weights to write; KV cache fp16$/),
      "kestrel: note: this fp16 model's experts use com.microsoft.MoE, which has no WebGPU kernel, so they run on the CPU",
    ]);
    expect(r.stdout).toMatch(/\(fp16, 3 layers, /);
  });

  test('the KV cache is fp16 for a GPU import unless --kv-cache says otherwise; the manifest records it', async () => {
    const cacheOf = (dir: string) => (JSON.parse(readFileSync(join(dir, 'kestrel-model.json'), 'utf8')) as { text: { cacheType: string } }).text.cacheType;
    const gpu = join(work.dir, 'tiny-cuda');
    const r = await kestrel(['model', 'import', ckpt.dir, '--out', gpu, '--device', 'cuda']);
    expect(r.code).toBe(0);
    expect(lines(r.stderr)[0]).toMatch(/^kestrel: precision int4 — for CUDA: .*; KV cache fp16$/);
    expect(cacheOf(gpu)).toBe('fp16');
    const asked = join(work.dir, 'tiny-cuda-fp32-cache');
    expect((await kestrel(['model', 'import', ckpt.dir, '--out', asked, '--device', 'cuda', '--kv-cache', 'fp32'])).code).toBe(0);
    expect(cacheOf(asked)).toBe('fp32');
    const cpu = join(work.dir, 'tiny-cpu');
    expect((await kestrel(['model', 'import', ckpt.dir, '--out', cpu, '--device', 'cpu'])).code).toBe(0);
    expect(cacheOf(cpu)).toBe('fp32');
  });

  test('--device auto follows the GPU probe (none on a machine without CUDA libraries or Vulkan)', async () => {
    const r = await kestrel(['model', 'import', real, '--out', join(work.dir, 'out-auto'), '--device', 'auto']);
    expect(lines(r.stderr)[0]).toMatch(/^kestrel: precision (int4 — --device auto found (CUDA|WebGPU)|\w+ — no GPU provider found, so for the CPU: )/);
  });

  test('a bad --device is refused in one line', async () => {
    const r = await kestrel(['model', 'import', real, '--out', join(work.dir, 'x'), '--device', 'tpu']);
    expect(r.code).toBe(2);
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/option '--device <device>' argument 'tpu' is invalid/)]);
  });
});
