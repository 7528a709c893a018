/**
 * Makes a graph's weights in worker threads: reading, converting, quantising, writing and
 * hashing run in several workers at once, each writing its bytes straight into the data file at
 * their planned offsets and hashing them as it goes (weight-worker.ts); this thread hands out the
 * units, tells the weights complete in order, and collects the pieces' SHA-256s. The layout, the
 * bytes and the pieces are those of the single-threaded writer (model-writer.ts); only who makes
 * them differs.
 *
 * Each worker builds the same graph itself (weight producers are closures over the checkpoint
 * and cannot cross threads), so the pool only says which weights to make. Work goes out in
 * units — one weight, or the weights one quantised matrix shares, or a range of rows of either
 * when it is large (an int4 embedding or lm_head is two thirds of a mid-size model's values) —
 * to whichever worker is free, in order (data-layout.ts weightUnits). Until the first worker is
 * ready (a worker loads its modules and builds its graphs, a few tenths of a second of a core),
 * this thread makes the units itself from its own graph, so an import's start-up is no longer
 * time the weights wait.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { PART_BYTES, pieceStarts, unitPlaces, weightUnits, type DataLayout } from './data-layout.ts';
import type { WeightSpec } from './graph-builder.ts';
import { backgroundFlush, type WeightsWriter } from './model-writer.ts';
import { filePieces, type HashedPiece, type PieceRecord } from './piece-hashes.ts';
import { makeUnit, type FromWorker, type ToWorker } from './weight-worker.ts';
import { workerBundle } from './worker-bundle.ts';

/** How a TypeScript worker module starts: from its cached bundle (worker-bundle.ts), or from the sources through tsx. */
export type WorkerForm = 'bundle' | 'sources';

/** Why a module's bundle was not made, told once per module and reason. */
const toldFallbacks = new Set<string>();

/** Node's flags that load a module before the entry: the flag alone (its value next) or `flag=value`. */
const PRELOADS = ['--import', '--require', '-r', '--loader', '--experimental-loader'];

/**
 * `argv` (a process's execArgv) without the flags that preload modules. Node 20 runs `--import`
 * and `--require` preloads in every worker started from a file, as in the main thread: run
 * through tsx (the CLI, the tests), each import worker would load tsx and register its loader
 * (0.1–0.2 s of a core, profiled) to run a bundle that needs none. Other flags (a profiler's,
 * say) still reach the worker.
 */
export function withoutPreloads(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (PRELOADS.includes(flag)) i++;
    else if (!PRELOADS.some((p) => flag.startsWith(`${p}=`))) kept.push(flag);
  }
  return kept;
}

/**
 * Starts a worker thread on a module. A built `.js` module (the desktop app) starts as it is. A
 * TypeScript module (the CLI and the tests run the sources) starts from its bundle, made once and
 * cached (worker-bundle.ts); when it cannot be bundled, or `from: 'sources'` asks, tsx's loader
 * is registered inside the worker first (Node gives a worker neither the parent's loader hooks
 * nor, for an `eval` worker, `--import` preloads), about half a second of a core more per worker.
 * A bundle starts without the parent's preloads (withoutPreloads).
 */
