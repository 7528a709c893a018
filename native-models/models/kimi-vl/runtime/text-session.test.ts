/**
 * Where the KV cache lives between calls. The WebGPU case runs the real CPU session behind a
 * session seam that plays the GPU: outputs named in `keepOnDevice` come back as opaque device
 * values, which the fake can take back as inputs and counts when disposed.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import { argmax, maxAbsDiff } from '../../../../test/harness/floats.ts';
import { tempDir, tinyCheckpoint } from '../../../../test/harness/tiny-checkpoint.ts';
import { generateTokens } from '../../../generation/generate.ts';
import { isDeviceValue, openSession, outputPlacement, type DeviceValue, type FeedValue, type ModelSession, type OutputValue, type SessionOptions } from '../../../onnx/backend.ts';
import { importKimiVL } from '../import/import-checkpoint.ts';
import type { HostLatentCache, KvCache } from './latent-cache.ts';
import { TEXT_IO } from '../graphs/modeling-text.ts';
import { TextSession, type SessionOpener } from './text-session.ts';
import { withImagePrefill } from './multimodal.ts';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

const ckpt = tinyCheckpoint({ dtype: 'bf16', seed: 11 });
const out = tempDir('kv-home');
const modelDir = join(out.dir, 'fp32');
const fp16CacheDir = join(out.dir, 'fp32-fp16-cache');
const prompt = Array.from({ length: 24 }, (_, i) => 1000 + 37 * i);
const opened: TextSession[] = [];

/** What the sessions under test were asked to return, call by call. */
interface Recorded {
  keepOnDevice?: readonly string[];
  fetched: (readonly string[])[];
  returnedDims: Record<string, readonly number[]>[];
}

function recordingOpener(rec: Recorded) {
  return async (path: string, opts: SessionOptions): Promise<ModelSession> => {
    rec.keepOnDevice = opts.keepOnDevice;
    const real = await openSession(path, opts);
    return {
      ...real,
      async run(feeds, outputs) {
        rec.fetched.push(outputs ?? []);
        const result = await real.run(feeds, outputs);
        rec.returnedDims.push(Object.fromEntries(Object.entries(result).map(([n, v]) => [n, v.dims])));
        return result;
      },
    };
  };
}

/** A WebGPU stand-in: device values wrap host data the caller cannot reach. */
function fakeGpuOpener(state: { live: Set<DeviceValue>; fedAfterDispose: number }) {
  const hidden = new WeakMap<DeviceValue, OutputValue>();
  return async (path: string, opts: SessionOptions): Promise<ModelSession> => {
    const real = await openSession(path, { ...opts, device: 'cpu' });
    const keep = new Set(opts.keepOnDevice);
    return {
      inputNames: real.inputNames,
      outputNames: real.outputNames,
      device: 'webgpu',
      release: () => real.release(),
      async run(feeds, outputs) {
        const hostFeeds: Record<string, FeedValue> = {};
        for (const [name, f] of Object.entries(feeds)) {
          if (!isDeviceValue(f)) hostFeeds[name] = f;
          else {
            if (!state.live.has(f)) state.fedAfterDispose++;
            hostFeeds[name] = hidden.get(f) as FeedValue;
          }
        }
        const result = await real.run(hostFeeds, outputs);
        for (const [name, v] of Object.entries(result)) {
          if (!keep.has(name) || isDeviceValue(v)) continue;
          const onGpu: DeviceValue = { location: 'device', type: v.type, dims: v.dims, dispose: () => void state.live.delete(onGpu) };
          hidden.set(onGpu, v);
          state.live.add(onGpu);
          result[name] = onGpu;
        }
        return result;
      },
    };
  };
}

async function decode(session: TextSession, steps: number): Promise<Float32Array[]> {
  const logits: Float32Array[] = [];
  let step = await session.forward(prompt);
  logits.push(step.logits);
  for (let i = 0; i < steps; i++) {
    step = await session.forward([argmax(step.logits)], step.cache);
    logits.push(step.logits);
  }
  session.releaseCache(step.cache);
  return logits;
}

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: modelDir, precision: 'fp32' });
  await importKimiVL({ source: ckpt.dir, out: fp16CacheDir, precision: 'fp32', cacheType: 'fp16' });
});

afterAll(async () => {
  for (const s of opened) await s.release();
  ckpt.cleanup();
  out.cleanup();
});

async function open(opts: Parameters<typeof TextSession.open>[1], opener?: Parameters<typeof TextSession.open>[2], dir = modelDir): Promise<TextSession> {
  const s = await TextSession.open(dir, opts, opener);
  opened.push(s);
  return s;
}

