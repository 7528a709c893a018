/**
 * `kestrel model import`: turns a Hugging Face Kimi-VL folder into a Kestrel model folder —
 * the language model and the vision tower + projector as ONNX with external weights, the
 * tokenizer, template and preprocessor files, and a
 * manifest recording what was built, from which checkpoint, with checksums. Streams tensor by
 * tensor (one expert at a time for MoE layers), so memory stays flat whatever the model size.
 *
 * Weights are read, converted and quantised by worker threads (import-worker.ts), which write
 * them at their places in the data files and hash them in pieces as they write (the manifest
 * records the pieces' SHA-256s: onnx/piece-hashes.ts): reading, converting, writing and hashing
 * overlap. The checkpoint's shards are identified by their
 * Hugging Face cache names or their size and time unless `hashSource` asks for their SHA-256
 * (source-files.ts); another worker then hashes them meanwhile. `workers: 0` makes everything on
 * this thread; the files are the same byte for byte, and so are their pieces' records.
 */
import { copyFile } from 'node:fs/promises';
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { CheckpointError } from '../../../checkpoint/errors.ts';
import { freeBytes } from '../../../checkpoint/disk-space.ts';
import { hashFile, type FileRecord } from '../../../checkpoint/file-hash.ts';
import { hashedSourceRecord, planSourceFile, type SourceFileRecord } from '../../../checkpoint/source-files.ts';
import { HfCheckpoint, readJsonFile } from '../../../checkpoint/hf-checkpoint.ts';
import { probeGpuDevices } from '../../../onnx/backend.ts';
import type { Device } from '../../../onnx/device.ts';
import { inThisThread, writeModel } from '../../../onnx/model-writer.ts';
import { DEFAULT_INT4_ACCURACY_LEVEL, type Int4AccuracyLevel } from '../../../quantization/matmul-nbits.ts';
import { startModuleWorker, WeightPool } from '../../../onnx/weight-pool.ts';
import { parseKimiVLConfig, type KimiVLConfig } from '../configuration.ts';
import { cacheWidth, defaultCacheType, type CacheType, type Int4ExpertForm } from '../graphs/modeling-text.ts';
import { checkVisionTensors, VISION_MODEL_NAME, writeVisionModel } from './import-vision.ts';
import { buildImportGraph, type ImportGraph } from './import-graphs.ts';
import type { ImportWorkerData } from './import-worker.ts';
import { checkOutputFolder, claimOutputFolder, ImportCancelledError, type ClaimedFolder } from '../../../checkpoint/output-folder.ts';
import { textTensorShapes } from '../graphs/tensor-names.ts';
import { KimiTokenizer, TIKTOKEN_FILE, TOKENIZER_CONFIG_FILE } from '../processing/tokenization.ts';
import { ChatTemplate } from '../processing/chat-template.ts';
import { choosePrecision, formatBytes, type ImportPrecision, type PrecisionChoice } from '../precision.ts';
import { estimateWeights, type WeightsEstimate } from './weights-size.ts';
import { MANIFEST_FILE, type ModelManifest } from '../manifest.ts';
import { visionWeightsFor } from '../graphs/modeling-vision.ts';

export const TEXT_MODEL_NAME = 'text-model';
const COPIED_FILES = ['config.json', TIKTOKEN_FILE, TOKENIZER_CONFIG_FILE, 'chat_template.jinja', 'chat_template.json', 'generation_config.json', 'preprocessor_config.json'];

/**
 * The import's worker module: the TypeScript source beside this file, or, in the desktop app's
 * bundle, the entry electron.vite.config.ts builds beside the bundle's chunks.
 */
const IMPORT_WORKER = new URL(import.meta.url.endsWith('.ts') ? './import-worker.ts' : './import-worker.js', import.meta.url);

/**
 * Weight workers when none are asked for: one per core, at most 4 (each holds its own graph,
 * buffers and WebAssembly memory, and one data file's writes take its lock in turn; the workers
 * hash what they write, so this thread is no longer the limit, but more than 2 were never
 * measured here), for a checkpoint of 512 MB or more; a smaller one is converted in less time
 * than the threads take to start.
 */
export function defaultImportWorkers(checkpointBytes: number): number {
  return checkpointBytes < 512 * 2 ** 20 ? 0 : Math.min(4, availableParallelism());
}

