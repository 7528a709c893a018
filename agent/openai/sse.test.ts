import { describe, expect, test } from 'vitest';
import { readSseData } from './sse.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function events(chunks: Iterable<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const data of readSseData(chunks)) out.push(data);
  return out;
}

/** `text` cut into pieces of `size` bytes. */
function* pieces(text: string, size: number): Generator<Uint8Array> {
  const all = bytes(text);
  for (let i = 0; i < all.length; i += size) yield all.subarray(i, i + size);
}

describe('readSseData', () => {
  test('events, comments, multi-line data and every line ending, however the body is cut', async () => {
    const body = ': hello\r\ndata: one\r\n\r\nevent: x\ndata: two\ndata: lines\n\ndata: three\r\rdata: four';
    const expected = ['one', 'two\nlines', 'three', 'four'];
    for (const size of [1, 2, 3, 7, body.length]) expect(await events(pieces(body, size))).toEqual(expected);
  });

  test('a \\r\\n split between chunks is one line end, not two', async () => {
    expect(await events([bytes('data: a\r'), bytes('\ndata: b\r'), bytes('\n\r\n')])).toEqual(['a\nb']);
  });

  test('a long line in many small chunks is read in time linear in its length', async () => {
    const line = `data: ${'x'.repeat(8 * 2 ** 20)}\n\n`;
    const started = performance.now();
    const [data] = await events(pieces(line, 4096));
    expect(data).toHaveLength(8 * 2 ** 20);
    // Joining the pieces once takes milliseconds; re-reading the line per chunk took tens of seconds.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
