/**
 * Long prompts, measured side by side in one run:
 * - peak memory and time of an fp32 prefill at 2k, 8k and 32k prompt tokens, on the tiny test
 *   checkpoint and a mid-size one (issue 14's: real MLA widths and vocabulary, hidden 1024,
 *   6 layers, 64 experts top-6 plus 2 shared, 0.98 B parameters), with this tree's graphs;
 * - fp32 prefill speed at 512 tokens, and decode speed after it, against a baseline build
 *   (default: `main`, exported with `git archive` and imported by its own code), and the
 *   baseline's peak at 2k tokens (its attention holds heads × L × L scores, so it is not run on
 *   longer prompts).
 * Every measurement is its own child process, so each peak RSS (getrusage) is that run's alone;
 * speed runs alternate between the two builds.
 * Run: npx tsx scripts/bench-long-prompt.ts [--models tiny,mid,mid16] [--sizes 2048,8192,32768]
 *        [--baseline main|none] [--speed-tokens 512] [--reps 3] [--keep DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { importKimiVL } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { TextSession } from '../native-models/models/kimi-vl/runtime/text-session.ts';
import { writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { BENCH_MODELS } from './long-prompt-models.ts';
import { median } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    models: { type: 'string', default: 'tiny,mid' },
    sizes: { type: 'string', default: '2048,8192,32768' },
    baseline: { type: 'string', default: 'main' },
    'speed-tokens': { type: 'string', default: '512' },
    reps: { type: 'string', default: '3' },
    keep: { type: 'string' },
    // Internal: one measurement in this process (see measure()).
    child: { type: 'string' },
    tokens: { type: 'string' },
    warmup: { type: 'string', default: '0' },
    decode: { type: 'string', default: '0' },
  },
});

const REPO = resolve(import.meta.dirname, '..');
const promptIds = (n: number) => Array.from({ length: n }, (_, i) => (i * 7919 + 13) % 400);

interface Measurement {
  /** RSS once the session is open (weights mapped), before the prefill. */
  readonly openBytes: number;
  readonly peakBytes: number;
  readonly ms: readonly number[];
  /** Per decoded token, after the last prefill (8 steps of warm-up first). */
  readonly decodeMs?: number;
}

if (args.child) {
  // Child: open the model, warm up with a prefill of `warmup` ids (onnxruntime's first run sets
  // up its kernels), then prefill `tokens` ids `reps` times.
  const session = await TextSession.open(args.child);
  const openBytes = process.memoryUsage().rss;
  const ids = promptIds(Number(args.tokens));
  if (Number(args.warmup) > 0) await session.forward(promptIds(Number(args.warmup)));
  const ms: number[] = [];
  let cache = session.emptyCache() as Awaited<ReturnType<typeof session.forward>>['cache'];
  for (let r = 0; r < Number(args.reps); r++) {
    const t0 = performance.now();
    cache = (await session.forward(ids)).cache;
    ms.push(performance.now() - t0);
  }
  let decodeMs: number | undefined;
  const steps = Number(args.decode);
  if (steps > 0) {
    for (let i = 0; i < 8; i++) cache = (await session.forward([(i * 31) % 400], cache)).cache;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) cache = (await session.forward([(i * 37) % 400], cache)).cache;
    decodeMs = (performance.now() - t0) / steps;
  }
  const result: Measurement = { openBytes, peakBytes: process.resourceUsage().maxRSS * 1024, ms, decodeMs };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  await session.release();
  process.exit(0);
}

const MODELS = BENCH_MODELS;

const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-long-'));
const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;

function measure(modelDir: string, tokens: number, reps: number, warmup: number, decode = 0): Measurement {
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', join(REPO, 'scripts/bench-long-prompt.ts'), '--child', modelDir, '--tokens', String(tokens), '--reps', String(reps), '--warmup', String(warmup), '--decode', String(decode)],
    { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Measurement;
}

/** Imports the checkpoint with the baseline's own code (`git archive <ref>`), in a child process. */
function importBaseline(ref: string, checkpoint: string, out: string): void {
  const tree = join(work, `baseline-${ref.replace(/[^\w.-]/g, '_')}`);
  rmSync(tree, { recursive: true, force: true });
  mkdirSync(tree, { recursive: true });
  execFileSync('sh', ['-c', `git -C "${REPO}" archive --format=tar "$0" native-models package.json | tar -x -C "${tree}"`, ref]);
  symlinkSync(join(REPO, 'node_modules'), join(tree, 'node_modules'));
  const script = `const m = await import(${JSON.stringify(join(tree, 'native-models/models/kimi-vl/import/import-checkpoint.ts'))}); await m.importKimiVL({ source: ${JSON.stringify(checkpoint)}, out: ${JSON.stringify(out)}, precision: 'fp32' });`;
  execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: tree, stdio: ['ignore', 'ignore', 'inherit'] });
}

