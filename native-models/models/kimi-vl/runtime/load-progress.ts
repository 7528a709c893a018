/**
 * What loading an imported model folder reports, and the parts of a load that are not about
 * one model: the manifest, its weight files, and reading them ahead (so that onnxruntime's
 * sessions, which report nothing, find them in the page cache) with byte counts.
 */
import { basename, join } from 'node:path';
import { readAhead, type ReadAheadOptions, type WeightFile } from '../../../checkpoint/read-ahead.ts';
import type { Device } from '../../../onnx/device.ts';
import type { ModelManifest } from '../manifest.ts';

export interface LoadProgress {
  /** weights: reading the weight files ahead; text, vision: onnxruntime creating that session; ready: done. */
  readonly phase: 'weights' | 'text' | 'vision' | 'ready';
  /** Weight bytes read so far; never goes down, and equals `total` once ready. */
  readonly done: number;
  /** The manifest's weight bytes (text and vision). */
  readonly total: number;
  readonly detail: string;
  /** True when the phase cannot say how far it got (session creation, a skipped read-ahead). */
  readonly indeterminate: boolean;
}

export interface LoadOptions {
  readonly onProgress?: (p: LoadProgress) => void;
  /** Stops the load between chunks and phases; the promise rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly readAhead?: ReadAheadOptions;
}

/** The external weight files the manifest lists. */
export function weightFiles(dir: string, manifest: ModelManifest): { text: WeightFile; vision?: WeightFile } {
  const file = (r: { file: string; bytes: number }) => ({ path: join(dir, r.file), bytes: r.bytes });
  return { text: file(manifest.text.weights), ...(manifest.vision ? { vision: file(manifest.vision.weights) } : {}) };
}

export function describeDevice(device: Device): string {
  return device === 'auto' ? 'the first device that works (CUDA, WebGPU, then CPU)' : device === 'cpu' ? 'the CPU' : device === 'cuda' ? 'CUDA' : 'WebGPU';
}

/** Reports load progress, keeping the byte count from ever going down. */
export class LoadReporter {
  done = 0;

  constructor(
    readonly total: number,
    private readonly onProgress: ((p: LoadProgress) => void) | undefined,
  ) {}

  report(phase: LoadProgress['phase'], detail: string, indeterminate: boolean, done = this.done): void {
    this.done = Math.min(this.total, Math.max(this.done, done));
    this.onProgress?.({ phase, done: this.done, total: this.total, detail, indeterminate });
  }
}

/** Reads `files` ahead, their bytes counted after those already reported. */
export async function readAheadReporting(files: readonly WeightFile[], reporter: LoadReporter, opts: LoadOptions): Promise<void> {
  const before = reporter.done;
  await readAhead(files, {
    ...opts.readAhead,
    signal: opts.signal,
    onProgress: (done, _total, file) => reporter.report('weights', basename(file), false, before + done),
  });
}
