/**
 * The start-up of the importer's worker threads when Kestrel runs from its sources: from the
 * cached bundle (worker-bundle.ts) against from the sources through tsx, side by side in one
 * run, in turns. Each turn starts `--workers` weight workers at once, as an import does, and
 * times two points: the worker's modules loaded (it answers a request for a graph it does not
 * know) and its graph built (it answers a request whose first weight is not the graph's). CPU
 * is this process's, all threads (the workers, tsx's loader threads), per worker; it is less at
 * the mercy of the machine's load than the wall time. Also times one bundle made on an empty
 * cache (esbuild's own process's CPU is not counted there).
 *
 * Run: npx tsx scripts/bench-worker-start.ts [--checkpoint DIR] [--precision int4] [--workers 2] [--reps 5]
 * Without --checkpoint a tiny random checkpoint is written to a temporary folder.
 */
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { importGraphs, planImport } from '../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { ImportWorkerData } from '../native-models/models/kimi-vl/import/import-worker.ts';
import { writeTinyCheckpoint } from '../native-models/models/kimi-vl/testing/tiny-checkpoint.ts';
import type { FromWorker, ToWorker } from '../native-models/onnx/weight-worker.ts';
import { startModuleWorker, type WorkerForm } from '../native-models/onnx/weight-pool.ts';
import { workerBundle } from '../native-models/onnx/worker-bundle.ts';
import { medianAndSpread } from './stats.ts';

const { values: args } = parseArgs({
  options: {
    checkpoint: { type: 'string' },
    precision: { type: 'string', default: 'int4' },
    workers: { type: 'string', default: '2' },
    reps: { type: 'string', default: '5' },
  },
});
const IMPORT_WORKER = new URL('../native-models/models/kimi-vl/import/import-worker.ts', import.meta.url);
const count = Number(args.workers);
const reps = Number(args.reps);
const scratch = mkdtempSync(join(tmpdir(), 'kestrel-bench-worker-start-'));

interface Turn {
  readonly loaded: { wall: number; cpu: number };
  readonly built: { wall: number; cpu: number };
}

/** Sends `request` to every worker and waits for each one's first answer. */
async function ask(workers: readonly Worker[], request: ToWorker): Promise<void> {
  await Promise.all(
    workers.map(async (worker) => {
      const answer = once(worker, 'message') as Promise<[FromWorker]>;
      worker.postMessage(request);
      const [message] = await answer;
      if (message.type !== 'error') throw new Error(`the worker answered ${message.type}, not the expected refusal`);
    }),
  );
}

/** This process's CPU seconds so far, all threads. */
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

/** Node's own floor: `count` workers that load nothing and answer at once. */
async function emptyTurn(): Promise<{ wall: number; cpu: number }> {
  const started = performance.now();
  const cpu0 = cpu();
  const workers = Array.from({ length: count }, () => new Worker("require('node:worker_threads').parentPort.postMessage(0)", { eval: true }));
  await Promise.all(workers.map((w) => once(w, 'message')));
  const took = { wall: (performance.now() - started) / 1000, cpu: (cpu() - cpu0) / count };
  await Promise.all(workers.map((w) => w.terminate()));
  return took;
}

async function turn(from: WorkerForm, data: ImportWorkerData, firstWeight: string): Promise<Turn> {
  const started = performance.now();
  const cpu0 = cpu();
  const since = () => ({ wall: (performance.now() - started) / 1000, cpu: (cpu() - cpu0) / count });
  const workers = await Promise.all(Array.from({ length: count }, () => startModuleWorker(IMPORT_WORKER, data, { from })));
  try {
    const unit = { type: 'unit', unit: 0, from: 0, to: 1, pieces: [], fd: -1 } as const;
    await ask(workers, { ...unit, graph: 'not a graph', first: firstWeight });
    const loaded = since();
    await ask(workers, { ...unit, graph: 'text', first: `not ${firstWeight}` });
    return { loaded, built: since() };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

try {
  const source = args.checkpoint ? resolve(args.checkpoint) : join(scratch, 'checkpoint');
  if (!args.checkpoint) writeTinyCheckpoint(source);
  const plan = planImport(source, { precision: args.precision as 'fp32' | 'fp16' | 'int4' });
  const precision = plan.precision.precision;
  // What importKimiVL gives its workers.
  const data = importGraphs(source, plan).workerData;
  const firstWeight = 'embed_tokens';

  const cold: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const dir = join(scratch, `cache-${rep}`);
    const t0 = performance.now();
    await workerBundle(fileURLToPath(IMPORT_WORKER), { cacheDir: dir });
    cold.push((performance.now() - t0) / 1000);
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`machine: ${availableParallelism()} cores, load ${loadavg().map((l) => l.toFixed(1)).join(' / ')}; ${count} workers at once, ${precision} graphs of ${source}; ${reps} turns of each form after one unmeasured`);
  const forms: readonly WorkerForm[] = ['bundle', 'sources'];
  for (const from of forms) await turn(from, data, firstWeight); // warms the bundle cache and tsx's
  const turns: Record<WorkerForm, Turn[]> = { bundle: [], sources: [] };
  const empty: { wall: number; cpu: number }[] = [];
  for (let rep = 0; rep < reps; rep++) {
    for (const from of rep % 2 ? [...forms].reverse() : forms) turns[from].push(await turn(from, data, firstWeight));
    empty.push(await emptyTurn());
  }

  console.log('\n| form | modules loaded: wall s | CPU s per worker | graph built: wall s | CPU s per worker |');
  console.log('|---|---|---|---|---|');
  for (const from of forms) {
    const t = turns[from];
    const cell = (point: 'loaded' | 'built', what: 'wall' | 'cpu') => medianAndSpread(t.map((x) => x[point][what]), 3);
    console.log(`| ${from} | ${cell('loaded', 'wall')} | ${cell('loaded', 'cpu')} | ${cell('built', 'wall')} | ${cell('built', 'cpu')} |`);
  }
  const ratio = (point: 'loaded' | 'built', what: 'wall' | 'cpu') => medianAndSpread(turns.sources.map((s, i) => s[point][what] / turns.bundle[i]![point][what]), 1);
  console.log(`| sources ÷ bundle (per turn) | ${ratio('loaded', 'wall')}× | ${ratio('loaded', 'cpu')}× | ${ratio('built', 'wall')}× | ${ratio('built', 'cpu')}× |`);
  console.log(`| an empty worker (Node's floor) | ${medianAndSpread(empty.map((e) => e.wall), 3)} | ${medianAndSpread(empty.map((e) => e.cpu), 3)} | | |`);
  console.log(`\nthe bundle made on an empty cache (once per change of the sources): ${medianAndSpread(cold, 3)} s wall`);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
