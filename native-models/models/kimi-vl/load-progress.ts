/**
 * What loading an imported model folder reports, and its first phase: the external weight
 * files the manifest lists, read ahead so that onnxruntime's sessions (which report nothing)
 * find them in the page cache.
 */
import { join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import { readJsonFile } from '../../checkpoint/hf-checkpoint.ts';
import { checkWeightFiles, readAhead, readAheadSkipReason, type ReadAheadOptions, type WeightFile } from '../../checkpoint/read-ahead.ts';
import type { Device } from '../../onnx/device.ts';
import { MANIFEST_FILE, type ModelManifest } from './import-checkpoint.ts';

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

/** The folder's manifest, checked to be one this version runs (the first thing a load reads). */
export function readManifest(dir: string): ModelManifest {
  const manifest = readJsonFile(join(dir, MANIFEST_FILE), `${MANIFEST_FILE} (is ${dir} a folder made by \`kestrel model import\`?)`) as ModelManifest;
  if (manifest.format !== 'kestrel-kimi-vl' || manifest.formatVersion !== 1) {
    throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: unsupported format ${manifest.format} v${manifest.formatVersion}; re-run \`kestrel model import\``);
  }
  return manifest;
}

/** The external weight files the manifest lists, text first. */
export function weightFiles(dir: string, manifest: ModelManifest): WeightFile[] {
  const records = [manifest.text.weights, ...(manifest.vision ? [manifest.vision.weights] : [])];
  return records.map((r) => ({ path: join(dir, r.file), bytes: r.bytes }));
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

/** Checks the weight files and reads them ahead (unless that would not help), reporting bytes. */
export async function warmWeights(files: readonly WeightFile[], reporter: LoadReporter, opts: LoadOptions): Promise<void> {
  await checkWeightFiles(files);
  const skip = readAheadSkipReason(reporter.total, opts.readAhead?.memoryBytes);
  if (skip) return reporter.report('weights', skip, true);
  const gb = (reporter.total / 1e9).toFixed(2);
  reporter.report('weights', `reading ${gb} GB of weights`, false, 0);
  await readAhead(files, {
    ...opts.readAhead,
    signal: opts.signal,
    onProgress: (done, _total, file) => reporter.report('weights', file.split(/[\\/]/).pop()!, false, done),
  });
}
