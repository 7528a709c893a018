/**
 * Import speed against a plain read of the same checkpoint, side by side in one run: builds a
 * mid-size random Kimi-VL checkpoint (real vocabulary, MLA + MoE layers), then, in turns and in
 * fresh processes, reads it front to back (page cache warm, as the imports find it), imports it
 * on one thread (`workers: 0`, the importer as it was) and with worker threads, for each
 * precision. Prints each import's input throughput as a ratio to the read (the issue's measure:
 * ≥ 0.5× for fp32, ≥ 0.3× for int4), mean ± sd and the range over the repetitions, peak RSS, and
 * whether the two importers wrote the same bytes. Also measured in the same run, because they
 * bound what any importer can do here: how much parallel CPU this run really had (two busy
 * threads against one), and the time to write and fsync the fp32 output's bytes alone.
 *
 * Run: npx tsx scripts/bench-import.ts [--reps N] [--precisions fp32,int4] [--workers N]
 *        [--out-dir DIR] [--layers N] [--experts N] [--keep DIR]
 * `--out-dir /dev/shm` writes to memory, taking this machine's shared disk out of the measure.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, fsyncSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { defaultImportWorkers } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import { meanSd } from '../native-models/models/kimi-vl/runtime/bench.ts';
import { midTextConfig } from './mid-checkpoint.ts';

const { values: args } = parseArgs({
  options: {
    reps: { type: 'string', default: '3' },
    precisions: { type: 'string', default: 'fp32,int4' },
    workers: { type: 'string' },
    'out-dir': { type: 'string' },
    layers: { type: 'string', default: '4' },
    experts: { type: 'string', default: '32' },
    keep: { type: 'string' },
  },
});
const REPO = resolve(import.meta.dirname, '..');
const reps = Number(args.reps);
const precisions = args.precisions!.split(',') as ('fp32' | 'fp16' | 'int4')[];
const TARGETS: Record<string, number> = { fp32: 0.5, int4: 0.3 };
const text = midTextConfig(Number(args.layers), Number(args.experts));

const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-import-'));
const outRoot = mkdtempSync(join(args['out-dir'] ? resolve(args['out-dir']) : work, 'kestrel-bench-import-out-'));
const ckptDir = join(work, 'checkpoint');
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

function stats(values: readonly number[]): { mean: number; sd: number; min: number; max: number } {
  return { ...meanSd(values), min: Math.min(...values), max: Math.max(...values) };
}
const spread = (values: readonly number[], digits = 2) => {
  const s = stats(values);
  return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
};

/** Seconds to read every shard front to back through one 16 MB buffer. */
function plainRead(files: readonly string[]): number {
  const buffer = Buffer.allocUnsafe(16 << 20);
  const started = performance.now();
  for (const file of files) {
    const fd = openSync(file, 'r');
    while (readSync(fd, buffer, 0, buffer.length, null) > 0);
    closeSync(fd);
  }
  return (performance.now() - started) / 1000;
}

/** Seconds to write `bytes` of zeros into a new file in `dir` and fsync it: the output's floor. */
function plainWrite(dir: string, bytes: number): number {
  const file = join(dir, 'write-floor.bin');
  const chunk = Buffer.alloc(16 << 20);
  const started = performance.now();
  const fd = openSync(file, 'w');
  for (let done = 0; done < bytes; done += chunk.length) writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - done));
  fsyncSync(fd);
  closeSync(fd);
  const seconds = (performance.now() - started) / 1000;
  rmSync(file);
  return seconds;
}

/** Wall time of `threads` threads each spinning through the same fixed work. */
async function spin(threads: number): Promise<number> {
  const code = `const { parentPort } = require('node:worker_threads'); let x = 0; for (let i = 0; i < 4e8; i++) x = (x + i * 7) | 0; parentPort.postMessage(x);`;
  const started = performance.now();
  await Promise.all(Array.from({ length: threads }, () => new Promise<void>((done) => {
    const worker = new Worker(code, { eval: true });
    worker.once('message', () => void worker.terminate().then(() => done()));
  })));
  return (performance.now() - started) / 1000;
}

interface ImportRun {
  readonly seconds: number;
  readonly peakBytes: number;
  readonly weightBytes: number;
  readonly sha256: Record<string, string>;
}

