/**
 * The latent KV cache between forward calls, in one of two homes:
 *
 * - host (CPU and CUDA): each call returns only the rows it added (`latent.<i>`), appended here
 *   into buffers that grow by doubling. Nothing already cached is copied back from the runtime,
 *   and nothing is copied on the JavaScript side either: the next call's `past.<i>` is a view.
 *   With CUDA the view still crosses to the device every step (onnxruntime-node has no I/O
 *   binding), but the way back shrinks from the whole cache to one row.
 * - device (WebGPU): `present.<i>` stays in GPU buffers and is fed straight back; the host never
 *   sees it. A device cache is used once: the next call disposes it.
 *
 * Either cache behaves as a value: extending a host cache that was already extended by someone
 * else (two continuations of one prompt) copies its prefix instead of overwriting theirs.
 */
import { CheckpointError } from '../../../checkpoint/errors.ts';
import type { DeviceValue } from '../../../onnx/backend.ts';

export type CacheRows = Float32Array | Uint16Array;
export type CacheElement = 'float32' | 'float16';

/** Rows shared by every cache extended from one another; rows below `filled` never change. */
interface RowStore {
  buffers: CacheRows[];
  filled: number;
  capacity: number;
}

const MIN_CAPACITY = 64;

function allocate(element: CacheElement, values: number): CacheRows {
  return element === 'float16' ? new Uint16Array(values) : new Float32Array(values);
}

export class HostLatentCache {
  readonly home = 'host';

  private constructor(
    private readonly store: RowStore,
    readonly length: number,
    readonly width: number,
    readonly element: CacheElement,
  ) {}

  static empty(layers: number, width: number, element: CacheElement): HostLatentCache {
    const store: RowStore = { buffers: Array.from({ length: layers }, () => allocate(element, 0)), filled: 0, capacity: 0 };
    return new HostLatentCache(store, 0, width, element);
  }

  get layerCount(): number {
    return this.store.buffers.length;
  }

  /** Layer `i`'s rows [length, width], a view (valid until the cache grows past its capacity). */
  rows(i: number): CacheRows {
    return this.store.buffers[i]!.subarray(0, this.length * this.width);
  }

  /** A cache `count` rows longer; `added[i]` holds layer i's new rows, `count * width` values each. */
  append(added: readonly CacheRows[], count: number): HostLatentCache {
    if (added.length !== this.layerCount) throw new CheckpointError(`latent cache: ${added.length} layers of new rows for a ${this.layerCount}-layer cache`);
    const need = this.length + count;
    let store = this.store;
    if (this.length !== store.filled) {
      store = this.copied(Math.max(need, MIN_CAPACITY)); // a sibling already wrote past our end
    } else if (need > store.capacity) {
      Object.assign(store, this.copied(Math.max(need, store.capacity * 2, MIN_CAPACITY)));
    }
    for (const [i, rows] of added.entries()) {
      if (rows.length !== count * this.width) throw new CheckpointError(`latent cache: layer ${i} returned ${rows.length} values for ${count} rows of ${this.width}`);
      store.buffers[i]!.set(rows, this.length * this.width);
    }
    store.filled = need;
    return new HostLatentCache(store, need, this.width, this.element);
  }

  /**
   * This cache with room for `rows` rows, so appends up to there copy nothing. A prompt reserves
   * its length (and some room for the reply) once: growing by doubling chunk after chunk would
   * hold the old and the new buffers together, three times the cache, at every step.
   */
  reserve(rows: number): HostLatentCache {
    if (rows <= this.store.capacity && this.length === this.store.filled) return this;
    if (this.length !== this.store.filled) return new HostLatentCache(this.copied(Math.max(rows, MIN_CAPACITY)), this.length, this.width, this.element);
    // At least double, as append does: short prompts fed one after another still copy rarely.
    Object.assign(this.store, this.copied(Math.max(rows, this.store.capacity * 2, MIN_CAPACITY)));
    return this;
  }

  /** This cache's rows in new buffers with room for `capacity` rows. */
  private copied(capacity: number): RowStore {
    const buffers = this.store.buffers.map((old) => {
      const next = allocate(this.element, capacity * this.width);
      next.set(old.subarray(0, this.length * this.width));
      return next;
    });
    return { buffers, filled: this.length, capacity };
  }
}

export class DeviceLatentCache {
  readonly home = 'device';
  private spent = false;

  constructor(
    readonly length: number,
    private readonly tensors: readonly DeviceValue[],
  ) {}

  get layerCount(): number {
    return this.tensors.length;
  }

  /** The tensors to feed to the next call; the cache is spent after that call. */
  take(): readonly DeviceValue[] {
    if (this.spent) throw new CheckpointError('this KV cache lives on the GPU and was already extended or released; continue from the cache the last call returned');
    return this.tensors;
  }

  /** Frees the GPU buffers (idempotent). */
  release(): void {
    if (this.spent) return;
    this.spent = true;
    for (const t of this.tensors) t.dispose();
  }
}

export type KvCache = HostLatentCache | DeviceLatentCache;