export interface ImportProgress {
  readonly phase: 'checking' | 'converting' | 'hashing';
  readonly done: number;
  readonly total: number;
  readonly detail: string;
}

/** What an import will write, decided before it writes anything. */
export interface ImportPlan {
  readonly precision: PrecisionChoice;
  readonly weights: WeightsEstimate;
  /** fp16 for a GPU (half of what crosses to CUDA each step, half the WebGPU memory), else the precision's own. */
  readonly cacheType: CacheType;
}

export interface ImportOptions {
  readonly source: string;
  readonly out: string;
  /**
   * `auto` chooses for `device` (precision.ts: int4 on every device); the default here is fp32,
   * the reference, which the tests compare with. The CLI and the app ask for `auto` by default.
   */
  readonly precision?: ImportPrecision;
  /** The device the model is for, which `auto` precision follows (default `cpu`). */
  readonly device?: Device;
  /** Told the chosen precision and the sizes once they are known, before any weight is read. */
  readonly onPlan?: (plan: ImportPlan) => void;
  /** The KV cache's element type; `auto` (default): fp16 for a GPU or an fp16 model, else fp32. */
  readonly cacheType?: CacheType | 'auto';
  readonly onProgress?: (p: ImportProgress) => void;
  /** Intermediate values (graph node names such as `layers.0.output`) to expose as extra outputs. */
  readonly debugOutputs?: readonly string[];
  /** int4 only: MatMulNBits' accuracy level (default 4 for the CPU, 0 for a GPU; 0 computes in fp32). */
  readonly int4AccuracyLevel?: Int4AccuracyLevel;
  /** Tests only: from how many new tokens attention takes MLA's decompressed form (TextGraphOptions). */
  readonly decompressedFrom?: number;
  /**
   * Hash every checkpoint shard (and check a Hugging Face cache blob against its name). Default
   * off: a shard's SHA-256 is then its cache blob's name where it has one, else its size and
   * modification time are recorded (source-files.ts).
   */
  readonly hashSource?: boolean;
  /** Threads making the weights (default `defaultImportWorkers`); 0 makes them on this thread. */
  readonly workers?: number;
  /** Tests only: the size of the parts the workers make of a large weight (weight-pool.ts PART_BYTES). */
  readonly partBytes?: number;
  /** Tests only: this thread makes exactly the first units of each graph (weight-pool.ts), not just while the workers start. */
  readonly thisThreadUnits?: number;
  /** Cancels the import (ImportCancelledError); what it wrote is removed. */
  readonly signal?: AbortSignal;
  /** One-line notes for the person: an interrupted import taken over, an earlier one replaced. */
  readonly onNote?: (note: string) => void;
  /**
   * Tests only, not a feature: awaited once the language model's files are written, before the
   * vision tower's, so that a test can hold an import under way for as long as it needs (to
   * cancel it from the UI) whatever the machine's speed. Absent, the import never waits there.
   */
  readonly testOnlyHold?: (point: ImportHoldPoint) => Promise<void>;
}

/** Where an import awaits `testOnlyHold`. */
export type ImportHoldPoint = 'text written';

/**
 * Hashes the files in a worker thread, starting now: their records in order, and how many are
 * done. `signal` stops the worker, which fails `records`.
 */
