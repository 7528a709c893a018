/**
 * Runs an imported language model: one call per prefill or decode step, carrying the latent
 * KV cache between calls.
 */
import { join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import { readJsonFile } from '../../checkpoint/hf-checkpoint.ts';
import { openSession, type FeedValue, type ModelSession, type OutputValue, type SessionOptions } from '../../onnx/backend.ts';
import { parseKimiVLConfig, type KimiVLConfig } from './configuration.ts';
import { MANIFEST_FILE, type ModelManifest } from './import-checkpoint.ts';
import { TEXT_IO } from './modeling-text.ts';

/** The latent cache of every layer, [1, length, width] each. */
export interface KvCache {
  readonly length: number;
  readonly layers: readonly (Float32Array | Uint16Array)[];
}

/** Projector rows [positions.length, hidden] and where they go in the ids of one forward call. */
export interface ImageFeatures {
  readonly features: Float32Array;
  readonly positions: readonly number[];
}

export class TextSession {
  private constructor(
    readonly dir: string,
    readonly manifest: ModelManifest,
    readonly config: KimiVLConfig,
    private readonly session: ModelSession,
  ) {}

  static async open(dir: string, opts: SessionOptions = {}): Promise<TextSession> {
    const manifest = readJsonFile(join(dir, MANIFEST_FILE), `${MANIFEST_FILE} (is ${dir} a folder made by \`kestrel model import\`?)`) as ModelManifest;
    if (manifest.format !== 'kestrel-kimi-vl' || manifest.formatVersion !== 1) {
      throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: unsupported format ${manifest.format} v${manifest.formatVersion}; re-run \`kestrel model import\``);
    }
    const config = parseKimiVLConfig(readJsonFile(join(dir, 'config.json'), 'config.json'));
    const session = await openSession(join(dir, manifest.text.graph.file), opts);
    return new TextSession(dir, manifest, config, session);
  }

  emptyCache(): KvCache {
    const empty = this.manifest.precision === 'fp16' ? new Uint16Array(0) : new Float32Array(0);
    return { length: 0, layers: Array.from({ length: this.manifest.text.layers }, () => empty) };
  }

  /**
   * Feeds `ids` after the cached tokens; returns the next-token logits, the extended cache and
   * any other graph outputs (intermediates exposed for comparison with the reference).
   * `images` (a multimodal prefill) puts projector rows at positions of `ids`.
   */
  async forward(
    ids: readonly number[],
    cache: KvCache = this.emptyCache(),
    images?: ImageFeatures,
  ): Promise<{ logits: Float32Array; cache: KvCache; extras: Record<string, OutputValue> }> {
    const width = this.manifest.text.cacheWidth;
    const feeds: Record<string, FeedValue> = {
      [TEXT_IO.inputIds]: { type: 'int64', data: BigInt64Array.from(ids, (v) => BigInt(v)), dims: [1, ids.length] },
    };
    for (const [i, data] of cache.layers.entries()) {
      const dims = [1, cache.length, width];
      feeds[TEXT_IO.past(i)] = data instanceof Uint16Array ? { type: 'float16', data, dims } : { type: 'float32', data, dims };
    }
    if (this.session.inputNames.includes(TEXT_IO.imageFeatures)) {
      const rows = images?.positions.length ?? 0;
      feeds[TEXT_IO.imageFeatures] = { type: 'float32', data: images?.features ?? new Float32Array(0), dims: [rows, this.config.text.hiddenSize] };
      feeds[TEXT_IO.imagePositions] = { type: 'int64', data: BigInt64Array.from(images?.positions ?? [], (v) => BigInt(v)), dims: [rows] };
    } else if (images) {
      throw new CheckpointError(`${this.dir} was imported without image inputs; re-run \`kestrel model import\` to send images`);
    }
    const out = await this.session.run(feeds);
    const layers = cache.layers.map((_, i) => out[TEXT_IO.present(i)]!.data as Float32Array | Uint16Array);
    const extras = Object.fromEntries(Object.entries(out).filter(([name]) => name !== TEXT_IO.logits && !name.startsWith('present.')));
    return { logits: out[TEXT_IO.logits]!.data as Float32Array, cache: { length: cache.length + ids.length, layers }, extras };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
