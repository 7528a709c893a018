import { randomFillSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { CheckpointError } from './errors.ts';
import { checkWeightFiles, readAhead, readAheadSkipReason, type WeightFile } from './read-ahead.ts';

const work = tempDir('read-ahead');
afterAll(() => work.cleanup());

function weightFile(name: string, bytes: number): WeightFile {
  const path = join(work.dir, name);
  writeFileSync(path, randomFillSync(Buffer.alloc(bytes)));
  return { path, bytes };
}

const a = weightFile('a.onnx.data', 1_000_003);
const b = weightFile('b.onnx.data', 250_000);
const big = weightFile('big.onnx.data', 48 << 20);

describe('readAhead', () => {
  test('reads every byte of every file in order, reporting monotonic progress that ends at the total', async () => {
    const seen: { done: number; total: number; file: string }[] = [];
    const read = await readAhead([a, b], { chunkBytes: 100_000, onProgress: (done, total, file) => seen.push({ done, total, file }) });
    expect(read).toBe(a.bytes + b.bytes);
    expect(seen).toHaveLength(Math.ceil(a.bytes / 100_000) + Math.ceil(b.bytes / 100_000));
    expect(seen.every((p) => p.total === a.bytes + b.bytes)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.done).toBeGreaterThan(seen[i - 1]!.done);
    expect(seen.at(-1)!.done).toBe(a.bytes + b.bytes);
    // The first file is finished before the second starts.
    const firstOfB = seen.findIndex((p) => p.file === b.path);
    expect(seen[firstOfB - 1]).toMatchObject({ file: a.path, done: a.bytes });
  });

  test('reuses one buffer: reading 48 MiB in 1 MiB chunks does not grow memory by the file size', async () => {
    const before = process.memoryUsage().arrayBuffers;
    let peak = before;
    await readAhead([big], { chunkBytes: 1 << 20, onProgress: () => (peak = Math.max(peak, process.memoryUsage().arrayBuffers)) });
    expect(peak - before).toBeLessThan(8 << 20);
  });

  test('stops with the abort reason part way through', async () => {
    const controller = new AbortController();
    let calls = 0;
    const run = readAhead([big], { chunkBytes: 1 << 20, signal: controller.signal, onProgress: () => ++calls === 3 && controller.abort() });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toBe(3);
  });

  test('a file shorter than the manifest says is a CheckpointError naming it', async () => {
    await expect(readAhead([{ path: b.path, bytes: b.bytes + 10 }])).rejects.toThrow(new CheckpointError(`weight file ${b.path} ends at byte ${b.bytes}, before the ${b.bytes + 10} the manifest records; re-run \`kestrel model import\``));
  });
});

describe('checkWeightFiles', () => {
  test('passes present files of the recorded size, and names a missing or resized one with the fix', async () => {
    await expect(checkWeightFiles([a, b])).resolves.toBeUndefined();
    await expect(checkWeightFiles([a, { path: join(work.dir, 'gone.onnx.data'), bytes: 5 }])).rejects.toThrow(/gone\.onnx\.data is missing; re-run `kestrel model import`/);
    await expect(checkWeightFiles([{ ...a, bytes: a.bytes - 1 }])).rejects.toThrow(/a\.onnx\.data is 1000003 bytes but the manifest records 1000002; .* re-run `kestrel model import`/);
  });
});

describe('readAheadSkipReason', () => {
  test.each([
    [10e9, 24 * 2 ** 30, undefined],
    [14e9, 16e9, /not reading ahead: 14\.0 GB of weights is over 80% of this machine's 16\.0 GB of memory/],
    [12.8e9, 16e9, undefined],
    [12.9e9, 16e9, /12\.9 GB/],
  ])('%d bytes of weights with %d bytes of memory: %s', (weights, memory, expected) => {
    const reason = readAheadSkipReason(weights, memory);
    if (expected === undefined) expect(reason).toBeUndefined();
    else expect(reason).toMatch(expected);
  });
});
