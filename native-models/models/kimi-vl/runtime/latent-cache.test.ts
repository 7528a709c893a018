import { describe, expect, test } from 'vitest';
import { DeviceLatentCache, HostLatentCache } from './latent-cache.ts';

const WIDTH = 3;
/** Rows numbered from `start`, so every value says which row it belongs to. */
function rows(start: number, count: number, layer: number): Float32Array {
  return Float32Array.from({ length: count * WIDTH }, (_, k) => 100 * layer + start + Math.floor(k / WIDTH));
}
const extend = (c: HostLatentCache, count: number) => c.append([rows(c.length, count, 0), rows(c.length, count, 1)], count);

describe('host latent cache', () => {
  test('appends rows per layer and exposes exactly length × width values', () => {
    let c = HostLatentCache.empty(2, WIDTH, 'float32');
    expect(c.rows(0)).toHaveLength(0);
    c = extend(c, 5);
    c = extend(c, 1);
    expect(c.length).toBe(6);
    expect([...c.rows(1)]).toEqual([...rows(0, 6, 1)]);
  });

  test('growing past the capacity keeps every earlier row (hundreds of single-row steps)', () => {
    let c = extend(HostLatentCache.empty(2, WIDTH, 'float32'), 30);
    for (let i = 0; i < 300; i++) c = extend(c, 1);
    expect([...c.rows(0)]).toEqual([...rows(0, 330, 0)]);
    expect([...c.rows(1)]).toEqual([...rows(0, 330, 1)]);
  });

  test('steps reuse one buffer: a view of an earlier step sees the later rows (no copy per step)', () => {
    const first = extend(HostLatentCache.empty(2, WIDTH, 'float32'), 10);
    const second = extend(first, 1);
    expect(second.rows(0).buffer).toBe(first.rows(0).buffer);
  });

  test('two continuations of one cache do not overwrite each other', () => {
    const prefix = extend(HostLatentCache.empty(2, WIDTH, 'float32'), 4);
    const a = prefix.append([Float32Array.of(7, 7, 7), Float32Array.of(8, 8, 8)], 1);
    const b = prefix.append([Float32Array.of(9, 9, 9), Float32Array.of(6, 6, 6)], 1);
    expect([...a.rows(0).subarray(12)]).toEqual([7, 7, 7]);
    expect([...b.rows(0).subarray(12)]).toEqual([9, 9, 9]);
    expect([...a.rows(1).subarray(0, 12)]).toEqual([...b.rows(1).subarray(0, 12)]);
    expect([...prefix.rows(0)]).toEqual([...rows(0, 4, 0)]);
  });

  test('a reserved cache takes appends up to its size in the same buffers, and keeps its rows', () => {
    const start = extend(HostLatentCache.empty(2, WIDTH, 'float32'), 3);
    const reserved = start.reserve(100);
    expect([...reserved.rows(1)]).toEqual([...rows(0, 3, 1)]);
    let c = reserved;
    for (const count of [40, 40, 17]) c = extend(c, count);
    expect(c.rows(0).buffer).toBe(reserved.rows(0).buffer);
    expect(c.rows(0).buffer.byteLength).toBe(128 * WIDTH * 4); // at least double the 64 rows it had
    expect([...c.rows(0)]).toEqual([...rows(0, 100, 0)]);
    // Reserving less than there is room for changes nothing; a sibling's rows are not overwritten.
    expect(c.reserve(50)).toBe(c);
    const sibling = start.reserve(10);
    expect(sibling.rows(0).buffer).not.toBe(c.rows(0).buffer);
    const nines = new Float32Array(2 * WIDTH).fill(9);
    expect([...sibling.append([nines, nines], 2).rows(0).subarray(9)]).toEqual([...nines]);
    expect([...c.rows(0).subarray(0, 15)]).toEqual([...rows(0, 5, 0)]);
  });

  test('fp16 caches hold raw half values', () => {
    const c = HostLatentCache.empty(1, WIDTH, 'float16').append([Uint16Array.of(0x3c00, 0x4000, 0xc000)], 1);
    expect(c.rows(0)).toBeInstanceOf(Uint16Array);
    expect([...c.rows(0)]).toEqual([0x3c00, 0x4000, 0xc000]);
  });

  test('wrong layer counts or row sizes are one-line errors', () => {
    const c = HostLatentCache.empty(2, WIDTH, 'float32');
    expect(() => c.append([rows(0, 1, 0)], 1)).toThrow(/1 layers of new rows for a 2-layer cache/);
    expect(() => c.append([rows(0, 1, 0), rows(0, 2, 1)], 1)).toThrow(/layer 1 returned 6 values for 1 rows of 3/);
  });
});

describe('device latent cache', () => {
  test('is fed once, then spent; release disposes every tensor once', () => {
    let disposed = 0;
    const tensor = { location: 'device' as const, type: 'float32', dims: [1, 2, WIDTH], dispose: () => void disposed++ };
    const c = new DeviceLatentCache(2, [tensor, { ...tensor }]);
    expect(c.take()).toHaveLength(2);
    c.release();
    c.release();
    expect(disposed).toBe(2);
    expect(() => c.take()).toThrow(/already extended or released; continue from the cache the last call returned/);
  });
});
