/**
 * Runs an imported language model: one call per prefill or decode step, carrying the latent
 * KV cache between calls.
 */
import { join } from 'node:path';
import { CheckpointError } from '../../../checkpoint/errors.ts';
import { isDeviceValue, note, openSession, type DeviceValue, type FeedValue, type ModelSession, type OutputValue, type SessionOptions } from '../../../onnx/backend.ts';
import type { KimiVLConfig } from '../configuration.ts';
import { readModelFolder, type ModelFolder, type ModelManifest } from '../manifest.ts';
import { DeviceLatentCache, HostLatentCache, type CacheRows, type KvCache } from './latent-cache.ts';
import { defaultCacheType, routedExpertNodes, TEXT_IO } from '../graphs/modeling-text.ts';
import { precisionDeviceNote } from '../precision.ts';
import type { ExecutionDevice } from '../../../onnx/device.ts';
import type { NextTokenBasis, NextTokenWanted } from '../../../generation/sampling.ts';

export type { KvCache } from './latent-cache.ts';

/** Projector rows [positions.length, hidden] and where they go in the ids of one forward call. */
export interface ImageFeatures {
  readonly features: Float32Array;
  readonly positions: readonly number[];
}

/**
 * New tokens per call when a prompt is fed: a long prompt runs as several calls, each after the
 * cache the previous one left. Attention's scores are bounded inside the graph whatever a call's
 * length; this bounds the rest of a call's activations (hidden states, the feed-forward's
 * products, the decompressed keys and values), which grow with its tokens. 2048 keeps them
 * under ~0.5 GB for Kimi-VL-A3B and costs under 1 % of the prefill time on the test
 * checkpoints (scripts/bench-long-prompt.ts).
 */
export const PREFILL_CHUNK = 2048;

export interface TextSessionOptions extends SessionOptions {
  /**
   * What a host-side cache reads back each call: only the rows added (the default), or the whole
   * cache as graphs imported before `latent.<i>` existed return it (kept for them and as the
   * benchmark's baseline).
   */
  readonly hostCacheReads?: 'added-rows' | 'whole-cache';
  /** Most new tokens per call (default PREFILL_CHUNK). */
  readonly prefillChunk?: number;
}

/** One forward's cache and debug outputs, beside its logits or greedy token. */
export interface TextStep {
  readonly cache: KvCache;
  /** Intermediates exposed for comparison with the reference (graphs built with debug outputs). */
  readonly extras: Record<string, OutputValue>;
}

export type SessionOpener = (modelPath: string, opts: SessionOptions) => Promise<ModelSession>;

