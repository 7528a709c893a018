/**
 * Makes a graph's weights in worker threads: reading, converting and quantising run in several
 * workers at once, each writing its bytes straight into the data file at their planned offsets,
 * while this thread hashes the file in order as the chunks come back. The layout and the bytes
 * are those of the single-threaded writer (model-writer.ts); only who makes them differs.
 *
 * Each worker builds the same graph itself (weight producers are closures over the checkpoint
 * and cannot cross threads), so the pool only says which weights to make. Work goes out in
 * units — one weight, or the weights one quantised matrix shares — to whichever worker is
 * free, in order; a worker holds back once `budget` bytes of its chunks wait to be hashed.
 */
import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { WeightSpec } from './graph-builder.ts';
import { backgroundFlush, weightBytes, type DataLayout, type WeightsWriter } from './model-writer.ts';
import type { FromWorker, ToWorker } from './weight-worker.ts';

/** What one worker makes at a time: weights [from, to), or rows [a, b) of one weight. */
export interface WeightUnit {
  readonly from: number;
  to: number;
  readonly rows?: readonly [number, number];
}

/** The size of the parts a weight that can make its own rows is cut into. */
export const PART_BYTES = 64 * 2 ** 20;

/**
 * The units of work, in file order: the weights sharing a `group` together, a weight larger
 * than `partBytes` that can make a range of its rows cut into parts of about that size, any
 * other weight alone.
 */
export function weightUnits(weights: readonly WeightSpec[], partBytes = PART_BYTES): WeightUnit[] {
  const units: WeightUnit[] = [];
  for (let i = 0; i < weights.length; i++) {
    const spec = weights[i]!;
    const last = units.at(-1);
    const rows = spec.dims[0] ?? 1;
    const bytes = weightBytes(spec);
    if (last && spec.group !== undefined && weights[last.from]!.group === spec.group) {
      last.to = i + 1;
    } else if (spec.rows && bytes > partBytes && rows > 1) {
      const perPart = Math.max(1, Math.floor(partBytes / (bytes / rows)));
      for (let a = 0; a < rows; a += perPart) units.push({ from: i, to: i + 1, rows: [a, Math.min(rows, a + perPart)] });
    } else {
      units.push({ from: i, to: i + 1 });
    }
  }
  return units;
}

/**
 * Starts a worker thread on a module. A TypeScript module (the CLI and the tests run the sources)
 * gets tsx's loader registered inside the worker first: Node gives a worker neither the parent's
 * loader hooks nor `--import` flags. A bundled build passes the built `.js` file instead.
 */
export function startModuleWorker(module: URL, workerData: unknown): Worker {
  if (!module.pathname.endsWith('.ts')) return new Worker(module, { workerData });
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(module.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

interface Pending {
  readonly worker: Worker;
  /** Messages about this unit, kept until it is the one being hashed. */
  readonly events: FromWorker[];
  done: boolean;
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
  static start(module: URL, workerData: unknown, count: number, opts: { partBytes?: number } = {}): WeightPool {
    if (!Number.isInteger(count) || count < 1) throw new Error(`a weight pool needs at least one worker, got ${count}`);
    return new WeightPool(Array.from({ length: count }, () => startModuleWorker(module, workerData)), opts.partBytes ?? PART_BYTES);
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
    const hash = createHash('sha256');
    const flush = backgroundFlush(fd);
    const pending = new Map<number, Pending>();
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
          pending.set(next, { worker, events: [], done: false });
          const spec = weights[from]!;
          // A part after the first starts where the rows before it end; anything else after the
          // weight before it, with the padding up to its own offset.
          const start = rows && rows[0] > 0
            ? layout.offsets[from]! + rows[0] * (weightBytes(spec) / spec.dims[0]!)
            : from === 0 ? 0 : layout.offsets[from - 1]! + weightBytes(weights[from - 1]!);
          const request: ToWorker = { type: 'unit', graph, unit: next, from, to, ...(rows ? { rows } : {}), first: spec.name, start, offsets: layout.offsets.slice(from, to), fd };
          worker.postMessage(request);
          next++;
        }
      };

      // Hashes the current unit's chunks in order, then moves on to the next unit.
      const drain = () => {
        for (;;) {
          const unit = pending.get(current);
          if (!unit) break;
          for (const event of unit.events.splice(0)) {
            if (event.type === 'chunk') {
              hash.update(event.bytes);
              flush.wrote(event.bytes.byteLength);
              const credit: ToWorker = { type: 'credit', buffer: event.bytes.buffer as ArrayBuffer };
              unit.worker.postMessage(credit, [credit.buffer]);
            } else if (event.type === 'weight') {
              onWeight(event.index);
            }
          }
          if (!unit.done) break;
          pending.delete(current);
          current++;
        }
        if (current === units.length) finish();
      };

      for (const worker of this.workers) {
        const listener = (message: FromWorker) => {
          if (message.type === 'error') {
            finish(new Error(message.message));
            return;
          }
          const unit = pending.get(message.unit)!;
          unit.events.push(message);
          if (message.type === 'unit-done') {
            unit.done = true;
            this.idle.push(worker);
            dispatch();
          }
          if (message.unit === current) {
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