describe('KV cache home', () => {
  test('onnxruntime is asked to keep present.* on the GPU only for WebGPU', () => {
    expect(outputPlacement('webgpu', ['present.0', 'present.1'])).toEqual({ 'present.0': 'gpu-buffer', 'present.1': 'gpu-buffer' });
    expect(outputPlacement('cuda', ['present.0'])).toBeUndefined();
    expect(outputPlacement('cpu', ['present.0'])).toBeUndefined();
  });

  test('on the host each call reads back only the rows it added, and decodes like the whole-cache reads', async () => {
    const rec: Recorded = { fetched: [], returnedDims: [] };
    const session = await open({}, recordingOpener(rec));
    const baseline = await open({ hostCacheReads: 'whole-cache' });
    expect(session.cacheHome).toBe('host');
    expect(rec.keepOnDevice).toEqual([0, 1, 2].map((i) => TEXT_IO.present(i)));
    const got = await decode(session, 6);
    const want = await decode(baseline, 6);
    for (const [i, l] of got.entries()) expect(maxAbsDiff(l, want[i]!)).toBe(0);
    const lastCall = rec.fetched.at(-1)!;
    expect(lastCall).toContain(TEXT_IO.latent(0));
    expect(lastCall.some((n) => n.startsWith('present.'))).toBe(false);
    expect(rec.returnedDims.at(-1)![TEXT_IO.latent(0)]).toEqual([1, 1, 40]);
    expect(rec.returnedDims[0]![TEXT_IO.latent(2)]).toEqual([1, prompt.length, 40]);
  });

  test('a prompt in several calls writes one host buffer, sized for it once (no doubling between chunks)', async () => {
    const pasts: ArrayBufferLike[] = [];
    const real = recordingOpener({ fetched: [], returnedDims: [] });
    const session = await open({ prefillChunk: 32 }, async (path, opts) => {
      const s = await real(path, opts);
      return { ...s, run: (feeds, outputs) => (pasts.push((feeds[TEXT_IO.past(0)] as { data: Float32Array }).data.buffer), s.run(feeds, outputs)) };
    });
    const long = Array.from({ length: 100 }, (_, i) => 1000 + 13 * i);
    const step = await session.forward(long);
    expect(pasts).toHaveLength(4);
    // Without the reservation the cache grows 64 → 128 rows before the fourth call.
    for (const b of pasts) expect(b).toBe(pasts[0]);
    expect((step.cache as HostLatentCache).rows(0).buffer).toBe(pasts[0]);
  });

  test('on WebGPU the cache stays on the device: fed back as is, old buffers disposed, logits unchanged', async () => {
    const state = { live: new Set<DeviceValue>(), fedAfterDispose: 0 };
    const notes: string[] = [];
    const gpu = await open({ device: 'webgpu', note: (line) => notes.push(line) }, fakeGpuOpener(state));
    const host = await open({});
    expect(notes).toEqual([expect.stringMatching(/^kestrel: note: this fp32 model's experts use com.microsoft.MoE, which has no WebGPU kernel, so they run on the CPU$/)]);
    expect(gpu.cacheHome).toBe('device');
    const got = await decode(gpu, 6);
    const want = await decode(host, 6);
    for (const [i, l] of got.entries()) expect(maxAbsDiff(l, want[i]!)).toBeLessThan(1e-5);
    expect(state.fedAfterDispose).toBe(0);
    expect(state.live.size).toBe(0);
  });

  test('on WebGPU a spent cache cannot be reused, and generation frees the last one', async () => {
    const state = { live: new Set<DeviceValue>(), fedAfterDispose: 0 };
    const gpu = await open({ device: 'webgpu' }, fakeGpuOpener(state));
    const first = await gpu.forward(prompt.slice(0, 10));
    const second = await gpu.forward(prompt.slice(10, 12), first.cache);
    await expect(gpu.forward([5], first.cache)).rejects.toThrow(/already extended or released/);
    expect(state.live.size).toBe(3);
    gpu.releaseCache(second.cache);
    expect(state.live.size).toBe(0);

    const decoder = { push: (id: number) => `${id} `, flush: () => '' };
    const result = await generateTokens<KvCache>(withImagePrefill(gpu, undefined), prompt, decoder, { maxNewTokens: 5, stopTokens: new Set() });
    expect(result.tokens).toHaveLength(5);
    expect(state.live.size).toBe(0);
    expect(state.fedAfterDispose).toBe(0);
  });

  test('an fp16 cache under fp32 activations: half the bytes per row, logits close, chunked prefill equals one prefill', async () => {
    const half = await open({}, undefined, fp16CacheDir);
    const full = await open({});
    expect(half.manifest.text.cacheType).toBe('fp16');
    const first = await half.forward(prompt.slice(0, 16));
    expect((first.cache as HostLatentCache).rows(0)).toBeInstanceOf(Uint16Array);
    const chunked = await half.forward(prompt.slice(16), first.cache);
    const whole = await half.forward(prompt);
    expect(maxAbsDiff(chunked.logits, whole.logits)).toBeLessThan(1e-4);
    const got = await decode(half, 6);
    const want = await decode(full, 6);
    for (const [i, l] of got.entries()) {
      const scale = want[i]!.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbsDiff(l, want[i]!) / scale).toBeLessThan(1e-2);
      expect(argmax(l)).toBe(argmax(want[i]!));
    }
  });
});

describe('the greedy token chosen inside the graph', () => {
  // lm_head rows in identical pairs: every logit ties with its neighbour, so the largest one does
  // too, and only a choice of the first index gives the even token.
  const tied = tinyCheckpoint({ dtype: 'bf16', seed: 5, tiedHeadPairs: true });
  const tiedOut = tempDir('greedy-token');
  const precisions = ['fp32', 'fp16', 'int4'] as const;
  const decoder = { push: (id: number) => `${id} `, flush: () => '' };
  /** An opener for a folder imported before the graph output its greedy token: same graph, without that output. */
  const withoutNextToken =
    (inner: SessionOpener) =>
    async (path: string, opts: SessionOptions): Promise<ModelSession> => {
      const s = await inner(path, opts);
      return { ...s, outputNames: s.outputNames.filter((n) => n !== TEXT_IO.nextToken) };
    };

  beforeAll(async () => {
    for (const precision of precisions) await importKimiVL({ source: tied.dir, out: join(tiedOut.dir, precision), precision });
  });
  afterAll(() => {
    tied.cleanup();
    tiedOut.cleanup();
  });

  test.each(precisions)('%s: it is the first index of the largest fetched logit, prefill and every decode step, the top a tie', async (precision) => {
    const rec: Recorded = { fetched: [], returnedDims: [] };
    const session = await open({}, recordingOpener(rec), join(tiedOut.dir, precision));
    let full = await session.forward(prompt);
    let greedy = await session.forward(prompt, undefined, undefined, 'greedy');
    for (let step = 0; step < 6; step++) {
      const top = argmax(full.logits);
      expect(full.logits[top + 1], `step ${step}: the largest logit ties with its neighbour`).toBe(full.logits[top]);
      expect(top % 2).toBe(0);
      expect(greedy.logits).toBeUndefined();
      expect(greedy.greedyToken, `step ${step}`).toBe(top);
      full = await session.forward([top], full.cache);
      greedy = await session.forward([top], greedy.cache, undefined, 'greedy');
    }
    // The greedy calls fetched the token, not the logits.
    expect(rec.fetched.filter((f) => f.includes(TEXT_IO.nextToken) && !f.includes(TEXT_IO.logits))).toHaveLength(7);
    expect(rec.returnedDims.find((d) => TEXT_IO.nextToken in d)![TEXT_IO.nextToken]).toEqual([1, 1]);
  });

  test('generation: a folder without the output chooses from its logits, the same tokens; a sampling caller gets logits', async () => {
    const dir = join(tiedOut.dir, 'int4');
    const fetched = { current: [] as (readonly string[])[], old: [] as (readonly string[])[] };
    const current = await open({}, recordingOpener({ fetched: fetched.current, returnedDims: [] }), dir);
    const old = await open({}, withoutNextToken(recordingOpener({ fetched: fetched.old, returnedDims: [] })), dir);
    const generate = (s: TextSession, temperature?: number) =>
      generateTokens<KvCache>(withImagePrefill(s, undefined), prompt, decoder, { maxNewTokens: 8, stopTokens: new Set(), ...(temperature ? { temperature, seed: 3 } : {}) });

    const greedyNew = await generate(current);
    const greedyOld = await generate(old);
    expect(greedyNew.tokens).toHaveLength(8);
    expect(greedyOld.tokens).toEqual(greedyNew.tokens);
    expect(fetched.current.every((f) => f.includes(TEXT_IO.nextToken) && !f.includes(TEXT_IO.logits))).toBe(true);
    expect(fetched.old.every((f) => f.includes(TEXT_IO.logits) && !f.includes(TEXT_IO.nextToken))).toBe(true);

    fetched.current.length = 0;
    const sampledNew = await generate(current, 1.5);
    const sampledOld = await generate(old, 1.5);
    expect(fetched.current.every((f) => f.includes(TEXT_IO.logits) && !f.includes(TEXT_IO.nextToken))).toBe(true);
    expect(sampledNew.tokens).toEqual(sampledOld.tokens);
    expect(sampledNew.tokens).not.toEqual(greedyNew.tokens);
  });
});
