import { afterAll, describe, expect, test } from 'vitest';
import { maxAbsDiff } from '../../test/harness/floats.ts';
import { ATTENTION_CASES as cases, runAttentionCase, type AttentionCase as Case } from '../../test/harness/attention-cases.ts';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { ATTENTION_SCORE_BUDGET, attentionPlan } from './attention.ts';
import { openSession } from './backend.ts';
import { GraphBuilder } from './graph-builder.ts';
import { writeModel } from './model-writer.ts';
import { DataType } from './onnx-proto.ts';

const t = tempDir('attention');
afterAll(t.cleanup);
const run = (c: Case) => runAttentionCase(t.dir, c);

describe('blocked attention against plain loops', () => {
  test.each(cases)('%s', async (_, c) => {
    const { got, want } = await run(c);
    expect(got.length).toBe(want.length);
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  test('the block size follows the budget: a budget for 3 queries gives the same result as one block', async () => {
    const base: Case = { heads: 2, queries: 10, keys: 10, widths: [6], valueWidth: 4, firstPosition: 0, output: 'merged', budget: 1 << 20 };
    const whole = await run(base);
    const blocked = await run({ ...base, budget: 2 * 10 * 3 });
    expect(maxAbsDiff(blocked.got, whole.got)).toBeLessThan(1e-6);
  });
});

describe('the plan bounds the scores that exist at once', () => {
  // [heads, queries, keys, expected queries per block]: a 2048-token chunk after 6k cached
  // tokens on Kimi-VL-A3B's 16 heads, the same at 128K, and a 4K screenshot's ~16k patches.
  test.each([
    [16, 2048, 8192, 256],
    [16, 2048, 131072, 16],
    [16, 16384, 16384, 128],
    [4, 100, 100, 100],
    [16, 1, 1 << 22, 1],
  ])('%i heads, %i queries, %i keys: %i queries a block, never over the budget', async (heads, queries, keys, perBlock) => {
    const g = new GraphBuilder();
    const count = (name: string) => g.input(name, DataType.INT64, [1]);
    const plan = attentionPlan(g, { queries: count('queries'), keys: count('keys'), heads, name: 'plan' });
    g.output(plan.blockSize, DataType.INT64);
    g.output(plan.blocks, DataType.INT64);
    const written = await writeModel(g, t.dir, `plan-${heads}-${queries}-${keys}`);
    const session = await openSession(written.modelFile, { device: 'cpu' });
    const one = (v: number) => ({ type: 'int64' as const, data: BigInt64Array.of(BigInt(v)), dims: [1] });
    const out = await session.run({ queries: one(queries), keys: one(keys) }, [plan.blockSize, plan.blocks]);
    await session.release();
    const block = Number((out[plan.blockSize]!.data as BigInt64Array)[0]);
    expect(block).toBe(perBlock);
    expect(Number((out[plan.blocks]!.data as BigInt64Array)[0])).toBe(Math.ceil(queries / perBlock));
    if (block > 1) expect(heads * block * keys).toBeLessThanOrEqual(ATTENTION_SCORE_BUDGET);
  });
});
