import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { ModelManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { runKestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const ckpt = tinyCheckpoint({ seed: 5 });
const work = tempDir('model-info');
const fp16 = join(work.dir, 'fp16');
const int4 = join(work.dir, 'int4');

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: fp16, precision: 'fp16' });
  // Imported for WebGPU, as its users get it: experts in QMoE (a CPU import writes them per expert).
  await importKimiVL({ source: ckpt.dir, out: int4, precision: 'int4', device: 'webgpu', cacheType: 'fp16' });
}, 120_000);
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe('kestrel model info', () => {
  test('without --device: precision, sizes, context length and KV cache from the folder alone', async () => {
    const r = await runKestrel(['model', 'info', int4]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`model:      ${int4}`);
    expect(lines[1]).toMatch(/^precision:  int4 \(imported \d{4}-\d\d-\d\dT/);
    // A plain folder, imported without --hash-source: its one shard is identified by size and time.
    expect(lines[2]).toMatch(/^source: {5}\S+, 1 file \([\d.]+ MB\); SHA-256: 1 not hashed \(size and modification time recorded; `kestrel model import --hash-source` hashes them\)$/);
    expect(lines[3]).toMatch(/^weights:    [\d.]+ MB — language model [\d.]+ MB, vision tower \+ projector [\d.]+ kB$/);
    expect(lines[4]).toBe('context:    131072 tokens (max_position_embeddings); 3 layers, vocabulary 163840');
    // 3 layers × (32 latent + 8 rope) values, 2 bytes each in fp16; × 131072 tokens.
    expect(lines[5]).toBe('KV cache:   fp16, 120 values per token (0.2 kB); 31.5 MB at the full context');
    expect(lines[6]).toMatch(/^placement:  give --device/);
  });

  test('a folder imported before shards could go unhashed (every source file with a SHA-256, no origin) still loads: all hashed', async () => {
    const old = join(work.dir, 'old');
    cpSync(int4, old, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(old, 'kestrel-model.json'), 'utf8')) as ModelManifest;
    const files = manifest.source.files.map(({ file, bytes }) => ({ file, bytes, sha256: 'ab'.repeat(32) }));
    writeFileSync(join(old, 'kestrel-model.json'), JSON.stringify({ ...manifest, source: { ...manifest.source, files } }));
    const r = await runKestrel(['model', 'info', old]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[2]).toMatch(/^source: {5}\S+, 1 file \([\d.]+ MB\); SHA-256: 1 hashed$/);
  });

  test('--device webgpu: how many nodes of each graph fall back to the CPU, their op types, and the heavy ones with the reason', async () => {
    const r = await runKestrel(['model', 'info', fp16, '--device', 'webgpu']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines.at(-2)).toMatch(/^on webgpu:  text graph: \d+ nodes, \d+ on the CPU: .*MoE ×2.*; heavy: MoE ×2 \(fp16 experts use com\.microsoft\.MoE, which has no WebGPU kernel\)$/);
    // The vision tower's attention Loops run on the CPU as control flow, with their int64 bookkeeping; nothing heavy.
    expect(lines.at(-1)).toMatch(/^ {12}vision graph: \d+ nodes, \d+ on the CPU: [^;]*Loop ×2[^;]*$/);
    const json = JSON.parse((await runKestrel(['model', 'info', int4, '--device', 'webgpu', '--json'])).stdout);
    expect(json.placement.device).toBe('webgpu');
    // A run keeps the int4 experts off WebGPU's racy QMoE kernel; the report says so.
    const heavy = json.placement.text.heavyOnCpu as { node: { opType: string }; accepted?: string }[];
    expect(heavy.map((h) => [h.node.opType, h.accepted])).toEqual(Array(2).fill(['QMoE', "int4 experts: onnxruntime 1.30's WebGPU QMoE is wrong at random for more than one token, so Kestrel runs them on the CPU"]));
    expect(json.placement.text.onCpu.length).toBeGreaterThan(0);
  });

  test('a device that cannot start, or a folder that is not a model, is one line and exit 1', async () => {
    const cuda = await runKestrel(['model', 'info', int4, '--device', 'cuda']);
    expect(cuda.code).toBe(1);
    expect(cuda.stdout).toBe('');
    expect(cuda.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^kestrel: device cuda: .*npm run gpu:cuda/)]);
    const missing = await runKestrel(['model', 'info', work.dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^kestrel: kestrel-model\.json \(is .* a folder made by `kestrel model import`\?\) not found/)]);
  });
});
