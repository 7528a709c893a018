/**
 * In-process model load time with and without the weights read ahead, side by side in one run:
 * builds a mid-size random Kimi-VL checkpoint, imports it, then times "load + first forward"
 * (onnxruntime may map weights lazily, so the first forward is where a lazy load pays) from a
 * cold page cache (each weight file dropped with `dd iflag=nocache`) with the read-ahead on and
 * off, and from a warm cache. Also the read-ahead's own throughput.
 * Run: npx tsx scripts/bench-load.ts [--layers N] [--runs N] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readAhead } from '../native-models/checkpoint/read-ahead.ts';
import { importKimiVL } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { readManifest } from '../native-models/models/kimi-vl/manifest.ts';
import { weightFiles } from '../native-models/models/kimi-vl/runtime/load-progress.ts';
import { KimiVLLocalModel } from '../native-models/models/kimi-vl/runtime/local-model.ts';
import { writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '6' },
    runs: { type: 'string', default: '3' },
    keep: { type: 'string' },
  },
});
const runs = Number(args.runs);
const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-load-'));
const text = { hidden_size: 1024, intermediate_size: 2816, moe_intermediate_size: 512, num_hidden_layers: Number(args.layers), num_attention_heads: 8, n_routed_experts: 32, num_experts_per_tok: 6 };

/** Drops the file's pages from the page cache (GNU dd: count=0 with nocache covers the whole file). */
const evict = (path: string) => execFileSync('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none']);

try {
  const modelDir = join(work, 'model');
  if (!existsSync(join(modelDir, 'kestrel-model.json'))) {
    writeTinyCheckpoint(join(work, 'checkpoint'), { dtype: 'bf16', text });
    await importKimiVL({ source: join(work, 'checkpoint'), out: modelDir });
  }
  const files = Object.values(weightFiles(modelDir, readManifest(modelDir))).filter((f) => f !== undefined);
  const total = files.reduce((s, f) => s + f.bytes, 0);
  console.log(`model: ${(total / 1e9).toFixed(2)} GB of fp32 weights (${text.num_hidden_layers} layers, hidden ${text.hidden_size}), best of ${runs} runs each`);

  const messages = [{ role: 'user' as const, content: 'Open the File menu.' }];
  async function timeLoad(cold: boolean, readAheadOn: boolean): Promise<number> {
    let best = Infinity;
    for (let i = 0; i < runs; i++) {
      if (cold) files.forEach((f) => evict(f.path));
      const t0 = performance.now();
      const model = await KimiVLLocalModel.load(modelDir, readAheadOn ? {} : { readAhead: { memoryBytes: 0 } });
      await model.logits(messages);
      best = Math.min(best, performance.now() - t0);
      await model.release();
    }
    return best;
  }

  files.forEach((f) => evict(f.path));
  let t0 = performance.now();
  await readAhead(files);
  const coldRead = performance.now() - t0;
  t0 = performance.now();
  await readAhead(files);
  const warmRead = performance.now() - t0;
  console.log(`read-ahead alone: cold ${((total / 1e6) / (coldRead / 1000)).toFixed(0)} MB/s, warm ${((total / 1e6) / (warmRead / 1000)).toFixed(0)} MB/s`);

  const coldOn = await timeLoad(true, true);
  const coldOff = await timeLoad(true, false);
  const warmOn = await timeLoad(false, true);
  const warmOff = await timeLoad(false, false);
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  console.log(`load + first forward, cold cache: read-ahead ${s(coldOn)} vs none ${s(coldOff)} → ${(coldOff / coldOn).toFixed(2)}× (>1: read-ahead faster)`);
  console.log(`load + first forward, warm cache: read-ahead ${s(warmOn)} vs none ${s(warmOff)} → read-ahead costs ${(warmOn / warmOff).toFixed(2)}× when the cache is already warm`);
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
