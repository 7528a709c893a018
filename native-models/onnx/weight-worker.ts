/**
 * The worker-thread side of weight-pool.ts: makes the weights of a unit (one weight, the
 * weights of one quantised matrix, or a range of rows of either) from a graph this thread built
 * itself, writes them into the shared data file at the places the main thread worked out, and
 * passes every written chunk to the main thread, which hashes the file in order. Stops producing
 * while the main thread holds more than `budget` bytes of its chunks unhashed, so memory stays
 * bounded whatever runs ahead.
 */
import { writeSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { giveBackBuffer, spansWholeBuffer } from '../checkpoint/buffers.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { encodeChunk, wrongSize } from './model-writer.ts';

/** Where one weight's share of a unit goes in the data file. */
export interface PiecePlace {
  /** Where the padding before it starts (the end of the weight before; `start` when it has none). */
  readonly padFrom: number;
  /** Where its bytes start, and how many the producer must make. */
  readonly start: number;
  readonly bytes: number;
}

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
  /** Each weight's place, in order (weight-pool.ts works them out from the layout). */
  readonly pieces: readonly PiecePlace[];
  readonly fd: number;
}

/** A chunk hashed (its buffer back for reuse) or, kept for later, counted as hashed (`buffer` absent). */
export type ToWorker = UnitRequest | { readonly type: 'credit'; readonly bytes: number; readonly buffer?: ArrayBuffer };

export type FromWorker =
  /** Bytes written at the next position of weight `index`'s piece, in order: padding, then its chunks. */
  | { readonly type: 'chunk'; readonly unit: number; readonly index: number; readonly bytes: Uint8Array }
  | { readonly type: 'piece-done'; readonly unit: number; readonly index: number }
  | { readonly type: 'unit-done'; readonly unit: number }
  | { readonly type: 'error'; readonly message: string };

/** Serves unit requests on `port` until the main thread ends this worker. */
export function serveWeights(port: MessagePort, graphs: (key: string) => GraphBuilder, budget: number): void {
  let outstanding = 0;
  let resume: (() => void) | undefined;
  let queue = Promise.resolve();
  const send = (message: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);

  const roomForMore = (): Promise<void> | undefined =>
    outstanding <= budget ? undefined : new Promise<void>((done) => (resume = done));

  const pass = async (unit: number, index: number, bytes: Uint8Array): Promise<void> => {
    // A chunk that is a whole buffer moves to the main thread without a copy; a view is copied.
    const moved = spansWholeBuffer(bytes) ? bytes : bytes.slice();
    outstanding += moved.byteLength;
    send({ type: 'chunk', unit, index, bytes: moved }, [moved.buffer as ArrayBuffer]);
    await roomForMore();
  };

  const make = async (req: UnitRequest): Promise<void> => {
    const graph = graphs(req.graph);
    const weights = graph.weights;
    if (weights[req.from]?.name !== req.first) {
      throw new Error(`the worker's ${req.graph} graph has ${weights[req.from]?.name ?? 'nothing'} at weight ${req.from}, the main thread's has ${req.first}`);
    }
    for (let index = req.from; index < req.to; index++) {
      const spec = weights[index]!;
      const { padFrom, start, bytes: expected } = req.pieces[index - req.from]!;
      const part = req.rows ? { rows: req.rows, expected } : undefined;
      let position = padFrom;
      const write = async (bytes: Uint8Array) => {
        let done = 0;
        while (done < bytes.length) done += writeSync(req.fd, bytes, done, bytes.length - done, position + done);
        position += bytes.length;
        await pass(req.unit, index, bytes);
      };
      if (start > position) await write(new Uint8Array(start - position));
      const chunks = req.rows ? spec.rows!(req.rows[0], req.rows[1]) : spec.produce();
      for await (const chunk of chunks) {
        const bytes = encodeChunk(spec, chunk);
        // Never past the end: the bytes after belong to another worker's unit.
        if (position + bytes.length - start > expected) throw wrongSize(spec, position + bytes.length - start, part);
        await write(bytes);
      }
      if (position - start !== expected) throw wrongSize(spec, position - start, part);
      send({ type: 'piece-done', unit: req.unit, index });
    }
    send({ type: 'unit-done', unit: req.unit });
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'credit') {
      outstanding -= message.bytes;
      if (message.buffer) giveBackBuffer(message.buffer);
      if (outstanding <= budget && resume) {
        const go = resume;
        resume = undefined;
        go();
      }
      return;
    }
    // Units run one at a time, in the order they were given.
    queue = queue.then(() => make(message)).catch((err: unknown) => send({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
  });
}
