import { expect, test } from 'vitest';
import { giveBackBuffer, giveBackChunk, takeBuffer } from './buffers.ts';

const MB = 2 ** 20;
// Identity compared as booleans: a failing toBe would print megabytes of buffer contents.

test('a buffer given back is the next one taken of its size', () => {
  const a = takeBuffer(3 * MB);
  giveBackBuffer(a);
  expect(takeBuffer(3 * MB) === a).toBe(true);
  expect(takeBuffer(3 * MB) === a).toBe(false);
});

test('buffers of a size no longer read make room for the next size: the newest are kept', () => {
  // Fill the pool (32 MB) with 16 MB buffers, as an embedding's chunks would, then move on.
  const old = [takeBuffer(16 * MB), takeBuffer(16 * MB)];
  for (const b of old) giveBackBuffer(b);
  const next = takeBuffer(2 * MB);
  giveBackBuffer(next);
  expect(takeBuffer(2 * MB) === next).toBe(true);
  // One 16 MB buffer was dropped to make room, the newer one is still pooled.
  expect(takeBuffer(16 * MB) === old[1]).toBe(true);
  expect(takeBuffer(16 * MB) === old[0]).toBe(false);
});

test('a buffer given back twice is handed out once', () => {
  const a = takeBuffer(5 * MB);
  giveBackBuffer(a);
  giveBackBuffer(a);
  expect(takeBuffer(5 * MB) === a).toBe(true);
  expect(takeBuffer(5 * MB) === a).toBe(false);
});

test('a chunk is given back only when it spans its whole buffer', () => {
  const whole = new Float32Array(takeBuffer(6 * MB));
  giveBackChunk(whole);
  expect(takeBuffer(6 * MB) === whole.buffer).toBe(true);
  const buffer = takeBuffer(7 * MB);
  giveBackChunk(new Float32Array(buffer, 4, 16));
  giveBackChunk(new Float32Array(buffer, 0, 16));
  expect(takeBuffer(7 * MB) === buffer).toBe(false);
});
