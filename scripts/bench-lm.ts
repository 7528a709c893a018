/**
 * In-process language model speed on this machine, precisions side by side: builds a mid-size
 * random Kimi-VL checkpoint (real vocabulary and MLA widths, hidden 1024, 64 experts top-6 plus
 * 2 shared), imports it at each precision, then — in a fresh process per measurement, the
 * precisions taking turns — times the load (session creation), a prefill, greedy decode steps,
 * and the decode step's effective weight bandwidth (bytes of weights one token reads ÷ step
 * time) next to this machine's copy bandwidth, measured by the same process right after its
 * decode steps, so that both see the same load. The machine may be busy: compare the ratios of
 * one repetition (each printed on its own line, with the load average), not absolute figures.
 * Run: npx tsx scripts/bench-lm.ts [--precision fp32,int4] [--repeat 3] [--layers 6] [--prompt 512] [--decode 64] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { parseKimiVLConfig } from '../native-models/models/kimi-vl/configuration.ts';
import { TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';
import { decodeCost } from '../native-models/models/kimi-vl/graphs/text-costs.ts';
import { tinyConfigJson, writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import type { Precision } from '../native-models/models/kimi-vl/graphs/modeling-text.ts';
import { kimiWidthsTextConfig } from './mid-checkpoint.ts';
import { greedyPrefill, greedySteps } from './greedy-steps.ts';
import { medianAndSpread } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    precision: { type: 'string', default: 'fp32,int4' },
    repeat: { type: 'string', default: '3' },
    layers: { type: 'string', default: '6' },
    prompt: { type: 'string', default: '512' },
    decode: { type: 'string', default: '64' },
    keep: { type: 'string' },
    child: { type: 'string' },
  },
});
const precisions = args.precision.split(',').map((p) => {
  if (p !== 'fp32' && p !== 'fp16' && p !== 'int4') throw new Error(`--precision ${p}: expected fp32, fp16 or int4 (comma-separated)`);
  return p as Precision;
});
const text = kimiWidthsTextConfig(Number(args.layers));
const promptLen = Number(args.prompt);
const steps = Number(args.decode);

interface Measured {
  loadMs: number;
  prefillMs: number;
  decodeMs: number;
  rssBytes: number;
  tokens: number[];
  /** This process's copy bandwidth, bytes/s, measured right after the decode steps. */
  copyBytesPerS: number;
}

/** One measurement, in this (child) process: load, warm-up, prefill, greedy decode. */
async function measure(modelDir: string): Promise<Measured> {
  const ids = (n: number, seed: number) => Array.from({ length: n }, (_, i) => (i * 7919 + seed) % 400);
  let t0 = performance.now();
  const session = await TextSession.open(modelDir);
  const loadMs = performance.now() - t0;
  await session.forward(ids(8, 1)); // warm-up
  t0 = performance.now();
  const prefilled = await greedyPrefill(session, ids(promptLen, 2));
  const prefillMs = performance.now() - t0;
  t0 = performance.now();
  const { tokens } = await greedySteps(session, prefilled, steps);
  const decodeMs = (performance.now() - t0) / steps;
  const rssBytes = process.memoryUsage().rss;
  const copyBytesPerS = copyBandwidth();
  await session.release();
  return { loadMs, prefillMs, decodeMs, rssBytes, tokens, copyBytesPerS };
}

/**
 * Copy bandwidth: a 256 MB buffer copied a few times (each byte read and written once counts
 * once), far beyond any cache. Measured in the process that decoded, right after its steps: a
 * figure taken elsewhere or later saw other load (the machine is shared), and the fraction of
 * it a step reaches moved with that, not with the step.
 */
function copyBandwidth(): number {
  const size = 256 * 1024 * 1024;
  const src = Buffer.alloc(size, 1);
  const dst = Buffer.alloc(size);
  src.copy(dst);
  const t0 = performance.now();
  const copies = 4;
  for (let i = 0; i < copies; i++) src.copy(dst);
  return (size * copies) / ((performance.now() - t0) / 1000);
}

if (args.child) {
  process.stdout.write(`${JSON.stringify(await measure(args.child))}\n`);
  process.exit(0);
}

const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-lm-'));
const root = resolve(import.meta.dirname, '..');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

