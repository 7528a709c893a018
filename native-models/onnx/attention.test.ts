import { afterAll, describe, expect, test } from 'vitest';
import { maxAbsDiff } from '../../test/harness/floats.ts';
import { ATTENTION_CASES as cases, runAttentionCase, type AttentionCase as Case } from '../../test/harness/attention-cases.ts';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';

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