export async function startModuleWorker(module: URL, workerData: unknown, opts: { from?: WorkerForm } = {}): Promise<Worker> {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
  if (opts.from !== 'sources') {
    try {
      const { url } = await workerBundle(fileURLToPath(module));
      try {
        return new Worker(url, { workerData, execArgv: withoutPreloads(process.execArgv) });
      } catch (err) {
        // A flag given explicitly must be one a worker takes (a V8 or process-wide flag, such as
        // a heap limit, is refused); left to inherit them, Node passes on only what applies.
        if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
        return new Worker(url, { workerData });
      }
    } catch (err) {
      const reason = `${fileURLToPath(module)} starts from the sources, not a bundle (${err instanceof Error ? err.message : String(err)})`;
      if (!toldFallbacks.has(reason)) process.emitWarning(reason, { code: 'KESTREL_WORKER_BUNDLE' });
      toldFallbacks.add(reason);
    }
  }
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Resolves once the event loop has gone through its poll phase, where the workers' messages (a
 * worker ready) come in. One setImmediate may run before it: started from a poll callback (as a
 * write is, after the workers' start), it runs in the same turn's check phase, and this thread
 * made one unit too many while ready workers waited (70–120 ms of both workers in a cold import, timed).
 */
function pastWorkersMessages(): Promise<void> {
  return new Promise((resume) => setImmediate(() => setImmediate(resume)));
}

export interface WeightPoolOptions {
  /** The size of the parts large weights are cut into (default PART_BYTES). */
  readonly partBytes?: number;
  readonly from?: WorkerForm;
  /**
   * This thread makes exactly the first `n` units of each write, then none (0: none, as int4
   * imports ask; other counts are for tests). By default it makes units until a worker is ready.
   */
  readonly thisThreadUnits?: number;
}

export class WeightPool {
  /** Workers ready and waiting for a unit (a worker is added once it says it is ready). */
  private readonly idle: Worker[] = [];
  private ready = 0;
  private failure: Error | undefined;
  /** Writes in progress, told when a worker fails. */
  private readonly waiting = new Set<(err: Error) => void>();
  /** The write in progress hands out units when a worker becomes ready. */
  private onReady: (() => void) | undefined;

  private constructor(
    private readonly workers: readonly Worker[],
    private readonly partBytes: number,
    private readonly thisThreadUnits: number | undefined,
  ) {
    for (const worker of workers) {
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => this.fail(new Error(`a weight worker stopped (exit code ${code})`)));
      worker.once('message', (message: FromWorker) => {
        if (message.type === 'error') return this.fail(new Error(`a weight worker could not start: ${message.message}`));
        if (message.type !== 'ready') return this.fail(new Error(`a weight worker sent ${message.type} before it was ready`));
        this.ready++;
        this.idle.push(worker);
        this.onReady?.();
      });
    }
  }

  /**
   * `count` workers on `module`, which calls serveWeights (weight-worker.ts) with `workerData`.
   * Returns once they are started, before they are ready: a write's first units are made on this
   * thread meanwhile (a worker takes a few tenths of a second of a core to load its modules and
   * build its graphs).
   */
  static async start(module: URL, workerData: unknown, count: number, opts: WeightPoolOptions = {}): Promise<WeightPool> {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a weight pool needs at least one worker, got ${count}`);
    const form = opts.from ? { from: opts.from } : {};
    const workers = await Promise.all(Array.from({ length: count }, () => startModuleWorker(module, workerData, form)));
    return new WeightPool(workers, opts.partBytes ?? PART_BYTES, opts.thisThreadUnits);
  }

  get size(): number {
    return this.workers.length;
  }

  /** A writer for writeModel that makes the weights of the graph the workers know as `graph`. */
  writer(graph: string): WeightsWriter {
    return { write: (weights, layout, fd, onWeight) => this.write(graph, weights, layout, fd, onWeight) };
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const stop of [...this.waiting]) stop(this.failure);
  }

  private write(graph: string, weights: readonly WeightSpec[], layout: DataLayout, fd: number, onWeight: (index: number) => void): Promise<{ pieces: PieceRecord[] }> {
    if (this.failure) return Promise.reject(this.failure);
    const units = weightUnits(weights, this.partBytes);
    const places = unitPlaces(weights, layout, units);
    // How many units each weight is still waiting for (its parts, or the one unit holding it).
    const waitingFor = new Array<number>(weights.length).fill(0);
    for (const { from, to } of units) for (let i = from; i < to; i++) waitingFor[i]!++;
    const hashed: HashedPiece[] = [];
    const flush = backgroundFlush(fd);
    let next = 0;
    let current = 0;

    return new Promise<{ pieces: PieceRecord[] }>((resolve, reject) => {
      const listeners = new Map<Worker, (m: FromWorker) => void>();
      let settled = false;
      let inThread: Promise<unknown> = Promise.resolve();
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        for (const [worker, listener] of listeners) worker.off('message', listener);
        this.waiting.delete(finish);
        this.onReady = undefined;
        // A unit this thread is making ends before the caller may close the file.
        const quiet = () => Promise.all([flush.settled(), inThread.catch(() => undefined)]);
        if (!err) {
          try {
            const pieces = filePieces(hashed, pieceStarts(places), layout.bytes);
            void quiet().then(() => resolve({ pieces }));
            return;
          } catch (e) {
            err = e instanceof Error ? e : new Error(String(e));
          }
        }
        // The other workers may be writing into the data file: they are stopped before the
        // caller closes it (its descriptor could otherwise be reused by another file), and the
        // background flush is waited for.
        const rejectWith = () => void quiet().then(() => reject(err));
        this.close().then(rejectWith, rejectWith);
      };
      this.waiting.add(finish);

      const request = (unit: number): ToWorker => {
        const { from, to, rows } = units[unit]!;
        return { type: 'unit', graph, unit, from, to, ...(rows ? { rows } : {}), first: weights[from]!.name, pieces: places[unit]!, fd };
      };
      const dispatch = () => {
        if (this.thisThreadUnits !== undefined && next < this.thisThreadUnits) return;
        while (next < units.length && this.idle.length > 0) this.idle.shift()!.postMessage(request(next++));
      };
      this.onReady = dispatch;

      // While no worker is ready (they are loading their modules and building their graphs), this
      // thread makes units itself from its own graph's weights, the same bytes at the same places:
      // the start-up no longer leaves the cores to the workers' loading alone. Between units it
      // lets the workers' messages in (pastWorkersMessages).
      const helping = async () => {
        const mine = () => (this.thisThreadUnits !== undefined ? next < Math.min(this.thisThreadUnits, units.length) : this.ready === 0 && next < units.length);
        while (!settled && mine()) {
          const unit = next++;
          const making = makeUnit(weights, request(unit));
          inThread = making;
          const pieces = await making;
          if (settled) return;
          hashed.push(...pieces);
          unitDone(unit);
          await pastWorkersMessages();
        }
        dispatch();
      };

      // A unit is written: its weights that waited for nothing else are complete, told in order.
      const unitDone = (unit: number) => {
        const { from, to } = units[unit]!;
        for (let i = from; i < to; i++) waitingFor[i]!--;
        flush.wrote(places[unit]!.reduce((sum, p) => sum + p.start + p.bytes - p.padFrom, 0));
        while (current < weights.length && waitingFor[current] === 0) onWeight(current++);
        if (current === weights.length) finish();
      };

      for (const worker of this.workers) {
        const listener = (message: FromWorker) => {
          if (message.type === 'ready') return;
          if (message.type === 'error') {
            finish(new Error(message.message));
            return;
          }
          hashed.push(...message.hashed);
          this.idle.push(worker);
          try {
            unitDone(message.unit);
          } catch (err) {
            // Thrown by onWeight (the import's progress, a cancelled import).
            finish(err instanceof Error ? err : new Error(String(err)));
            return;
          }
          dispatch();
        };
        listeners.set(worker, listener);
        worker.on('message', listener);
      }
      if (weights.length === 0) finish();
      else helping().catch((err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
    });
  }

  /** Ends the workers (after a failure too). */
  async close(): Promise<void> {
    this.failure ??= new Error('the weight pool is closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
