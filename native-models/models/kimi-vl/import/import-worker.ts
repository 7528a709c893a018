/**
 * A worker thread of a parallel import (import-checkpoint.ts). As a weight worker it opens the
 * checkpoint itself, builds the same graphs as the main thread (import-graphs.ts) and makes the
 * units of weights the pool asks for (weight-worker.ts); as the hash worker it hashes the
 * checkpoint's files while the weights are being made.
 *
 * Each role loads only its own modules: the hash worker has none of the graph code to load and
 * compile (about half a second of a core when the sources run through tsx, as the CLI does),
 * which it would take from the weight workers on a two-core machine.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { KimiVLConfig } from '../configuration.ts';
import type { ImportGraph } from './import-graphs.ts';

export type ImportWorkerData =
  | {
      readonly role: 'weights';
      readonly source: string;
      readonly config: KimiVLConfig;
      /** The graphs by the names the pool uses for them. */
      readonly graphs: Readonly<Record<string, ImportGraph>>;
    }
  /** Posts each file's FileRecord, in order. */
  | { readonly role: 'hash'; readonly files: readonly string[] };

const data = workerData as ImportWorkerData;
const port = parentPort!;
if (data.role === 'weights') {
  const [{ HfCheckpoint }, { serveWeights }, { buildImportGraph }] = await Promise.all([
    import('../../../checkpoint/hf-checkpoint.ts'),
    import('../../../onnx/weight-worker.ts'),
    import('./import-graphs.ts'),
  ]);
  const ckpt = HfCheckpoint.open(data.source);
  const built = new Map<string, ReturnType<typeof buildImportGraph>>();
  // Both graphs are built before the worker says it is ready (serveWeights): the main thread
  // makes units meanwhile, and the first units here start at once.
  const graphs = (key: string) => {
    if (!Object.hasOwn(data.graphs, key)) throw new Error(`the import worker knows no graph named ${key}`);
    let graph = built.get(key);
    if (!graph) built.set(key, (graph = buildImportGraph(ckpt, data.config, data.graphs[key]!)));
    return graph;
  };
  serveWeights(port, graphs, { prepare: Object.keys(data.graphs) });
} else {
  const { hashFile } = await import('../../../checkpoint/file-hash.ts');
  for (const file of data.files) port.postMessage(await hashFile(file));
}
