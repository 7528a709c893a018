import { describe, expect, test } from 'vitest';
import { ModelLoads, type LoadProgressUpdate, type ModelLoader } from './model-loads.ts';
import type { HostEvent, ModelLoad } from './types.ts';

const T = 5000;
const tick = () => new Promise((d) => setTimeout(d, 1));

/** A loader at the seam: many quick byte updates, then the session phases, like the real one. */
function scriptedLoader(fail?: string): ModelLoader<{ name: string }> & { calls: number } {
  const loader = async (dir: string, device: string, onProgress: (p: LoadProgressUpdate) => void) => {
    loader.calls++;
    onProgress({ phase: 'weights', done: 0, total: T, detail: 'reading', indeterminate: false });
    for (let done = 100; done <= T; done += 100) {
      onProgress({ phase: 'weights', done, total: T, detail: 'text-model.onnx.data', indeterminate: false });
      await tick();
    }
    onProgress({ phase: 'text', done: T, total: T, detail: 'creating the language model session on the CPU', indeterminate: true });
    if (fail) throw new Error(fail);
    onProgress({ phase: 'vision', done: T, total: T, detail: 'creating the vision session on the CPU', indeterminate: true });
    onProgress({ phase: 'ready', done: T, total: T, detail: 'loaded in 0.1 s', indeterminate: false });
    return { name: `${dir} on ${device}` };
  };
  loader.calls = 0;
  return loader;
}

function collect(loads: ModelLoads<unknown>): ModelLoad[] {
  const seen: ModelLoad[] = [];
  loads.subscribe((e: HostEvent) => e.type === 'model_load' && seen.push(e.load));
  return seen;
}

describe('ModelLoads', () => {
  test('a first load sends its phases and a few byte updates; the same folder and device again sends nothing', async () => {
    const loader = scriptedLoader();
    const loads = new ModelLoads(loader);
    const seen = collect(loads);
    const model = await loads.open('/models/a', 'cpu');
    expect(model.name).toBe('/models/a on cpu');
    expect(seen.map((l) => l.phase).filter((p, i, all) => p !== all[i - 1])).toEqual(['weights', 'text', 'vision', 'ready']);
    const weights = seen.filter((l) => l.phase === 'weights');
    // 51 byte updates over at least 50 ms: throttled to a few, but the first and the last (all bytes) always go.
    expect(weights.length).toBeLessThan(20);
    expect(weights[0]!.done).toBe(0);
    expect(weights.at(-1)!.done).toBe(T);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThanOrEqual(seen[i - 1]!.done);
    expect(seen.every((l) => l.dir === '/models/a' && l.device === 'cpu' && l.total === T)).toBe(true);
    expect(loads.current()).toMatchObject({ phase: 'ready', done: T });

    seen.length = 0;
    expect(await loads.open('/models/a', 'cpu')).toBe(model);
    expect(seen).toEqual([]);
    expect(loader.calls).toBe(1);
  });

  test('another device is another load', async () => {
    const loader = scriptedLoader();
    const loads = new ModelLoads(loader);
    await loads.open('/models/a', 'cpu');
    const seen = collect(loads);
    await loads.open('/models/a', 'cuda');
    expect(loader.calls).toBe(2);
    expect(seen.at(-1)).toMatchObject({ phase: 'ready', device: 'cuda' });
  });

  test('a failed load is sent as failed with its message, and the next open tries again', async () => {
    const loader = scriptedLoader('device cuda: the CUDA provider libraries are not installed; npm run gpu:cuda');
    const loads = new ModelLoads(loader);
    const seen = collect(loads);
    await expect(loads.open('/models/a', 'cuda')).rejects.toThrow(/gpu:cuda/);
    await tick();
    expect(seen.at(-1)).toMatchObject({ phase: 'failed', done: T, total: T, error: 'device cuda: the CUDA provider libraries are not installed; npm run gpu:cuda' });
    await expect(loads.open('/models/a', 'cuda')).rejects.toThrow(/gpu:cuda/);
    expect(loader.calls).toBe(2);
  });
});
