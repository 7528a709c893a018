/**
 * Makes a graph's weights in worker threads: reading, converting and quantising run in several
 * workers at once, each writing its bytes straight into the data file at their planned offsets,
 * while this thread hashes the file in order as the chunks come back. The layout and the bytes
 * are those of the single-threaded writer (model-writer.ts); only who makes them differs.
 *
 * Each worker builds the same graph itself (weight producers are closures over the checkpoint
 * and cannot cross threads), so the pool only says which weights to make. Work goes out in
 * units — one weight, or the weights one quantised matrix shares, or a range of rows of either
 * when it is large (an int4 embedding or lm_head is two thirds of a mid-size model's values) —
 * to whichever worker is free, in order; a worker holds back once `budget` bytes of its chunks
 * wait to be hashed.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { WeightSpec } from './graph-builder.ts';
import { backgroundFlush, rowBytes, weightBytes, type DataLayout, type WeightsWriter } from './model-writer.ts';
import type { FromWorker, ToWorker } from './weight-worker.ts';
import { workerBundle } from './worker-bundle.ts';

/** What one worker makes at a time: weights [from, to), all of each or only rows [a, b) of each. */
export interface WeightUnit {
  readonly from: number;
  readonly to: number;
  readonly rows?: readonly [number, number];
}

/** The size of the parts a weight (or a group) that can make its own rows is cut into. */
export const PART_BYTES = 16 * 2 ** 20;

/**
 * The units of work, in file order: the weights sharing a `group` together, any other weight
 * alone; a unit larger than `partBytes` whose weights can all make a range of their rows is cut
 * into parts of about that size. A group's rows are its first weight's first dimension (a
 * quantised matrix's rows), each of its weights holding the same share of every row.
 */
export function weightUnits(weights: readonly WeightSpec[], partBytes = PART_BYTES): WeightUnit[] {
  const units: WeightUnit[] = [];
  for (let from = 0; from < weights.length; ) {
    const group = weights[from]!.group;
    let to = from + 1;
    while (group !== undefined && to < weights.length && weights[to]!.group === group) to++;
    const span = weights.slice(from, to);
    const rows = span[0]!.dims[0] ?? 1;
    const bytes = span.reduce((sum, spec) => sum + weightBytes(spec), 0);
    if (rows > 1 && bytes > partBytes && span.every((spec) => spec.rows && Number.isInteger(rowBytes(spec, rows)))) {
      const perPart = Math.max(1, Math.floor(partBytes / (bytes / rows)));
      for (let a = 0; a < rows; a += perPart) units.push({ from, to, rows: [a, Math.min(rows, a + perPart)] });
    } else {
      units.push({ from, to });
    }
    from = to;
  }
  return units;
}

/** One weight's share of a unit: what the main thread hashes in file order (by weight, then by row). */
interface Piece {
  readonly unit: number;
  readonly index: number;
  /** Whether it ends its weight (the weight is then complete once it is hashed). */
  readonly last: boolean;
  readonly chunks: { readonly bytes: Uint8Array; readonly credited: boolean }[];
  done: boolean;
}

/** Each unit's pieces in file order, and where each goes (what the worker is told). */
function planPieces(weights: readonly WeightSpec[], layout: DataLayout, units: readonly WeightUnit[]) {
  const end = (index: number) => (index < 0 ? 0 : layout.offsets[index]! + weightBytes(weights[index]!));
  const places = units.map(({ from, to, rows }) =>
    weights.slice(from, to).map((spec, i) => {
      const index = from + i;
      if (!rows) return { padFrom: end(index - 1), start: layout.offsets[index]!, bytes: weightBytes(spec) };
      const row = rowBytes(spec, weights[from]!.dims[0]);
      const start = layout.offsets[index]! + rows[0] * row;
      // Only a weight's first part carries the padding before it.
      return { padFrom: rows[0] === 0 ? end(index - 1) : start, start, bytes: (rows[1] - rows[0]) * row };
    }),
  );
  const pieces: Piece[] = units.flatMap(({ from, to, rows }, unit) =>
    Array.from({ length: to - from }, (_, i) => ({ unit, index: from + i, last: !rows || rows[1] === weights[from]!.dims[0], chunks: [], done: false })),
  );
  // Stable: a weight's parts stay in row order.
  pieces.sort((p, q) => p.index - q.index);
  return { places, pieces };
}

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

export class WeightPool {
  private readonly idle: Worker[];
  private failure: Error | undefined;
  /** Writes in progress, told when a worker fails. */
  private readonly waiting = new Set<(err: Error) => void>();