function importOnce(precision: string, workers: number): ImportRun {
  const out = join(outRoot, `${precision}-${workers}`);
  rmSync(out, { recursive: true, force: true });
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'test/harness/import-peak-rss.ts', ckptDir, out, precision, String(workers)], { cwd: REPO, encoding: 'utf8' });
  rmSync(out, { recursive: true, force: true });
  return JSON.parse(stdout) as ImportRun;
}

try {
  if (!existsSync(join(ckptDir, 'config.json'))) {
    const t0 = performance.now();
    writeTinyCheckpoint(ckptDir, { dtype: 'bf16', shards: 2, text });
    console.log(`checkpoint: generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  const shards = readdirSync(ckptDir).filter((f) => f.endsWith('.safetensors')).map((f) => join(ckptDir, f));
  const inputBytes = shards.reduce((sum, f) => sum + statSync(f).size, 0);
  const workers = args.workers !== undefined ? Number(args.workers) : defaultImportWorkers(inputBytes);
  console.log(`checkpoint: ${mb(inputBytes)} bf16 (${text.num_hidden_layers} layers, hidden ${text.hidden_size}, ${text.n_routed_experts} experts, vocabulary 163840); output to ${outRoot}`);
  console.log(`machine:    ${availableParallelism()} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}; parallel import with ${workers} weight workers; ${reps} repetitions`);
  plainRead(shards); // warm the page cache, as an import just after a download finds it

  const reads: number[] = [];
  const capacity: number[] = [];
  const writes: number[] = [];
  /** Each import with the mean of the reads just before and after it. */
  const runs: { precision: string; workers: number; run: ImportRun; readSeconds: number }[] = [];
  for (let rep = 0; rep < reps; rep++) {
    capacity.push((2 * (await spin(1))) / (await spin(2)));
    for (const precision of precisions) {
      // In turns, so a change in the machine's load falls on every measure alike.
      const before = plainRead(shards);
      const pair = [0, workers].map((w) => {
        const run = importOnce(precision, w);
        console.log(`  rep ${rep + 1} ${precision} ${w === 0 ? 'one thread' : `${w} workers`}: ${run.seconds.toFixed(1)} s, peak RSS ${mb(run.peakBytes)}`);
        return { precision, workers: w, run };
      });
      const after = plainRead(shards);
      reads.push(before, after);
      for (const r of pair) runs.push({ ...r, readSeconds: (before + after) / 2 });
    }
    const fp32 = runs.find((r) => r.precision === 'fp32');
    if (fp32) writes.push(plainWrite(outRoot, fp32.run.weightBytes));
  }

  const readSeconds = stats(reads).mean;
  console.log(`\nplain read: ${spread(reads.map((s) => inputBytes / 1e6 / s), 0)} MB/s`);
  console.log(`parallel capacity: two busy threads did ${spread(capacity)} × the work of one in the same time (2.00 on two free cores)`);
  if (writes.length) console.log(`write floor: the fp32 weights' bytes alone, written and fsynced, took the time of ${spread(writes.map((s) => s / readSeconds), 1)} plain reads`);
  console.log('\n| precision | importer | input MB/s | × plain read | peak RSS | same bytes as one thread |');
  console.log('|---|---|---|---|---|---|');
  for (const precision of precisions) {
    for (const w of [0, workers]) {
      const list = runs.filter((r) => r.precision === precision && r.workers === w);
      const alone = runs.filter((r) => r.precision === precision && r.workers === 0);
      const same = list.every((r, i) => JSON.stringify(r.run.sha256) === JSON.stringify(alone[i]!.run.sha256));
      console.log(
        `| ${precision} | ${w === 0 ? 'one thread' : `${w} workers`} | ${spread(list.map((r) => inputBytes / 1e6 / r.run.seconds), 0)} | ${spread(list.map((r) => r.readSeconds / r.run.seconds), 3)} | ${mb(Math.max(...list.map((r) => r.run.peakBytes)))} | ${w === 0 ? '—' : same ? 'yes' : '**no**'} |`,
      );
    }
    const target = TARGETS[precision];
    const ratio = stats(runs.filter((r) => r.precision === precision && r.workers === workers).map((r) => r.readSeconds / r.run.seconds)).mean;
    if (target !== undefined) console.log(`| ${precision} | target ≥ ${target}× | | ${ratio >= target ? 'met' : 'not met'}: ${ratio.toFixed(3)}× | | |`);
  }
} finally {
  rmSync(outRoot, { recursive: true, force: true });
  if (!args.keep) rmSync(work, { recursive: true, force: true });
}
