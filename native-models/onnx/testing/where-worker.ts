/**
 * A worker for worker-bundle.test.ts that posts where its code runs from: its first stack frame,
 * which names the TypeScript source when tsx compiled it, the cached bundle when it started from one.
 */
import { parentPort } from 'node:worker_threads';

parentPort!.postMessage(new Error().stack?.split('\n')[1]?.trim());