try {
  const ckptDir = join(work, 'checkpoint');
  const t0 = performance.now();
  if (!existsSync(join(ckptDir, 'config.json'))) writeTinyCheckpoint(ckptDir, { dtype: 'bf16', shards: 2, text });
  const config = parseKimiVLConfig(tinyConfigJson({ text })).text;
  console.log(`checkpoint: ${((performance.now() - t0) / 1000).toFixed(1)} s (bf16, ${text.num_hidden_layers} layers, hidden ${text.hidden_size}, ${text.n_routed_experts} experts top-${text.num_experts_per_tok} + ${text.n_shared_experts} shared, ${text.num_attention_heads} heads, latent ${text.kv_lora_rank})`);

  const dirs = new Map<Precision, string>();
  let justImported = false;
  for (const precision of precisions) {
    const modelDir = join(work, `model-${precision}`);
    dirs.set(precision, modelDir);
    if (args.keep && existsSync(join(modelDir, 'kestrel-model.json'))) continue;
    rmSync(modelDir, { recursive: true, force: true });
    justImported = true;
    // In a child process so its peak RSS is the import's alone; its seconds are the import's own
    // (timed around importKimiVL there), without the child's start-up.
    const imported = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', 'test/harness/import-peak-rss.ts', ckptDir, modelDir, precision], { cwd: root, encoding: 'utf8' })) as { peakBytes: number; weightBytes: number; seconds: number };
    console.log(`import ${precision}: ${mb(imported.weightBytes)} of weights in ${imported.seconds.toFixed(1)} s; peak RSS ${mb(imported.peakBytes)}`);
  }

  const runs = new Map<Precision, Measured[]>(precisions.map((p) => [p, []]));
  const loads: number[] = [];
  const repeat = Number(args.repeat);
  for (let r = 0; r < repeat; r++) {
    for (const precision of precisions) {
      const out = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/bench-lm.ts', '--child', dirs.get(precision)!, '--prompt', String(promptLen), '--decode', String(steps)], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 26 });
      runs.get(precision)!.push(JSON.parse(out.trim().split('\n').at(-1)!) as Measured);
    }
    loads.push(loadavg()[0]!);
    process.stderr.write(`repetition ${r + 1} of ${repeat} done\n`);
  }

  const contextMid = promptLen + steps / 2;
  /** Bytes one decode token reads, weights and the cache at the middle of the decode. */
  const bytesPerToken = (precision: Precision) => {
    const cost = decodeCost(config, precision);
    return cost.weightBytes + cost.cacheBytesPerContextToken * contextMid;
  };
  /** Those bytes ÷ the step time, as a share of the copy bandwidth its process measured. */
  const fraction = (precision: Precision, i: number) => {
    const m = runs.get(precision)![i]!;
    return bytesPerToken(precision) / (m.decodeMs / 1000) / m.copyBytesPerS;
  };
  console.log(`\n${repeat} repetitions, each precision in its own process, taking turns; median (range). Prompt ${promptLen} tokens, ${steps} greedy tokens.`);
  console.log(`copy bandwidth (each measurement's own): ${medianAndSpread([...runs.values()].flat().map((m) => m.copyBytesPerS / 1e9), 1)} GB/s`);
  for (const precision of precisions) {
    const m = runs.get(precision)!;
    const bytes = bytesPerToken(precision);
    const ratio = m.map((_, i) => fraction(precision, i));
    console.log(`${precision}:`);
    console.log(`  load        ${medianAndSpread(m.map((x) => x.loadMs / 1000), 2)} s (session creation)`);
    console.log(`  prefill     ${medianAndSpread(m.map((x) => promptLen / (x.prefillMs / 1000)), 0)} tokens/s`);
    console.log(`  decode      ${medianAndSpread(m.map((x) => 1000 / x.decodeMs), 1)} tokens/s`);
    console.log(`  bandwidth   ${mb(bytes)} read per token → ${medianAndSpread(ratio, 2)} × the copy bandwidth`);
    console.log(`  RSS         ${medianAndSpread(m.map((x) => x.rssBytes / 1e6), 0)} MB after decode`);
  }
  // Each repetition on its own line: the targets hold in every repetition, not only in the median.
  for (let i = 0; i < repeat; i++) {
    const each = precisions.map((p) => {
      const m = runs.get(p)![i]!;
      return `${p} ${(1000 / m.decodeMs).toFixed(1)} tokens/s, ${fraction(p, i).toFixed(2)} × ${(m.copyBytesPerS / 1e9).toFixed(1)} GB/s copy`;
    });
    console.log(`repetition ${i + 1}${i === 0 && justImported ? ' (the first after the import)' : ''}: load average ${loads[i]!.toFixed(1)}; decode ${each.join('; ')}`);
  }
  const [base, ...others] = precisions;
  for (const other of others) {
    const a = runs.get(base!)!;
    const b = runs.get(other)!;
    const paired = (pick: (x: Measured) => number) => a.map((x, i) => pick(x) / pick(b[i]!));
    console.log(`${other} vs ${base}, paired per repetition: decode ${medianAndSpread(paired((x) => x.decodeMs), 2)}× the speed, prefill ${medianAndSpread(paired((x) => x.prefillMs), 2)}× the speed, load ${medianAndSpread(paired((x) => 1 / x.loadMs), 2)}× the time`);
    const same = b.every((x) => x.tokens.join() === b[0]!.tokens.join());
    const agree = a[0]!.tokens.filter((t, i) => t === b[0]!.tokens[i]).length;
    console.log(`  greedy tokens: ${agree} of ${steps} equal to ${base}'s${same ? '' : ` (${other}'s differ between repetitions)`}`);
  }
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