try {
  const sizes = args.sizes.split(',').filter(Boolean).map(Number);
  const speedTokens = Number(args['speed-tokens']);
  const reps = Number(args.reps);
  const baseline = args.baseline === 'none' ? undefined : args.baseline;
  const summary: string[] = [];
  for (const key of args.models.split(',')) {
    const model = MODELS[key];
    if (!model) throw new Error(`unknown model ${key}; choose from ${Object.keys(MODELS).join(', ')}`);
    console.log(`\n== ${key}: ${model.label}`);
    const checkpoint = join(work, `${key}-checkpoint`);
    const current = join(work, `${key}-fp32`);
    const old = join(work, `${key}-fp32-baseline`);
    writeTinyCheckpoint(checkpoint, { dtype: 'bf16', text: model.text });
    rmSync(current, { recursive: true, force: true });
    await importKimiVL({ source: checkpoint, out: current, precision: 'fp32' });
    if (baseline) {
      rmSync(old, { recursive: true, force: true });
      importBaseline(baseline, checkpoint, old);
    }

    if (baseline) {
      const times: Record<'new' | 'old', number[]> = { new: [], old: [] };
      const decode: Record<'new' | 'old', number[]> = { new: [], old: [] };
      for (let round = 0; round < 2; round++) {
        for (const [which, dir] of [['new', current], ['old', old]] as const) {
          const m = measure(dir, speedTokens, reps, speedTokens, 24);
          times[which].push(...m.ms);
          decode[which].push(m.decodeMs!);
        }
      }
      const [n, o] = [median(times.new), median(times.old)];
      const prefill = `prefill ${speedTokens} tokens: this tree ${n.toFixed(0)} ms (${((speedTokens / n) * 1000).toFixed(0)} tok/s), ${baseline} ${o.toFixed(0)} ms (${((speedTokens / o) * 1000).toFixed(0)} tok/s): ${(o / n).toFixed(2)}× (medians of ${times.new.length} runs each, alternating)`;
      const [dn, dold] = [Math.min(...decode.new), Math.min(...decode.old)];
      const decoding = `decode after it: this tree ${dn.toFixed(1)} ms/token, ${baseline} ${dold.toFixed(1)} ms/token: ${(dold / dn).toFixed(2)}× (best of ${decode.new.length} runs of 24 steps)`;
      for (const line of [prefill, decoding]) {
        console.log(line);
        summary.push(`${key}: ${line}`);
      }
    }

    const peaks = new Map<number, number>();
    console.log('tokens   graph        RSS after open   peak RSS   prefill     tok/s');
    for (const tokens of sizes) {
      const m = measure(current, tokens, 1, 64);
      peaks.set(tokens, m.peakBytes);
      console.log(`${String(tokens).padStart(6)}   this tree    ${gb(m.openBytes).padStart(9)}       ${gb(m.peakBytes).padStart(8)}   ${(m.ms[0]! / 1000).toFixed(1).padStart(6)} s   ${((tokens / m.ms[0]!) * 1000).toFixed(0).padStart(6)}`);
      if (baseline && tokens <= 3072) {
        const b = measure(old, tokens, 1, 64);
        console.log(`${String(tokens).padStart(6)}   ${baseline.padEnd(12)} ${gb(b.openBytes).padStart(9)}       ${gb(b.peakBytes).padStart(8)}   ${(b.ms[0]! / 1000).toFixed(1).padStart(6)} s   ${((tokens / b.ms[0]!) * 1000).toFixed(0).padStart(6)}`);
      }
    }
    const [small, large] = [peaks.get(2048), peaks.get(8192)];
    if (small && large) {
      const line = `peak at 8192 tokens = ${(large / small).toFixed(2)} × peak at 2048 (target ≤ 2.5)`;
      console.log(line);
      summary.push(`${key}: ${line}`);
    }
  }
  console.log(`\nsummary (one run on this machine)\n${summary.map((s) => `  ${s}`).join('\n')}`);
} finally {
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
