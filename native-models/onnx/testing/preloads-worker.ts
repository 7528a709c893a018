/**
 * A worker for worker-bundle.test.ts that posts which preloads ran in its thread: the names a
 * preload module (the test's) pushed onto a global, and the flags Node gave the thread.
 */
import { parentPort } from 'node:worker_threads';

const ran = (globalThis as { preloadsRan?: string[] }).preloadsRan ?? [];
parentPort!.postMessage({ ran, execArgv: process.execArgv });