export class TextSession {
  private readonly layers: number;
  private readonly width: number;
  /** Where the cache lives between calls: GPU memory on WebGPU, host memory elsewhere. */
  readonly cacheHome: 'host' | 'device';
  private readonly cacheOutputs: readonly string[];
  private readonly extraOutputs: readonly string[];
  /** Whether a greedy call fetches the graph's greedy token rather than the logits. */
  private readonly greedyInGraph: boolean;

  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    readonly config: KimiVLConfig,
    private readonly session: ModelSession,
    hostCacheReads: 'added-rows' | 'whole-cache',
    private readonly prefillChunk: number,
  ) {
    this.layers = manifest.text.layers;
    this.width = manifest.text.cacheWidth;
    const layerNames = (name: (i: number) => string) => Array.from({ length: this.layers }, (_, i) => name(i));
    const hasAddedRows = session.outputNames.includes(TEXT_IO.latent(0));
    this.cacheHome = session.device === 'webgpu' ? 'device' : 'host';
    this.cacheOutputs = layerNames(this.cacheHome === 'host' && hasAddedRows && hostCacheReads === 'added-rows' ? TEXT_IO.latent : TEXT_IO.present);
    // Folders imported before the graph output its greedy token lack it. And on WebGPU the cache's
    // outputs stay on the device, where onnxruntime-node 1.30 looks up each fetched output's
    // placement by its place in the fetch list rather than by its name: only a fetch of the
    // graph's first outputs in order, `logits` then `present.*`, puts each where it was asked
    // (docs/onnxruntime.md). So a device cache fetches the logits.
    this.greedyInGraph = session.outputNames.includes(TEXT_IO.nextToken) && this.cacheHome === 'host';
    this.extraOutputs = session.outputNames.filter((n) => n !== TEXT_IO.logits && n !== TEXT_IO.nextToken && !n.startsWith('present.') && !n.startsWith('latent.'));
  }

  /** `openModel` is the seam for tests; it defaults to onnxruntime. `folder`: the manifest and config when the caller has read them. */
  static async open(dir: string, opts: TextSessionOptions = {}, openModel: SessionOpener = openSession, folder: ModelFolder = readModelFolder(dir)): Promise<TextSession> {
    const { manifest, config } = folder;
    const presents = Array.from({ length: manifest.text.layers }, (_, i) => TEXT_IO.present(i));
    const session = await openModel(join(dir, manifest.text.graph.file), { ...opts, keepOnDevice: presents, cpuNodes: routedExpertNodes(config.text) });
    const deviceNote = session.device ? precisionDeviceNote(manifest.precision, session.device, manifest.text.int4Experts) : undefined;
    if (deviceNote) note(opts, `kestrel: note: ${deviceNote}`);
    const chunk = opts.prefillChunk ?? PREFILL_CHUNK;
    if (!Number.isInteger(chunk) || chunk < 1) throw new CheckpointError(`the prefill chunk must be a whole number of tokens ≥ 1, not ${chunk}`);
    return new TextSession(dir, manifest, config, session, opts.hostCacheReads ?? 'added-rows', chunk);
  }

  /** The provider the session runs on (what `auto` chose); undefined from a test's opener that does not say. */
  get device(): ExecutionDevice | undefined {
    return this.session.device;
  }

  emptyCache(): HostLatentCache {
    const type = this.manifest.text.cacheType ?? defaultCacheType(this.manifest.precision);
    return HostLatentCache.empty(this.layers, this.width, type === 'fp16' ? 'float16' : 'float32');
  }

  /**
   * Feeds `ids` after the cached tokens; returns the next-token logits, the extended cache and
   * any other graph outputs (intermediates exposed for comparison with the reference; from the
   * last call when the ids take several). `images` (a multimodal prefill) puts projector rows
   * at positions of `ids`. More than `prefillChunk` ids run as several calls, each continuing
   * from the cache the previous one returned: the same logits and cache as one call.
   * A cache on the GPU is spent by this call: continue from the returned one.
   * `wanted` 'greedy' returns the greedy token in place of the logits when the graph outputs it
   * and the cache lives on the host (the logits then stay inside onnxruntime), else the logits.
   */
  forward(ids: readonly number[], cache?: KvCache, images?: ImageFeatures, wanted?: 'logits'): Promise<TextStep & { logits: Float32Array }>;
  forward(ids: readonly number[], cache: KvCache | undefined, images: ImageFeatures | undefined, wanted: NextTokenWanted): Promise<TextStep & NextTokenBasis>;
  async forward(ids: readonly number[], cache: KvCache = this.emptyCache(), images?: ImageFeatures, wanted: NextTokenWanted = 'logits'): Promise<TextStep & NextTokenBasis> {
    // A host cache makes room for the whole prompt, and an eighth more for the reply, at once.
    if (ids.length > 1 && cache instanceof HostLatentCache) cache = cache.reserve(cache.length + ids.length + (ids.length >> 3));
    if (ids.length <= this.prefillChunk) return this.call(ids, cache, images, wanted);
    let current = cache;
    try {
      for (let start = 0; ; start += this.prefillChunk) {
        const end = Math.min(ids.length, start + this.prefillChunk);
        // Only the last chunk's next token matters: the others fetch the least they can.
        const step = await this.call(ids.slice(start, end), current, images && imagesWithin(images, start, end, this.config.text.hiddenSize), end === ids.length ? wanted : 'greedy');
        current = step.cache;
        if (end === ids.length) return step;
      }
    } catch (err) {
      // A cache made by an earlier chunk of this prompt is nobody else's to free.
      if (current !== cache) this.releaseCache(current);
      throw err;
    }
  }

  /** One run of the graph. */
  private async call(ids: readonly number[], cache: KvCache, images: ImageFeatures | undefined, wanted: NextTokenWanted): Promise<TextStep & NextTokenBasis> {
    if (cache.layerCount !== this.layers) throw new CheckpointError(`a ${cache.layerCount}-layer KV cache given to a ${this.layers}-layer model`);
    if (cache instanceof DeviceLatentCache && this.cacheHome === 'host') throw new CheckpointError('a GPU-resident KV cache was given to a session that keeps its cache on the host');
    const feeds: Record<string, FeedValue> = {
      [TEXT_IO.inputIds]: { type: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [1, ids.length] },
      ...this.pastFeeds(cache),
    };
    if (this.session.inputNames.includes(TEXT_IO.imageFeatures)) {
      const rows = images?.positions.length ?? 0;
      feeds[TEXT_IO.imageFeatures] = { type: 'float32', data: images?.features ?? new Float32Array(0), dims: [rows, this.config.text.hiddenSize] };
      feeds[TEXT_IO.imagePositions] = { type: 'int64', data: BigInt64Array.from(images?.positions ?? [], (v) => BigInt(v)), dims: [rows] };
    } else if (images) {
      throw new CheckpointError(`${this.dir} was imported without image inputs; re-run \`kestrel model import\` to send images`);
    }
    const greedy = wanted === 'greedy' && this.greedyInGraph;
    const out = await this.session.run(feeds, [greedy ? TEXT_IO.nextToken : TEXT_IO.logits, ...this.cacheOutputs, ...this.extraOutputs]);
    const next = this.nextCache(cache, ids.length, this.cacheOutputs.map((name) => out[name]!));
    if (cache instanceof DeviceLatentCache) cache.release();
    const extras: Record<string, OutputValue> = {};
    for (const name of this.extraOutputs) {
      const value = out[name]!;
      if (!isDeviceValue(value)) extras[name] = value;
    }
    if (greedy) return { greedyToken: Number((out[TEXT_IO.nextToken]!.data as BigInt64Array)[0]!), cache: next, extras };
    return { logits: out[TEXT_IO.logits]!.data as Float32Array, cache: next, extras };
  }

  /** Frees a cache's GPU buffers (a host cache is left to the garbage collector). */
  releaseCache(cache: KvCache): void {
    if (cache instanceof DeviceLatentCache) cache.release();
  }

  private pastFeeds(cache: KvCache): Record<string, FeedValue> {
    const feeds: Record<string, FeedValue> = {};
    const dims = [1, cache.length, this.width];
    const device = cache instanceof DeviceLatentCache ? cache.take() : undefined;
    for (let i = 0; i < this.layers; i++) {
      if (device) feeds[TEXT_IO.past(i)] = device[i]!;
      else {
        const rows = (cache as HostLatentCache).rows(i);
        feeds[TEXT_IO.past(i)] = rows instanceof Uint16Array ? { type: 'float16', data: rows, dims } : { type: 'float32', data: rows, dims };
      }
    }
    return feeds;
  }

  private nextCache(cache: KvCache, added: number, values: readonly (OutputValue | DeviceValue)[]): KvCache {
    const length = cache.length + added;
    if (this.cacheHome === 'device') {
      const onDevice = values.filter(isDeviceValue);
      if (onDevice.length !== values.length) throw new CheckpointError('the GPU returned the KV cache to the host although it was asked to keep it; use --device cpu');
      return new DeviceLatentCache(length, onDevice);
    }
    const host = cache as HostLatentCache; // checked before the run
    const whole = this.cacheOutputs[0] === TEXT_IO.present(0);
    const rows = values.map((v) => {
      if (isDeviceValue(v)) throw new CheckpointError('the KV cache came back on the GPU to a session that keeps it on the host');
      const data = v.data as CacheRows;
      return whole ? data.subarray(host.length * this.width) : data;
    });
    return host.append(rows, added);
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

/** The image rows that land in ids [start, end), positions made relative to `start`. */
function imagesWithin(images: ImageFeatures, start: number, end: number, hidden: number): ImageFeatures | undefined {
  const rows = images.positions.flatMap((p, row) => (p >= start && p < end ? [row] : []));
  if (rows.length === 0) return undefined;
  const features = new Float32Array(rows.length * hidden);
  rows.forEach((row, k) => features.set(images.features.subarray(row * hidden, (row + 1) * hidden), k * hidden));
  return { features, positions: rows.map((row) => images.positions[row]! - start) };
}
