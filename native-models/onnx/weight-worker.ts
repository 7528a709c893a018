/**
 * The worker-thread side of weight-pool.ts: makes the weights of a unit (one weight, or the
 * weights of one quantised matrix) from a graph this thread built itself, writes them into the
 * shared data file at their offsets, and passes every written chunk to the main thread, which
 * hashes the file in order. Stops producing while the main thread holds more than `budget`
 * bytes of its chunks unhashed, so memory stays bounded whatever runs ahead.
 */
import { writeSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import { giveBackBuffer } from '../checkpoint/buffers.ts';
import type { GraphBuilder } from './graph-builder.ts';
import { encodeChunk, weightBytes, wrongSize } from './model-writer.ts';

/** A unit to make: weights [from, to) of the graph `graph`, the first of them named `first`. */
export interface UnitRequest {
  readonly type: 'unit';
  readonly graph: string;
  readonly unit: number;
  readonly from: number;
  readonly to: number;
  /** Only rows [a, b) of the first dimension of the one weight (its `rows` producer). */
  readonly rows?: readonly [number, number];
  readonly first: string;
  /** Where the unit's bytes start (the end of the weight before it, or of the rows before), and each weight's offset. */
  readonly start: number;
  readonly offsets: readonly number[];
  readonly fd: number;
}

/** A chunk hashed: its bytes no longer count against the budget, and its buffer comes back for reuse. */
export type ToWorker = UnitRequest | { readonly type: 'credit'; readonly buffer: ArrayBuffer };

export type FromWorker =
  /** Bytes written at the unit's next position, in order: padding, then each weight's chunks. */
  | { readonly type: 'chunk'; readonly unit: number; readonly bytes: Uint8Array }
  | { readonly type: 'weight'; readonly unit: number; readonly index: number }
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

  const pass = async (unit: number, bytes: Uint8Array): Promise<void> => {
    // A chunk that is a whole buffer moves to the main thread without a copy; a view is copied.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
    const moved = whole ? bytes : bytes.slice();
    outstanding += moved.byteLength;
    send({ type: 'chunk', unit, bytes: moved }, [moved.buffer as ArrayBuffer]);
    await roomForMore();
  };

  const make = async (req: UnitRequest): Promise<void> => {
    const graph = graphs(req.graph);
    const weights = graph.weights;
    if (weights[req.from]?.name !== req.first) {
      throw new Error(`the worker's ${req.graph} graph has ${weights[req.from]?.name ?? 'nothing'} at weight ${req.from}, the main thread's has ${req.first}`);
    }
    let position = req.start;
    const write = async (bytes: Uint8Array) => {
      let done = 0;
      while (done < bytes.length) done += writeSync(req.fd, bytes, done, bytes.length - done, position + done);
      position += bytes.length;
      await pass(req.unit, bytes);
    };
    for (let index = req.from; index < req.to; index++) {
      const spec = weights[index]!;
      const rows = spec.dims[0] ?? 1;
      const [a, b] = req.rows ?? [0, rows];
      const rowBytes = weightBytes(spec) / rows;
      const begin = req.offsets[index - req.from]! + a * rowBytes;
      const expected = (b - a) * rowBytes;
      if (begin > position) await write(new Uint8Array(begin - position));
      const chunks = req.rows ? spec.rows!(a, b) : spec.produce();
      for await (const chunk of chunks) {
        const bytes = encodeChunk(spec, chunk);
        // Never past the end: the bytes after belong to another worker's unit.
        if (position + bytes.length - begin > expected) throw wrongSize(spec, position + bytes.length - begin, req.rows);
        await write(bytes);
      }
      if (position - begin !== expected) throw wrongSize(spec, position - begin, req.rows);
      if (b === rows) send({ type: 'weight', unit: req.unit, index });
    }
    send({ type: 'unit-done', unit: req.unit });
  };

  port.on('message', (message: ToWorker) => {
    if (message.type === 'credit') {
      outstanding -= message.buffer.byteLength;
      giveBackBuffer(message.buffer);
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
