/**
 * What the host-side KV cache costs per decode step, side by side in one run: reading back only
 * the rows each call added (`latent.<i>`, the default on CPU and CUDA) against reading back the
 * whole cache every step (`present.<i>`, what graphs imported before `latent.<i>` existed did),
 * and the same with an fp16 cache (half the bytes sent to a CUDA device each step; on the CPU
 * it costs a cast of the cache per step, which this shows).
 * The model has Kimi-VL's real cache width (kv_lora_rank 512 + rope 64 = 576 values per token and
 * layer) and is otherwise small; the cache is filled with random rows so long contexts need no
 * prefill. Steps alternate between the two sessions so machine noise hits both alike.
 * Run: npx tsx scripts/bench-kv-cache.ts [--layers N] [--contexts 1024,4096,16384] [--steps N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { importKimiVL } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { HostLatentCache } from '../native-models/models/kimi-vl/runtime/latent-cache.ts';
import { TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';
import { float32ToFloat16 } from '../native-models/numeric/half.ts';
import { writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '4' },
    contexts: { type: 'string', default: '1024,4096,16384' },
    steps: { type: 'string', default: '12' },
  },
});
const layers = Number(args.layers);
const contexts = args.contexts.split(',').map(Number);
const steps = Number(args.steps);
const text = {
  hidden_size: 512,
  intermediate_size: 1024,
  moe_intermediate_size: 256,
  num_hidden_layers: layers,
  num_attention_heads: 8,
  n_routed_experts: 8,
  num_experts_per_tok: 2,
  kv_lora_rank: 512,
  qk_nope_head_dim: 64,
  qk_rope_head_dim: 64,
  v_head_dim: 64,
};
const work = mkdtempSync(join(tmpdir(), 'kestrel-bench-kv-'));
const mb = (bytes: number) => (bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(1)} MB`);

function randomCache(session: TextSession, length: number): HostLatentCache {
  const width = session.manifest.text.cacheWidth;
  const empty = session.emptyCache();
  const rows = Array.from({ length: layers }, (_, l) => {
    const values = Float32Array.from({ length: length * width }, (_, k) => Math.sin(k * 0.37 + l));
    return empty.element === 'float16' ? float32ToFloat16(values) : values;
  });
  return empty.append(rows, length);
}

try {
  writeTinyCheckpoint(join(work, 'ckpt'), { dtype: 'bf16', text });
  await importKimiVL({ source: join(work, 'ckpt'), out: join(work, 'model'), precision: 'fp32' });
  await importKimiVL({ source: join(work, 'ckpt'), out: join(work, 'model-fp16-cache'), precision: 'fp32', cacheType: 'fp16' });
  const addedRows = await TextSession.open(join(work, 'model'));
  const wholeCache = await TextSession.open(join(work, 'model'), { hostCacheReads: 'whole-cache' });
  const halfCache = await TextSession.open(join(work, 'model-fp16-cache'));
  const width = addedRows.manifest.text.cacheWidth;
  console.log(`model: ${layers} layers, cache ${width} fp32 values per token and layer (${(layers * width * 4) / 1024} KiB per token)`);
  for (const context of contexts) {
    const sessions = [addedRows, wholeCache, halfCache];
    const caches = sessions.map((s) => randomCache(s, context));
    await Promise.all(sessions.map((s, i) => s.forward([7], caches[i]))); // warm-up at this length
    const times: number[][] = [[], [], []];
    for (let step = 0; step < steps; step++) {
      for (const [i, s] of sessions.entries()) {
        const t0 = performance.now();
        const { cache } = await s.forward([(step * 31 + 5) % 400], caches[i]);
        times[i]!.push(performance.now() - t0);
        caches[i] = cache as HostLatentCache;
      }
    }
    const [added, whole, half] = times.map(median) as [number, number, number];
    const wholeBytes = layers * (context + steps) * width * 4;
    console.log(
      `context ${String(context).padStart(6)}: added rows ${added.toFixed(1)} ms/step, whole cache ${whole.toFixed(1)} ms/step → whole/added ${(whole / added).toFixed(2)}× ` +
        `(read back per step: ${mb(layers * width * 4)} vs ${mb(wholeBytes)}); fp16 cache ${half.toFixed(1)} ms/step = ${(half / added).toFixed(2)}× added rows`,
    );
  }
  await addedRows.release();
  await wholeCache.release();
  await halfCache.release();
  // The real model: 27 layers of 576 values; fp32 activations for fp32/int4 imports, fp16 for fp16.
  for (const [name, bytes] of [['fp32/int4', 4], ['fp16', 2]] as const) {
    console.log(`Kimi-VL-A3B (${name} cache) at 8192 tokens: whole-cache reads ${mb(27 * 576 * bytes * 8192)} per step, added rows ${mb(27 * 576 * bytes)}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
