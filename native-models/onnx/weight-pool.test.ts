import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, test } from 'vitest';
import { freshDirs, tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { inThisThread, writeModel } from './model-writer.ts';
import { dataLayout, pieceStarts, unitPlaces, weightUnits } from './data-layout.ts';
import { WeightPool } from './weight-pool.ts';
import { poolTestGraph, type PoolTestGraph } from './testing/pool-graph.ts';

const WORKER = new URL('./testing/pool-worker.ts', import.meta.url);
const t = tempDir('weight-pool');
afterAll(t.cleanup);

const freshDir = freshDirs(t.dir);

/** A pool of 3 workers that cuts weights over 2 kB into parts. */
const startPool = (graph: PoolTestGraph = {}, thisThreadUnits?: number) => WeightPool.start(WORKER, { graph }, 3, { partBytes: 2000, ...(thisThreadUnits !== undefined ? { thisThreadUnits } : {}) });

describe('weights made by worker threads', () => {
  test('the units: a group stays whole unless it can make its rows, a large weight or group that can make its own rows is cut into parts, others stay whole', () => {
    const units = weightUnits(poolTestGraph().weights, 2000);
    const names = poolTestGraph().weights.map((w) => w.name);
    const of = (name: string) => units.filter((u) => u.from === names.indexOf(name));
    expect(of('q.codes')).toEqual([{ from: names.indexOf('q.codes'), to: names.indexOf('q.zeros') + 1 }]); // 1083 bytes: under a part
    expect(of('head')).toEqual([{ from: names.indexOf('head'), to: names.indexOf('head') + 1 }]); // 16 kB, but no row producer
    // 301 rows of 132 bytes: 15 rows (1980 bytes) a part.
    expect(of('embedding').map((u) => u.rows)).toEqual(Array.from({ length: 21 }, (_, i) => [15 * i, Math.min(301, 15 * i + 15)]));
    expect(of('experts').length).toBe(10); // 64 rows of 258 bytes (fp16): 7 a part
    // A group cut by its rows: 400 rows of 9 + 8 + 1 bytes, 111 a part, each part all three weights.
    expect(of('m.codes')).toEqual([0, 111, 222, 333].map((a) => ({ from: names.indexOf('m.codes'), to: names.indexOf('m.zeros') + 1, rows: [a, Math.min(400, a + 111)] })));
    expect(units.flatMap((u) => (u.rows && u.rows[0] > 0 ? [] : Array.from({ length: u.to - u.from }, (_, i) => u.from + i)))).toEqual(names.map((_, i) => i));
  });

  test.each([
    ['the workers alone', 0],
    ['this thread the first 9 units (parts of a weight among them), the workers the rest', 9],
    ['this thread until a worker is ready', undefined],
  ])('write the same files and pieces as one thread, byte for byte, telling each weight in order: %s', async (_, thisThreadUnits) => {
    const one = await writeModel(poolTestGraph(), freshDir(), 'model', { weights: inThisThread(2000) });
    const pool = await startPool({}, thisThreadUnits);
    const done: number[] = [];
    const many = await writeModel(poolTestGraph(), freshDir(), 'model', { weights: pool.writer('test'), onProgress: (p) => done.push(p.index) });
    await pool.close();
    expect(many.dataPieces).toEqual(one.dataPieces);
    // Parts, the runs of a group's parts (its weights lie apart), and whole units: many pieces.
    expect(many.dataPieces.length).toBe(pieceStarts(unitPlaces(poolTestGraph().weights, dataLayout(poolTestGraph().weights), weightUnits(poolTestGraph().weights, 2000))).length);
    expect(many.dataPieces.length).toBeGreaterThan(30);
    expect(many.modelSha256).toBe(one.modelSha256);
    expect(Buffer.compare(readFileSync(many.dataFile), readFileSync(one.dataFile))).toBe(0);
    expect(done).toEqual(poolTestGraph().weights.map((_, i) => i));
  });

  test.each([
    [{ failAt: 'experts' }, 'experts: the producer failed on purpose'],
    // Every part overruns; whichever worker finds it first says so.
    [{ overrunAt: 'tail' }, /^weight tail: rows (\d+)–(\d+) produced \d+ bytes, expected \d+ for shape \[250, 17\]$/],
    [{ overrunAt: 'norm' }, /^weight norm: produced 40 bytes, expected 20 for shape \[1, 5\]$/],
    [{ overrunAt: 'm.scales' }, /^weight m\.scales: rows (\d+)–(\d+) produced \d+ bytes, expected \d+ for shape \[800\]$/],
  ] as const)('a worker failing (%j) fails the write with its message, stops the pool and leaves no files', async (graph, message) => {
    const dir = freshDir();
    const pool = await startPool(graph);
    await expect(writeModel(poolTestGraph(graph), dir, 'model', { weights: pool.writer('test') })).rejects.toThrow(message);
    expect(readdirSync(dir)).toEqual([]);
    await expect(writeModel(poolTestGraph(), freshDir(), 'model', { weights: pool.writer('test') })).rejects.toThrow(/weight pool is closed|stopped/);
  });

  test('a worker whose graph cannot be built says so instead of ready, and the write fails with that one line', async () => {
    const dir = freshDir();
    // This thread makes no units, so the write waits for a worker and hears of its failure.
    const pool = await startPool({ failBuild: true }, 0);
    await expect(writeModel(poolTestGraph(), dir, 'model', { weights: pool.writer('test') })).rejects.toThrow(/^a weight worker could not start: the test graph failed to build on purpose$/);
    expect(readdirSync(dir)).toEqual([]);
    await pool.close();
  });

  test('an error thrown by the progress callback (a cancelled import) stops the write the same way', async () => {
    const dir = freshDir();
    const pool = await startPool();
    const cancel = (p: { index: number }) => {
      if (p.index === 3) throw new Error('cancelled');
    };
    await expect(writeModel(poolTestGraph(), dir, 'model', { weights: pool.writer('test'), onProgress: cancel })).rejects.toThrow('cancelled');
    expect(readdirSync(dir)).toEqual([]);
    await pool.close();
  });
});
