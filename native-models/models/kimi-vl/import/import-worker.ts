/**
 * A worker thread of a parallel import (import-checkpoint.ts). As a weight worker it opens the
 * checkpoint itself, builds the same graphs as the main thread (import-graphs.ts) and makes the
 * units of weights the pool asks for (weight-worker.ts); as the hash worker it hashes the
 * checkpoint's files while the weights are being made.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { hashFile } from '../../../checkpoint/file-hash.ts';
import { HfCheckpoint } from '../../../checkpoint/hf-checkpoint.ts';
import type { GraphBuilder } from '../../../onnx/graph-builder.ts';
import { serveWeights } from '../../../onnx/weight-worker.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { buildImportGraph, type ImportGraph } from './import-graphs.ts';

export type ImportWorkerData =
  | {
      readonly role: 'weights';
      readonly source: string;
      readonly config: KimiVLConfig;
      /** The graphs by the names the pool uses for them. */
      readonly graphs: Readonly<Record<string, ImportGraph>>;
      /** Bytes of this worker's chunks the main thread may hold unhashed before it waits. */
      readonly budget: number;
    }
  /** Posts each file's FileRecord, in order. */
  | { readonly role: 'hash'; readonly files: readonly string[] };

const data = workerData as ImportWorkerData;
const port = parentPort!;
if (data.role === 'weights') {
  const ckpt = HfCheckpoint.open(data.source);
  const built = new Map<string, GraphBuilder>();
  serveWeights(
    port,
    (key) => {
      if (!Object.hasOwn(data.graphs, key)) throw new Error(`the import worker knows no graph named ${key}`);
      let graph = built.get(key);
      if (!graph) built.set(key, (graph = buildImportGraph(ckpt, data.config, data.graphs[key]!)));
      return graph;
    },
    data.budget,
  );
} else {
  for (const file of data.files) port.postMessage(await hashFile(file));
}