async function hashInWorker(files: readonly string[], signal?: AbortSignal): Promise<{ records: Promise<FileRecord[]>; done: () => number; stop: () => Promise<number> }> {
  const data: ImportWorkerData = { role: 'hash', files };
  const worker = await startModuleWorker(IMPORT_WORKER, data);
  const records: FileRecord[] = [];
  const all = new Promise<FileRecord[]>((resolve, reject) => {
    worker.on('message', (record: FileRecord) => {
      records.push(record);
      if (records.length === files.length) resolve(records);
    });
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the checkpoint hashing worker stopped (exit code ${code})`)));
  });
  all.catch(() => undefined); // awaited later, or abandoned when the import fails first
  if (signal?.aborted) void worker.terminate();
  else signal?.addEventListener('abort', () => void worker.terminate(), { once: true });
  return { records: all, done: () => records.length, stop: () => worker.terminate() };
}

/**
 * Copies the files an import takes as they are (config, tokenizer, templates) from `source` into
 * `out`, off this thread, and hashes the copies; their records in COPIED_FILES' order.
 */
async function copyFiles(source: string, out: string, signal?: AbortSignal): Promise<FileRecord[]> {
  const copied: FileRecord[] = [];
  for (const file of COPIED_FILES) {
    if (!existsSync(join(source, file))) continue;
    signal?.throwIfAborted();
    await copyFile(join(source, file), join(out, file));
    copied.push(await hashFile(join(out, file), signal));
  }
  return copied;
}

/** Reads config.json and decides the precision; for callers that show the plan before importing. */
export function planImport(
  source: string,
  opts: Pick<ImportOptions, 'precision' | 'device' | 'cacheType' | 'int4AccuracyLevel'> = {},
): ImportPlan & { readonly config: KimiVLConfig; readonly int4Experts: Int4ExpertForm; readonly int4AccuracyLevel: Int4AccuracyLevel } {
  const dir = resolve(source);
  if (!existsSync(dir)) throw new CheckpointError(`checkpoint folder not found: ${dir}`);
  const config = parseKimiVLConfig(readJsonFile(join(dir, 'config.json'), 'config.json'));
  const requested = opts.precision ?? 'fp32';
  const device = opts.device ?? 'cpu';
  const cacheRequest = opts.cacheType ?? 'auto';
  // Probing is only needed when `auto` must tell a GPU machine from a CPU one.
  const gpus = device === 'auto' && (requested === 'auto' || cacheRequest === 'auto') ? probeGpuDevices() : undefined;
  // Each estimate builds the graphs once (without producing a weight): an fp32 import's is reused.
  const fp32 = estimateWeights(config, 'fp32');
  const precision = choosePrecision(requested, {
    device,
    ...(gpus ? { gpus } : {}),
    fp32Bytes: fp32.total,
    totalMemory: totalmem(),
  });
  const forGpu = device === 'cuda' || device === 'webgpu' || (gpus !== undefined && Object.values(gpus).some((missing) => missing === undefined));
  const cacheType = cacheRequest !== 'auto' ? cacheRequest : forGpu ? 'fp16' : defaultCacheType(precision.precision);
  // int4 experts: one QMoE for a GPU (every provider has it); a MatMulNBits pair per expert for
  // the CPU, about 2× faster to run and 4× faster to load there (quantization/int4-experts.ts).
  const int4Experts = forGpu ? 'qmoe' : 'per-expert';
  // MatMulNBits' int8 activations are a CPU speed-up (MLAS); GPU kernels ignore the level, so a
  // GPU import asks for fp32 compute and gives the same logits when it falls back to the CPU.
  const int4AccuracyLevel = opts.int4AccuracyLevel ?? (forGpu ? 0 : DEFAULT_INT4_ACCURACY_LEVEL);
  const weights = precision.precision === 'fp32' ? fp32 : estimateWeights(config, precision.precision, int4Experts);
  return { config, precision, weights, cacheType, int4Experts, int4AccuracyLevel };
}

/** Refuses, before anything is written, an output filesystem without room for the whole folder. */
function checkDiskSpace(out: string, source: string, plan: ReturnType<typeof planImport>): void {
  const copied = COPIED_FILES.reduce((sum, file) => sum + (existsSync(join(source, file)) ? statSync(join(source, file)).size : 0), 0);
  const needed = plan.weights.total + copied + GRAPH_ALLOWANCE;
  const available = freeBytes(out);
  if (available >= needed) return;
  const precision = plan.precision.precision;
  const smaller = precision === 'int4' ? '' : `, or import as int4 (about ${formatBytes(estimateWeights(plan.config, 'int4', plan.int4Experts).total + copied + GRAPH_ALLOWANCE)})`;
  throw new CheckpointError(
    `not enough disk space for ${resolve(out)}: this ${precision} import writes about ${formatBytes(needed)} and ${formatBytes(available)} is free there; free some space, choose another output folder${smaller}`,
  );
}

/** Room for the two .onnx graph files (a few MB for the 16B model; their weights are in .data). */
const GRAPH_ALLOWANCE = 64 * 2 ** 20;

/** Every file an import writes into its folder, besides the manifest. */
const WRITTEN_FILES = [TEXT_MODEL_NAME, VISION_MODEL_NAME].flatMap((name) => [`${name}.onnx`, `${name}.onnx.data`]).concat(COPIED_FILES);

/**
 * The two graphs an import of `plan` builds, by the names its weight pool uses, and what each
 * weight worker starts with: the main thread and the workers build the same graphs.
 */
export function importGraphs(source: string, plan: ReturnType<typeof planImport>, opts: Pick<ImportOptions, 'debugOutputs' | 'decompressedFrom'> = {}) {
  const precision = plan.precision.precision;
  const graphs = {
    text: { kind: 'text', options: { precision, cacheType: plan.cacheType, debugOutputs: opts.debugOutputs, decompressedFrom: opts.decompressedFrom, int4AccuracyLevel: plan.int4AccuracyLevel, int4Experts: plan.int4Experts } },
    vision: { kind: 'vision', weights: visionWeightsFor(precision) },
  } satisfies Record<'text' | 'vision', ImportGraph>;
  const workerData: ImportWorkerData = { role: 'weights', source, config: plan.config, graphs };
  return { graphs, workerData };
}

export async function importKimiVL(opts: ImportOptions): Promise<ModelManifest> {
  const started = Date.now();
  const source = resolve(opts.source);
  const cancelled = (): void => {
    if (opts.signal?.aborted) throw new ImportCancelledError(`the import into ${resolve(opts.out)} was cancelled`);
  };
  const progress = (p: ImportProgress): void => {
    cancelled();
    opts.onProgress?.(p);
  };
  // The output folder is the cheapest thing to get wrong: checked first, claimed once writing starts.
  checkOutputFolder(opts.out, MANIFEST_FILE);
  const plan = planImport(source, opts);
  const { config } = plan;
  const precision = plan.precision.precision;
  const { cacheType } = plan;
  // Fail on tokenizer or template problems before spending minutes on weights.
  KimiTokenizer.fromDir(source, config.text.vocabSize);
  ChatTemplate.fromDir(source);
  opts.onPlan?.({ precision: plan.precision, weights: plan.weights, cacheType: plan.cacheType });
  checkDiskSpace(opts.out, source, plan);
  const ckpt = HfCheckpoint.open(source);
  let pool: WeightPool | undefined;
  let hasher: Awaited<ReturnType<typeof hashInWorker>> | undefined;
  let folder: ClaimedFolder | undefined;
  let copying: Promise<FileRecord[]> | undefined;
  try {
    const expected = textTensorShapes(config.text);
    let n = 0;
    for (const [name, shape] of expected) {
      ckpt.expectShape(name, shape);
      progress({ phase: 'checking', done: ++n, total: expected.size, detail: name });
    }
    checkVisionTensors(ckpt, config);
    folder = claimOutputFolder(opts.out, { source, manifestFile: MANIFEST_FILE, writes: WRITTEN_FILES });
    if (folder.found === 'import') opts.onNote?.(`replacing the model in ${folder.dir}`);
    else if (typeof folder.found === 'object') opts.onNote?.(`${folder.dir} holds an import that was interrupted (started ${folder.found.interrupted.startedAt}); starting it again over what it left`);

    const { graphs, workerData } = importGraphs(source, plan, opts);
    const shards = [...ckpt.fileNames, ...(existsSync(join(source, 'model.safetensors.index.json')) ? ['model.safetensors.index.json'] : [])];
    // The shards are hashed only when asked; the small index always is.
    const sourcePlans = shards.map((f) => planSourceFile(join(source, f), opts.hashSource === true || !f.endsWith('.safetensors')));
    const toHash = sourcePlans.filter((p) => !p.record);
    const workers = opts.workers ?? defaultImportWorkers(ckpt.fileNames.reduce((sum, f) => sum + statSync(join(source, f)).size, 0));
    // Shards to hash are hashed while the weights are made when there are workers; alone, after them.
    hasher = workers > 0 && opts.hashSource && toHash.length > 0 ? await hashInWorker(toHash.map((p) => p.path), opts.signal) : undefined;
    // This thread makes units while the workers start (weight-pool.ts), except for int4: a unit
    // there quantises 8 values per byte written, so this thread's first one outlasts the workers'
    // start and holds its own buffers (measured: no faster, 30 MB more peak memory).
    const thisThreadUnits = opts.thisThreadUnits ?? (precision === 'int4' ? 0 : undefined);
    const poolOptions = { ...(opts.partBytes !== undefined ? { partBytes: opts.partBytes } : {}), ...(thisThreadUnits !== undefined ? { thisThreadUnits } : {}) };
    pool = workers > 0 ? await WeightPool.start(IMPORT_WORKER, workerData, workers, poolOptions) : undefined;
    // The small files are copied and hashed while the weights are made, off this thread (libuv's
    // pool), not after them, where the import would wait for them.
    copying = copyFiles(source, opts.out, opts.signal);
    copying.catch(() => undefined); // awaited below, or abandoned when the weights fail first
    // With no workers, both graphs' weights are made here, hashed in the pieces a pool would hash.
    const writer = (graph: 'text' | 'vision') => pool?.writer(graph) ?? inThisThread(opts.partBytes);
    const converting = (p: { index: number; count: number; weight: string }) => progress({ phase: 'converting', done: p.index + 1, total: p.count, detail: p.weight });
    const written = await writeModel(buildImportGraph(ckpt, config, graphs.text), opts.out, TEXT_MODEL_NAME, {
      metadata: { source: source, precision },
      onProgress: converting,
      weights: writer('text'),
    });
    if (opts.testOnlyHold) await opts.testOnlyHold('text written');
    const vision = await writeVisionModel(ckpt, config, opts.out, graphs.vision.weights, { onProgress: converting, weights: writer('vision') });
    // The workers are idle from here: they end while the rest is done, and the import does not
    // wait for their threads to be torn down (24 ms for two, timed in a cold import).
    void pool?.close();
    const copied = await copying;
    cancelled();
    const hashing = (done: number) => progress({ phase: 'hashing', done, total: toHash.length, detail: done < toHash.length ? basename(toHash[done]!.path) : 'done' });
    let hashed: FileRecord[];
    if (hasher) {
      hashing(hasher.done());
      hashed = await hasher.records;
    } else {
      hashed = [];
      for (const plan of toHash) {
        hashing(hashed.length);
        hashed.push(await hashFile(plan.path, opts.signal));
      }
    }
    hashing(toHash.length);
    const records: SourceFileRecord[] = sourcePlans.map((plan) => plan.record ?? hashedSourceRecord(plan, hashed[toHash.indexOf(plan)]!));
    const seconds = (Date.now() - started) / 1000;
    const manifest: ModelManifest = {
      format: 'kestrel-kimi-vl',
      formatVersion: 1,
      createdAt: new Date().toISOString(),
      precision,
      source: { dir: source, files: records },
      text: {
        graph: { file: `${TEXT_MODEL_NAME}.onnx`, bytes: written.modelBytes, sha256: written.modelSha256 },
        weights: { file: `${TEXT_MODEL_NAME}.onnx.data`, bytes: written.dataBytes, pieces: written.dataPieces },
        layers: config.text.numHiddenLayers,
        vocabSize: config.text.vocabSize,
        cacheWidth: cacheWidth(config.text),
        cacheType,
        ...(precision === 'int4' ? { int4Experts: plan.int4Experts } : {}),
      },
      vision: {
        graph: { file: `${VISION_MODEL_NAME}.onnx`, bytes: vision.modelBytes, sha256: vision.modelSha256 },
        weights: { file: `${VISION_MODEL_NAME}.onnx.data`, bytes: vision.dataBytes, pieces: vision.dataPieces },
      },
      files: copied,
      stats: { seconds, weightBytesWritten: written.dataBytes + vision.dataBytes, megabytesPerSecond: (written.dataBytes + vision.dataBytes) / 1e6 / Math.max(seconds, 1e-3) },
    };
    const tmp = join(opts.out, `${MANIFEST_FILE}.partial`);
    writeFileSync(tmp, JSON.stringify(manifest, null, 2) + '\n');
    cancelled();
    renameSync(tmp, join(opts.out, MANIFEST_FILE));
    folder.finish();
    return manifest;
  } catch (err) {
    // Nothing half-written stays behind: tens of gigabytes for the real model. The workers stop
    // first, and the copying ends, so that nothing writes into a file after it is removed.
    await pool?.close();
    await copying?.catch(() => undefined);
    await hasher?.stop();
    folder?.discard();
    if (opts.signal?.aborted) throw new ImportCancelledError(`the import into ${resolve(opts.out)} was cancelled; what it had written is removed`);
    throw err;
  } finally {
    // The pool is ended above on either path (awaited when the import failed).
    await hasher?.stop();
    ckpt.close();
  }
}
