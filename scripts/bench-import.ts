/**
 * Import speed against a plain read of the same checkpoint, side by side in one run: builds a
 * mid-size random Kimi-VL checkpoint (real vocabulary, MLA + MoE layers), then, in turns and in
 * fresh processes, reads it front to back and imports it — on one thread (`workers: 0`), with
 * worker threads, and, given `--baseline DIR` (another checkout of this repository, e.g. the
 * previous build), with that checkout's importer — for each precision. Every import is run with
 * the page cache warm (as right after a download) and, where this process may drop the page
 * cache (root on Linux), cold as well, each against a read made the same way: the issue's
 * measure is input throughput as a ratio to the read (≥ 0.5× for fp32, ≥ 0.3× for int4).
 * Prints mean ± sd and the range over the repetitions, each import's CPU seconds (all threads,
 * less at the mercy of the machine's load than its wall time), peak RSS, and whether every importer
 * wrote the same bytes (naming the files that differ: a baseline with another graph differs there).
 *
 * In the same run it measures what bounds any importer here, and prints the ceiling they give:
 * the CPU time of the plain reads (the kernel's, filling the page cache, is most of a cold
 * read's, and an importer's threads pay it too), the write bandwidth to the output folder (the weights' bytes written and fsynced), SHA-256's
 * rate (the manifest records the SHA-256 of every byte written, in pieces hashed on every core;
 * the checkpoint's shards are not read a second time unless `--hash-source` asks, and this
 * benchmark does not), and
 * the conversion rates (bf16 → fp32 widening, int4 quantisation from bf16) on one core and on two at once.
 *
 * Run: npx tsx scripts/bench-import.ts [--reps N] [--precisions fp32,int4] [--workers N[,M…]]
 *        [--out-dir DIR] [--layers N] [--experts N] [--keep DIR] [--baseline DIR]
 *        [--cache warm,cold] [--no-one-thread]
 * `--out-dir /dev/shm` writes to memory, taking this machine's disk out of the measure.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, fsyncSync, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { hashFile } from '../native-models/checkpoint/file-hash.ts';
import { startModuleWorker } from '../native-models/onnx/weight-pool.ts';

/**
 * A rate measured in a worker thread: `units` of work (bytes or values) per second. 'widen' and
 * 'quantise' run the kernels the importer runs (WASM SIMD here; the quantiser from bf16, as an int4
 * import of a bf16 checkpoint does); the '… js' jobs the JS reference.
 */
const RATE_JOBS = ['sha256', 'widen', 'quantise', 'narrow', 'widen js', 'quantise js', 'narrow js'] as const;
type RateJob = (typeof RATE_JOBS)[number];

if (!isMainThread) {
  parentPort!.postMessage(await measureRate(workerData as RateJob));
} else {
  await main();
}

