/**
 * A weight worker for weight-pool.test.ts: serves the test graph (pool-graph.ts), as the
 * import's worker serves the Kimi-VL graphs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serveWeights } from '../weight-worker.ts';
import { poolTestGraph, type PoolTestGraph } from './pool-graph.ts';

const data = workerData as { graph: PoolTestGraph };
serveWeights(parentPort!, () => poolTestGraph(data.graph), { prepare: ['test'] });
