import { expect, test } from 'vitest';
import { giveBackBuffer, giveBackChunk, takeBuffer, takeBytes } from './buffers.ts';

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

test('takeBytes lends the front of a pooled buffer of another size, up to twice the bytes asked, and gets it back from that view', () => {
  const big = takeBuffer(10 * MB);
  giveBackBuffer(big);
  // Too small a request for a buffer five times its size: a fresh one, the big buffer still pooled.
  const small = takeBytes(2 * MB);
  expect(small.buffer === big).toBe(false);
  const view = takeBytes(6 * MB);
  expect(view.buffer === big && view.byteOffset === 0 && view.byteLength === 6 * MB).toBe(true);
  // The lent view (byte 0, the length lent) gives the buffer back; other views of it do not.
  giveBackChunk(view.subarray(MB));
  giveBackChunk(view.subarray(0, MB));
  expect(takeBytes(6 * MB).buffer === big).toBe(false);
  giveBackChunk(new Float32Array(view.buffer, 0, (6 * MB) / 4));
  expect(takeBytes(5 * MB).buffer === big).toBe(true);
});

test('a lent buffer taken again whole is not given back by a view of its old loan', () => {
  // A fresh loan is rounded up (to an eighth of its power of two): the view spans less than its buffer.
  const view = takeBytes(3 * MB + 1);
  expect(view.buffer.byteLength).toBe(3.25 * MB);
  giveBackChunk(view);
  const whole = takeBuffer(view.buffer.byteLength);
  expect(whole === view.buffer).toBe(true);
  // The old loan's view is stale: giving it back must not pool the buffer its new owner uses.
  giveBackChunk(view);
  expect(takeBuffer(whole.byteLength) === whole).toBe(false);
});