/** Units of `job` done per second on this thread, over about a second of work. */
async function measureRate(job: RateJob): Promise<number> {
  const { float32ToFloat16, widenInPlace } = await import('../native-models/numeric/half.ts');
  const { quantizeInt4 } = await import('../native-models/quantization/int4-blocks.ts');
  const values = 1 << 22; // one 16 MB fp32 chunk, as the importer reads them
  const buffer = new ArrayBuffer(4 * values);
  const { SeededRandom } = await import('../native-models/numeric/random.ts');
  // Random weights, as a checkpoint's are: smooth ones would make the quantiser's branches predictable.
  const rng = new SeededRandom(1);
  const f32 = new Float32Array(buffer);
  for (let i = 0; i < values; i++) f32[i] = (rng.next() - 0.5) * 0.1;
  // The quantiser's input as an int4 import hands it over: a bf16 checkpoint's bit patterns, unwidened.
  const bf16 = Uint16Array.from(new Uint32Array(buffer, 0, 1 << 20), (bits) => bits >>> 16);
  const once: Record<RateJob, () => number> = {
    sha256: () => (createHash('sha256').update(new Uint8Array(buffer)).digest(), buffer.byteLength),
    widen: () => (widenInPlace(buffer, values, 'BF16'), values * 4),
    quantise: () => (quantizeInt4(bf16, 1024, 1024, { blockSize: 64, symmetric: true }), 1 << 20),
    'widen js': () => (widenInPlace(buffer, values, 'BF16', 'js'), values * 4),
    narrow: () => (float32ToFloat16(f32.subarray(0, 1 << 20)), 1 << 20),
    'narrow js': () => (float32ToFloat16(f32.subarray(0, 1 << 20), 'js'), 1 << 20),
    'quantise js': () => (quantizeInt4(bf16, 1024, 1024, { blockSize: 64, symmetric: true, kernel: 'js' }), 1 << 20),
  };
  once[job]();
  let units = 0;
  const started = performance.now();
  while (performance.now() - started < 1000) units += once[job]();
  return units / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const { defaultImportWorkers } = await import('../native-models/models/kimi-vl/import/import-checkpoint.ts');
  const { writeTinyCheckpoint } = await import('../native-models/models/kimi-vl/testing/tiny-checkpoint.ts');
  const { meanSd } = await import('../native-models/models/kimi-vl/runtime/bench.ts');
  const { midTextConfig } = await import('./mid-checkpoint.ts');

  const { values: args } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      precisions: { type: 'string', default: 'fp32,int4' },
      workers: { type: 'string' },
      'out-dir': { type: 'string' },
      layers: { type: 'string', default: '4' },
      experts: { type: 'string', default: '32' },
      keep: { type: 'string' },
      baseline: { type: 'string' },
      cache: { type: 'string', default: 'warm,cold' },
      'no-one-thread': { type: 'boolean', default: false },
    },
  });
  const REPO = resolve(import.meta.dirname, '..');
  const baseline = args.baseline ? resolve(args.baseline) : undefined;
  if (baseline && !existsSync(join(baseline, 'test/harness/import-peak-rss.ts'))) throw new Error(`--baseline ${baseline} is not a checkout of this repository with node_modules (no test/harness/import-peak-rss.ts)`);
  const reps = Number(args.reps);
  const precisions = args.precisions!.split(',') as ('fp32' | 'fp16' | 'int4')[];
  const TARGETS: Record<string, number> = { fp32: 0.5, int4: 0.3 };
  const text = midTextConfig(Number(args.layers), Number(args.experts));
  const canDrop = (() => {
    try {
      accessSync('/proc/sys/vm/drop_caches', constants.W_OK);
      return true;
    } catch {
      return false;
    }
  })();
  const caches = args.cache!.split(',').filter((c): c is 'warm' | 'cold' => c === 'warm' || (c === 'cold' && canDrop));
  if (args.cache!.includes('cold') && !canDrop) console.log('cold cache: not measured (dropping the page cache needs root on Linux)');

  const work = args.keep ? resolve(args.keep) : mkdtempSync(join(tmpdir(), 'kestrel-bench-import-'));
  const outRoot = mkdtempSync(join(args['out-dir'] ? resolve(args['out-dir']) : work, 'kestrel-bench-import-out-'));
  const ckptDir = join(work, 'checkpoint');
  const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;
  const stats = (values: readonly number[]) => ({ ...meanSd(values), min: Math.min(...values), max: Math.max(...values) });
  const spread = (values: readonly number[], digits = 2) => {
    const s = stats(values);
    return `${s.mean.toFixed(digits)} ± ${s.sd.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
  };
  const mean = (values: readonly number[]) => stats(values).mean;

  /** Empties the page cache (dirty pages written first), so the next read comes from the disk. */
  const dropCaches = () => {
    execFileSync('sync');
    writeFileSync('/proc/sys/vm/drop_caches', '1');
  };

  /**
   * Seconds to read every shard front to back through one 16 MB buffer, and the CPU seconds it
   * took (this thread alone reads: the kernel's work filling the page cache counts, which on a
   * cold read is most of it, and which an importer's threads pay as well).
   */
  const plainRead = (files: readonly string[], cache: 'warm' | 'cold'): { seconds: number; cpuSeconds: number } => {
    if (cache === 'cold') dropCaches();
    const buffer = Buffer.allocUnsafe(16 << 20);
    const started = performance.now();
    const cpu = process.cpuUsage();
    for (const file of files) {
      const fd = openSync(file, 'r');
      while (readSync(fd, buffer, 0, buffer.length, null) > 0);
      closeSync(fd);
    }
    const { user, system } = process.cpuUsage(cpu);
    return { seconds: (performance.now() - started) / 1000, cpuSeconds: (user + system) / 1e6 };
  };

  /** Seconds to write `bytes` of zeros into a new file in `dir` and fsync it: the output's floor. */
  const plainWrite = (dir: string, bytes: number): number => {
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
  };

  /** Each thread's rate of `job` with `threads` threads running it at once. */
  const rates = (job: RateJob, threads: number): Promise<number[]> =>
    Promise.all(
      Array.from({ length: threads }, async () => {
        // From the sources: a bundle cannot take this script (it uses import.meta), and the rates
        // are measured after the start-up.
        const worker = await startModuleWorker(new URL(import.meta.url), job, { from: 'sources' });
        return new Promise<number>((done, fail) => {
          worker.once('message', (rate: number) => void worker.terminate().then(() => done(rate)));
          worker.once('error', fail);
        });
      }),
    );

  interface ImportRun {
    readonly seconds: number;
    readonly peakBytes: number;
    readonly weightBytes: number;
    readonly sha256: Record<string, string>;
    /** CPU seconds of the whole process, all threads, its start-up included (GNU time). */
    readonly cpuSeconds?: number;
  }
  const gnuTime = existsSync('/usr/bin/time');
  const WRITTEN = [['text', 'text-model.onnx.data'], ['vision', 'vision-model.onnx.data'], ['textGraph', 'text-model.onnx'], ['visionGraph', 'vision-model.onnx']] as const;
  const importOnce = async (repo: string, precision: string, workers: number, cache: 'warm' | 'cold'): Promise<ImportRun> => {
    const out = join(outRoot, `${precision}-${workers}`);
    rmSync(out, { recursive: true, force: true });
    if (cache === 'cold') dropCaches();
    // `--no-hash`: the written files are hashed here, after the import's process has ended, so
    // that its CPU time is the import's alone (an older checkout's harness ignores the flag).
    const command = [process.execPath, '--import', 'tsx', 'test/harness/import-peak-rss.ts', ckptDir, out, precision, String(workers), '--no-hash'];
    // The CPU time the import took is less at the mercy of the machine's load than its wall time.
    const child = gnuTime ? spawnSync('/usr/bin/time', ['-f', 'cpu %U %S', ...command], { cwd: repo, encoding: 'utf8' }) : spawnSync(command[0]!, command.slice(1), { cwd: repo, encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`the import in ${repo} failed: ${child.stderr}`);
    // Every importer's bytes compared the same way, whatever its manifest records.
    const sha256 = Object.fromEntries(await Promise.all(WRITTEN.map(async ([key, file]) => [key, (await hashFile(join(out, file))).sha256])));
    rmSync(out, { recursive: true, force: true });
    const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(child.stderr);
    return { ...(JSON.parse(child.stdout) as ImportRun), sha256, ...(cpu ? { cpuSeconds: Number(cpu[1]) + Number(cpu[2]) } : {}) };
  };

  try {
    if (!existsSync(join(ckptDir, 'config.json'))) {
      const t0 = performance.now();
      writeTinyCheckpoint(ckptDir, { dtype: 'bf16', shards: 2, text });
      console.log(`checkpoint: generated in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const shards = readdirSync(ckptDir).filter((f) => f.endsWith('.safetensors')).map((f) => join(ckptDir, f));
    const inputBytes = shards.reduce((sum, f) => sum + statSync(f).size, 0);
    // The first count is the one the targets are judged on (default: the importer's own choice).
    const counts = args.workers !== undefined ? args.workers.split(',').map(Number) : [defaultImportWorkers(inputBytes)];
    const workers = counts[0]!;
    const importers = [
      ...(args['no-one-thread'] ? [] : [{ name: 'one thread', repo: REPO, workers: 0 }]),
      ...counts.map((n) => ({ name: `${n} workers`, repo: REPO, workers: n })),
      ...(baseline ? [{ name: `baseline, ${workers} workers`, repo: baseline, workers }] : []),
    ];
    console.log(`checkpoint: ${mb(inputBytes)} bf16 (${text.num_hidden_layers} layers, hidden ${text.hidden_size}, ${text.n_routed_experts} experts, vocabulary 163840); output to ${outRoot}`);
    console.log(`machine:    ${availableParallelism()} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}; importers: ${importers.map((i) => i.name).join(', ')}${baseline ? ` (baseline: ${baseline})` : ''}; caches: ${caches.join(', ')}; ${reps} repetitions`);
    plainRead(shards, 'warm');

    const reads: Record<'warm' | 'cold', number[]> = { warm: [], cold: [] };
    const readCpu: Record<'warm' | 'cold', number[]> = { warm: [], cold: [] };
    const writes: number[] = [];
    const measured = Object.fromEntries(RATE_JOBS.map((job) => [job, { one: [] as number[], two: [] as number[] }])) as Record<RateJob, { one: number[]; two: number[] }>;
    /** Each import with the mean of the reads (made the same way) just before and after it. */
    const runs: { precision: string; importer: string; cache: 'warm' | 'cold'; run: ImportRun; readSeconds: number }[] = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const job of Object.keys(measured) as RateJob[]) {
        if (job.startsWith('narrow') && !precisions.includes('fp16')) continue; // fp16 imports' only
        measured[job].one.push(...(await rates(job, 1)));
        measured[job].two.push((await rates(job, 2)).reduce((a, b) => a + b, 0));
      }
      for (const precision of precisions) {
        for (const cache of caches) {
          // In turns, so a change in the machine's load falls on every measure alike.
          const before = plainRead(shards, cache);
          const done = [];
          for (const importer of importers) {
            const run = await importOnce(importer.repo, precision, importer.workers, cache);
            console.log(`  rep ${rep + 1} ${precision} ${cache} ${importer.name}: ${run.seconds.toFixed(1)} s, peak RSS ${mb(run.peakBytes)}`);
            done.push({ precision, importer: importer.name, cache, run });
          }
          const after = plainRead(shards, cache);
          reads[cache].push(before.seconds, after.seconds);
          readCpu[cache].push(before.cpuSeconds, after.cpuSeconds);
          for (const r of done) runs.push({ ...r, readSeconds: (before.seconds + after.seconds) / 2 });
        }
      }
      const fp32 = runs.find((r) => r.precision === 'fp32');
      if (fp32) writes.push(plainWrite(outRoot, fp32.run.weightBytes));
    }

    // The ceiling takes the best rate seen: what this machine did at least once in this run.
    const rate = (job: RateJob, threads: 'one' | 'two') => Math.max(...measured[job][threads]);
    console.log('');
    for (const cache of caches) console.log(`plain read, ${cache} cache: ${spread(reads[cache].map((s) => inputBytes / 1e6 / s), 0)} MB/s, ${spread(readCpu[cache], 2)} CPU-s`);
    const fp32Bytes = runs.find((r) => r.precision === 'fp32')?.run.weightBytes ?? 0;
    const writeRate = writes.length ? Math.max(...writes.map((s) => fp32Bytes / s)) : undefined;
    if (writes.length) console.log(`write to ${outRoot} (the fp32 weights' bytes written and fsynced): ${spread(writes.map((s) => fp32Bytes / 1e6 / s), 0)} MB/s`);
    console.log(`SHA-256: ${spread(measured.sha256.one.map((r) => r / 1e6), 0)} MB/s on one core, ${spread(measured.sha256.two.map((r) => r / 1e6), 0)} MB/s on two`);
    // Each kernel beside its JS reference, measured in the same repetition: the ratio is per repetition.
    const kernels = (job: 'widen' | 'quantise' | 'narrow', what: string, unit: string) => {
      const js = measured[`${job} js`];
      for (const [name, m] of [['WASM SIMD', measured[job]], ['JS', js]] as const) console.log(`${what}, ${name}: ${spread(m.one.map((r) => r / 1e6), 0)} ${unit} on one core, ${spread(m.two.map((r) => r / 1e6), 0)} on two`);
      console.log(`${what}, WASM ÷ JS: ${spread(measured[job].one.map((r, i) => r / js.one[i]!), 1)}× on one core, ${spread(measured[job].two.map((r, i) => r / js.two[i]!), 1)}× on two`);
    };
    kernels('widen', 'bf16 → fp32 widening', 'MB/s of output');
    kernels('quantise', 'int4 quantisation', 'M values/s');
    if (precisions.includes('fp16')) kernels('narrow', 'fp32 → fp16 narrowing', 'M values/s');

    console.log('\n| precision | cache | importer | seconds | CPU seconds | input MB/s | × plain read | peak RSS | same bytes |');
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const precision of precisions) {
      const reference = runs.find((r) => r.precision === precision)!;
      for (const cache of caches) {
        for (const importer of importers) {
          const list = runs.filter((r) => r.precision === precision && r.cache === cache && r.importer === importer.name);
          // Which written files differ from the first run's: a baseline whose graph differs
          // (a new output, say) still shows whether it wrote the same weights.
          const differ = WRITTEN.map(([key]) => key).filter((key) => list.some((r) => r.run.sha256[key] !== reference.run.sha256[key]));
          console.log(
            `| ${precision} | ${cache} | ${importer.name} | ${spread(list.map((r) => r.run.seconds), 1)} | ${list.every((r) => r.run.cpuSeconds !== undefined) ? spread(list.map((r) => r.run.cpuSeconds!), 1) : '—'} | ${spread(list.map((r) => inputBytes / 1e6 / r.run.seconds), 0)} | ${spread(list.map((r) => r.readSeconds / r.run.seconds), 3)} | ${mb(Math.max(...list.map((r) => r.run.peakBytes)))} | ${differ.length === 0 ? 'yes' : `**no**: ${differ.join(', ')}`} |`,
          );
        }
        const target = TARGETS[precision];
        const ours = runs.filter((r) => r.precision === precision && r.cache === cache && r.importer === `${workers} workers`);
        const ratio = mean(ours.map((r) => r.readSeconds / r.run.seconds));
        if (target !== undefined) console.log(`| ${precision} | ${cache} | target ≥ ${target}× | | | | ${ratio >= target ? 'met' : 'not met'}: ${ratio.toFixed(3)}× | | |`);
      }
    }

    // The ceiling: what the least work any importer must do takes here. It reads the checkpoint
    // once, hashes every byte it writes (in pieces, on every core: piece-hashes.ts), converts
    // the input, and writes and fsyncs the output; the checkpoint is not hashed (its shards are
    // recorded by size and time). Reading costs CPU too, the kernel's more than the copy's on a
    // cold read: the plain read's own CPU time stands for it. On two cores the CPU work takes at
    // least half its one-core time, and the output at least its bytes over the write bandwidth
    // (one file's writes take its lock in turn). Writing is CPU work too where the output is in
    // memory (/dev/shm: the write is a copy into its pages), so both added and shared by the two
    // cores are a floor there. The rates are each measured alone: in an import the threads share
    // the memory bus and the caches, so the ceiling is a bound, not a forecast.
    console.log('\nceiling for any importer here, from the best rates above (seconds; the lower bound is the largest of them):');
    for (const precision of precisions) {
      const run = runs.find((r) => r.precision === precision)!.run;
      const outBytes = run.weightBytes;
      const params = inputBytes / 2;
      const hashOutput = outBytes / rate('sha256', 'one');
      // int4 quantises its weights from bf16 unwidened (the quantiser's rate includes its widening).
      const widen = precision === 'int4' ? 0 : (4 * params) / rate('widen', 'one');
      const quantise = precision === 'int4' ? params / rate('quantise', 'one') : 0;
      const half = precision === 'fp16' ? params / rate('narrow', 'one') : 0; // fp32 → fp16 narrowing
      const convert = hashOutput + widen + quantise + half;
      const write = writeRate ? outBytes / writeRate : 0;
      console.log(
        `  ${precision}: output ${mb(outBytes)}; CPU ${convert.toFixed(2)} s on one core (output hash ${hashOutput.toFixed(2)}${widen ? `, widening ${widen.toFixed(2)}` : ''}${quantise ? `, quantising ${quantise.toFixed(2)}` : ''}${half ? `, narrowing ${half.toFixed(2)}` : ''}), writing the output ${write.toFixed(2)}`,
      );
      for (const cache of caches) {
        const read = Math.min(...readCpu[cache]);
        const cpu = convert + read;
        const floors = { 'CPU work on 2 cores': cpu / 2, 'writing the output': write, 'both on 2 cores (output in memory)': (cpu + write) / 2 };
        const floor = Math.max(...Object.values(floors));
        console.log(
          `    ${cache}: reading ${read.toFixed(2)} CPU-s; ${Object.entries(floors).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')} → at best ${floor.toFixed(2)} s, ${(mean(reads[cache]) / floor).toFixed(3)}× a ${cache} read`,
        );
      }
    }
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
    if (!args.keep) rmSync(work, { recursive: true, force: true });
  }
}