  private constructor(
    private readonly workers: readonly Worker[],
    private readonly partBytes: number,
  ) {
    this.idle = [...workers];
    for (const worker of workers) {
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => this.fail(new Error(`a weight worker stopped (exit code ${code})`)));
    }
  }

  /** `count` workers on `module`, which calls serveWeights (weight-worker.ts) with `workerData`. */
  static async start(module: URL, workerData: unknown, count: number, opts: { partBytes?: number; from?: WorkerForm } = {}): Promise<WeightPool> {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a weight pool needs at least one worker, got ${count}`);
    const form = opts.from ? { from: opts.from } : {};
    const workers = await Promise.all(Array.from({ length: count }, () => startModuleWorker(module, workerData, form)));
    return new WeightPool(workers, opts.partBytes ?? PART_BYTES);
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

  private write(graph: string, weights: readonly WeightSpec[], layout: DataLayout, fd: number, onWeight: (index: number) => void): Promise<{ sha256: string }> {
    if (this.failure) return Promise.reject(this.failure);
    const units = weightUnits(weights, this.partBytes);
    const { places, pieces } = planPieces(weights, layout, units);
    const pieceOf = new Map(pieces.map((p) => [`${p.unit}/${p.index}`, p]));
    const workerOf = new Map<number, Worker>();
    const hash = createHash('sha256');
    const flush = backgroundFlush(fd);
    let next = 0;
    let current = 0;

    return new Promise<{ sha256: string }>((resolve, reject) => {
      const listeners = new Map<Worker, (m: FromWorker) => void>();
      let settled = false;
      const finish = (err?: Error) => {
        if (settled) return;
        settled = true;
        for (const [worker, listener] of listeners) worker.off('message', listener);
        this.waiting.delete(finish);
        if (!err) {
          void flush.settled().then(() => resolve({ sha256: hash.digest('hex') }));
          return;
        }
        // The other workers may be writing into the data file: they are stopped before the
        // caller closes it (its descriptor could otherwise be reused by another file), and the
        // background flush is waited for.
        const rejectWith = () => void flush.settled().then(() => reject(err));
        this.close().then(rejectWith, rejectWith);
      };
      this.waiting.add(finish);

      const dispatch = () => {
        while (next < units.length && this.idle.length > 0) {
          const { from, to, rows } = units[next]!;
          const worker = this.idle.shift()!;
          workerOf.set(next, worker);
          const request: ToWorker = { type: 'unit', graph, unit: next, from, to, ...(rows ? { rows } : {}), first: weights[from]!.name, pieces: places[next]!, fd };
          worker.postMessage(request);
          next++;
        }
      };

      const credit = (worker: Worker, bytes: Uint8Array, giveBack: boolean) => {
        const message: ToWorker = giveBack ? { type: 'credit', bytes: bytes.byteLength, buffer: bytes.buffer as ArrayBuffer } : { type: 'credit', bytes: bytes.byteLength };
        worker.postMessage(message, giveBack ? [bytes.buffer as ArrayBuffer] : []);
      };

      // Hashes the pieces' chunks in file order, telling each weight once its last piece is hashed.
      const drain = () => {
        for (let piece = pieces[current]; piece; piece = pieces[current]) {
          for (const chunk of piece.chunks.splice(0)) {
            hash.update(chunk.bytes);
            flush.wrote(chunk.bytes.byteLength);
            if (!chunk.credited) credit(workerOf.get(piece.unit)!, chunk.bytes, true);
          }
          if (!piece.done) break;
          if (piece.last) onWeight(piece.index);
          current++;
        }
        if (current === pieces.length) finish();
      };

      for (const worker of this.workers) {
        const listener = (message: FromWorker) => {
          if (message.type === 'error') {
            finish(new Error(message.message));
            return;
          }
          if (message.type === 'unit-done') {
            this.idle.push(worker);
            dispatch();
            return;
          }
          const piece = pieceOf.get(`${message.unit}/${message.index}`)!;
          if (message.type === 'piece-done') {
            piece.done = true;
          } else {
            // The later weights of a group cut into parts wait for all of the first weight's
            // parts: counted as hashed at once, so that a worker never waits for a piece that
            // only it can make. They are a small share of the group (a quantised matrix's scales
            // and zero points), which one thread would hold whole.
            const early = units[message.unit]!.rows !== undefined && message.index > units[message.unit]!.from && piece !== pieces[current];
            if (early) credit(worker, message.bytes, false);
            piece.chunks.push({ bytes: message.bytes, credited: early });
          }
          if (piece === pieces[current]) {
            try {
              drain();
            } catch (err) {
              // Thrown by onWeight (the import's progress, a cancelled import).
              finish(err instanceof Error ? err : new Error(String(err)));
            }
          }
        };
        listeners.set(worker, listener);
        worker.on('message', listener);
      }
      dispatch();
      if (units.length === 0) finish();
    });
  }

  /** Ends the workers (after a failure too). */
  async close(): Promise<void> {
    this.failure ??= new Error('the weight pool is closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
