/**
 * Runs an imported language model: one call per prefill or decode step, carrying the latent
 * KV cache between calls.
 */
import { join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import { isDeviceValue, note, openSession, type DeviceValue, type FeedValue, type ModelSession, type OutputValue, type SessionOptions } from '../../onnx/backend.ts';
import type { KimiVLConfig } from './configuration.ts';
import { readModelFolder, type ModelFolder, type ModelManifest } from './manifest.ts';
import { DeviceLatentCache, HostLatentCache, type CacheRows, type KvCache } from './latent-cache.ts';
import { defaultCacheType, routedExpertNodes, TEXT_IO } from './modeling-text.ts';
import { precisionDeviceNote } from './precision.ts';
import type { ExecutionDevice } from '../../onnx/device.ts';

export type { KvCache } from './latent-cache.ts';

/** Projector rows [positions.length, hidden] and where they go in the ids of one forward call. */
export interface ImageFeatures {
  readonly features: Float32Array;
  readonly positions: readonly number[];
}

export interface TextSessionOptions extends SessionOptions {
  /**
   * What a host-side cache reads back each call: only the rows added (the default), or the whole
   * cache as graphs imported before `latent.<i>` existed return it (kept for them and as the
   * benchmark's baseline).
   */
  readonly hostCacheReads?: 'added-rows' | 'whole-cache';
}

export type SessionOpener = (modelPath: string, opts: SessionOptions) => Promise<ModelSession>;

export class TextSession {
  private readonly layers: number;
  private readonly width: number;
  /** Where the cache lives between calls: GPU memory on WebGPU, host memory elsewhere. */
  readonly cacheHome: 'host' | 'device';
  private readonly cacheOutputs: readonly string[];
  private readonly extraOutputs: readonly string[];

  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    readonly config: KimiVLConfig,
    private readonly session: ModelSession,
    hostCacheReads: 'added-rows' | 'whole-cache',
  ) {
    this.layers = manifest.text.layers;
    this.width = manifest.text.cacheWidth;
    const layerNames = (name: (i: number) => string) => Array.from({ length: this.layers }, (_, i) => name(i));
    const hasAddedRows = session.outputNames.includes(TEXT_IO.latent(0));
    this.cacheHome = session.device === 'webgpu' ? 'device' : 'host';
    this.cacheOutputs = layerNames(this.cacheHome === 'host' && hasAddedRows && hostCacheReads === 'added-rows' ? TEXT_IO.latent : TEXT_IO.present);
    this.extraOutputs = session.outputNames.filter((n) => n !== TEXT_IO.logits && !n.startsWith('present.') && !n.startsWith('latent.'));
  }

  /** `openModel` is the seam for tests; it defaults to onnxruntime. `folder`: the manifest and config when the caller has read them. */
  static async open(dir: string, opts: TextSessionOptions = {}, openModel: SessionOpener = openSession, folder: ModelFolder = readModelFolder(dir)): Promise<TextSession> {
    const { manifest, config } = folder;
    const presents = Array.from({ length: manifest.text.layers }, (_, i) => TEXT_IO.present(i));
    const session = await openModel(join(dir, manifest.text.graph.file), { ...opts, keepOnDevice: presents, cpuNodes: routedExpertNodes(config.text) });
    const deviceNote = session.device ? precisionDeviceNote(manifest.precision, session.device, manifest.text.int4Experts) : undefined;
    if (deviceNote) note(opts, `kestrel: note: ${deviceNote}`);
    return new TextSession(dir, manifest, config, session, opts.hostCacheReads ?? 'added-rows');
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
   * any other graph outputs (intermediates exposed for comparison with the reference).
   * `images` (a multimodal prefill) puts projector rows at positions of `ids`.
   * A cache on the GPU is spent by this call: continue from the returned one.
   */
  async forward(
    ids: readonly number[],
    cache: KvCache = this.emptyCache(),
    images?: ImageFeatures,
  ): Promise<{ logits: Float32Array; cache: KvCache; extras: Record<string, OutputValue> }> {
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
    const out = await this.session.run(feeds, [TEXT_IO.logits, ...this.cacheOutputs, ...this.extraOutputs]);
    const next = this.nextCache(cache, ids.length, this.cacheOutputs.map((name) => out[name]!));
    if (cache instanceof DeviceLatentCache) cache.release();
    const extras: Record<string, OutputValue> = {};
    for (const name of this.extraOutputs) {
      const value = out[name]!;
      if (!isDeviceValue(value)) extras[name] = value;
    }
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
