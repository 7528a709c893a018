/**
 * The worker-thread side of weight-pool.ts: makes the weights of a unit (one weight, the
 * weights of one quantised matrix, or a range of rows of either) from a graph this thread built
 * itself, writes them into the shared data file at the places the main thread worked out, and
 * hashes them as it writes them, piece by piece (piece-hashes.ts). The main thread receives only
 * the pieces' SHA-256s: no chunk crosses threads, so each chunk's memory is reused here for the
 * next read (no page faults for new memory) and no thread hashes the whole file alone.
 */
import type { MessagePort } from 'node:worker_threads';
import type { PiecePlace } from './data-layout.ts';
import type { GraphBuilder, WeightSpec } from './graph-builder.ts';
import { encodeChunk, spendChunk, writeAll, wrongSize } from './model-writer.ts';
import { PieceHasher, type HashedPiece } from './piece-hashes.ts';

/**
 * A unit to make: weights [from, to) of the graph `graph`, the first of them named `first` — all
 * of each, or only rows [a, b) of each (one weight's first dimension, or a group's rows).
 */
export interface UnitRequest {
  readonly type: 'unit';
  readonly graph: string;
  readonly unit: number;
  readonly from: number;
  readonly to: number;
  readonly rows?: readonly [number, number];
  readonly first: string;
  /** Each weight's place, in order (data-layout.ts unitPlaces). */
  readonly pieces: readonly PiecePlace[];
  readonly fd: number;
}

export type ToWorker = UnitRequest;

export type FromWorker =
  /** The worker is ready for units (its modules loaded, its graphs built); a pool's own thread makes units until one is. */
  | { readonly type: 'ready' }
  /** The unit is written; the SHA-256s of the runs of bytes it wrote (one, unless its weights lie apart). */
  | { readonly type: 'unit-done'; readonly unit: number; readonly hashed: readonly HashedPiece[] }
  /** A unit failed, or, sent instead of ready, the worker could not start serving. */
  | { readonly type: 'error'; readonly message: string };

/**
 * Makes the unit `req` of `weights` (a graph's, built by this thread), writes it at its places in
 * the data file and returns the SHA-256s of the runs of bytes it wrote. Worker threads call it,
 * and the pool's own thread while the workers start (weight-pool.ts).
 */
export async function makeUnit(weights: readonly WeightSpec[], req: Omit<UnitRequest, 'type'>): Promise<HashedPiece[]> {
  if (weights[req.from]?.name !== req.first) {
    throw new Error(`this thread's ${req.graph} graph has ${weights[req.from]?.name ?? 'nothing'} at weight ${req.from}, the pool's plan has ${req.first}`);
  }
  const hasher = new PieceHasher();
  for (let index = req.from; index < req.to; index++) {
    const spec = weights[index]!;
    const { padFrom, start, bytes: expected } = req.pieces[index - req.from]!;
    const part = req.rows ? { rows: req.rows, expected } : undefined;
    let position = padFrom;
    hasher.at(position);
    const write = (bytes: Uint8Array) => {
      writeAll(req.fd, bytes, position);
      hasher.update(bytes);
      position += bytes.length;
    };
    if (start > position) write(new Uint8Array(start - position));
    const chunks = req.rows ? spec.rows!(req.rows[0], req.rows[1]) : spec.produce();
    for await (const chunk of chunks) {
      const bytes = encodeChunk(spec, chunk);
      // Never past the end: the bytes after belong to another worker's unit.
      if (position + bytes.length - start > expected) throw wrongSize(spec, position + bytes.length - start, part);
      write(bytes);
      spendChunk(chunk, bytes);
    }
    if (position - start !== expected) throw wrongSize(spec, position - start, part);
  }
  return hasher.finish();
}

/**
 * Serves unit requests on `port` until the main thread ends this worker; tells it first that it is
 * ready. The graphs named in `prepare` are built before that (building one also sets up what its
 * weights run on, such as this thread's WebAssembly kernels), so that the pool's own thread goes on
 * making units meanwhile and a worker's first unit no longer waits for them; one that cannot be
 * built is told instead of ready, which fails the pool.
 */
export function serveWeights(port: MessagePort, graphs: (key: string) => GraphBuilder, opts: { prepare?: readonly string[] } = {}): void {
  let queue = Promise.resolve();
  const send = (message: FromWorker) => port.postMessage(message);
  try {
    for (const key of opts.prepare ?? []) graphs(key);
  } catch (err) {
    send({ type: 'error', message: err instanceof Error ? err.message : String(err) });
    return;
  }

  const make = async (req: UnitRequest): Promise<void> => {
    send({ type: 'unit-done', unit: req.unit, hashed: await makeUnit(graphs(req.graph).weights, req) });
  };

  port.on('message', (message: ToWorker) => {
    // Units run one at a time, in the order they were given.
    queue = queue.then(() => make(message)).catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  });
  send({ type: 'ready' });
}
