/**
 * In-process language model speed on this machine: builds a mid-size random Kimi-VL checkpoint
 * (real vocabulary, MLA + MoE layers), imports it, then reports import throughput and peak RSS,
 * prefill and decode tokens/s, and the decode step's effective weight bandwidth (bytes of
 * weights one token touches ÷ step time) next to the measured memory copy bandwidth.
 * Run: npx tsx scripts/bench-lm.ts [--precision fp32|fp16|int4] [--layers N] [--prompt N] [--decode N] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseKimiVLConfig } from '../native-models/models/kimi-vl/configuration.ts';
import { TextSession } from '../native-models/models/kimi-vl/text-session.ts';
import { decodeCost } from '../native-models/models/kimi-vl/text-costs.ts';
import { tinyConfigJson, writeTinyCheckpoint } from '../native-models/models/kimi-vl/tiny-checkpoint.ts';
import { midTextConfig } from './mid-checkpoint.ts';

const { values: args } = parseArgs({
  options: {
    precision: { type: 'string', default: 'fp32' },
    layers: { type: 'string', default: '6' },
    prompt: { type: 'string', default: '128' },
    decode: { type: 'string', default: '32' },
    keep: { type: 'string' },
  },
});
const precision = args.precision === 'fp16' || args.precision === 'int4' ? args.precision : 'fp32';
const text = midTextConfig(Number(args.layers));
const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-lm-'));
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
const gbps = (bytesPerSecond: number) => `${(bytesPerSecond / 1e9).toFixed(2)} GB/s`;

try {
  const ckptDir = join(work, 'checkpoint');
  const modelDir = join(work, `model-${precision}`);
  rmSync(modelDir, { recursive: true, force: true });
  let t0 = performance.now();
  writeTinyCheckpoint(ckptDir, { dtype: 'bf16', shards: 2, text });
  console.log(`checkpoint: ${((performance.now() - t0) / 1000).toFixed(1)} s to generate (bf16, ${text.num_hidden_layers} layers, hidden ${text.hidden_size}, ${text.n_routed_experts} experts top-${text.num_experts_per_tok})`);

  // Import in a child process so its peak RSS is the import's alone.
  const rss = JSON.parse(
    execFileSync(process.execPath, ['--import', 'tsx', 'test/harness/import-peak-rss.ts', ckptDir, modelDir, precision], { cwd: resolve(import.meta.dirname, '..'), encoding: 'utf8' }),
  ) as { baselineBytes: number; peakBytes: number; weightBytes: number };
  const session = await TextSession.open(modelDir);
  const stats = session.manifest.stats;
  console.log(`import:     ${mb(rss.weightBytes)} of ${precision} weights in ${stats.seconds.toFixed(1)} s = ${stats.megabytesPerSecond.toFixed(0)} MB/s; peak RSS ${mb(rss.peakBytes)} = ${(rss.peakBytes / rss.weightBytes).toFixed(2)} × the weights written`);

  const vocabIds = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7919 + seed) % 400);
  await session.forward(vocabIds(8, 1)); // warm-up
  const promptLen = Number(args.prompt);
  t0 = performance.now();
  let { logits, cache } = await session.forward(vocabIds(promptLen, 2));
  const prefillMs = performance.now() - t0;
  const steps = Number(args.decode);
  t0 = performance.now();
  for (let i = 0; i < steps; i++) ({ logits, cache } = await session.forward([logits.indexOf(Math.max(...logits.subarray(0, 400)))], cache));
  const decodeMs = (performance.now() - t0) / steps;
  const sessionRss = process.memoryUsage().rss;
  await session.release();

  const cost = decodeCost(parseKimiVLConfig(tinyConfigJson({ text })).text, precision);
  const contextMid = promptLen + steps / 2;
  const bytesPerStep = cost.weightBytes + cost.cacheBytesPerContextToken * contextMid;
  const effective = bytesPerStep / (decodeMs / 1000);

  // Copy bandwidth: a 512 MB buffer copied a few times (read + write of each byte counted once).
  const size = 512 * 1024 * 1024;
  const src = Buffer.alloc(size, 1);
  const dst = Buffer.alloc(size);
  src.copy(dst);
  t0 = performance.now();
  const copies = 4;
  for (let i = 0; i < copies; i++) src.copy(dst);
  const copyBandwidth = (size * copies) / ((performance.now() - t0) / 1000);

  console.log(`memory:     RSS ${mb(sessionRss)} after prefill + decode = ${(sessionRss / rss.weightBytes).toFixed(2)} × the ${precision} weights (mapped from disk, not copied)`);
  console.log(`prefill:    ${promptLen} tokens in ${prefillMs.toFixed(0)} ms = ${(promptLen / (prefillMs / 1000)).toFixed(1)} tokens/s`);
  console.log(`decode:     ${(1000 / decodeMs).toFixed(2)} tokens/s (${decodeMs.toFixed(1)} ms/token over ${steps} steps)`);
  console.log(`bandwidth:  decode reads ${mb(bytesPerStep)}/token (${(cost.parameters / 1e6).toFixed(0)} M weights + cache) → effective ${gbps(effective)}; memcpy ${gbps(copyBandwidth)}; ratio ${(effective / copyBandwidth).toFixed(2)}`);
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
