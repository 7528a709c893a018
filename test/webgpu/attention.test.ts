import { afterAll, expect, test } from 'vitest';
import { ATTENTION_CASES, runAttentionCase } from '../harness/attention-cases.ts';
import { maxAbsDiff } from '../harness/floats.ts';
import { tempDir } from '../harness/tiny-checkpoint.ts';

// The blocked attention's nodes on WebGPU: the Loop runs on the CPU provider as control flow, the
// body's MatMul, Where and Softmax on the adapter (webgpu-placement.test.ts checks where). Every
// case of the CPU's unit test, against the same plain loops, within fp32 rounding on a GPU.
const work = tempDir('webgpu-attention');
afterAll(work.cleanup);

test.each(ATTENTION_CASES)('%s: within 1e-4 of plain loops at fp32', async (_, c) => {
  const { got, want } = await runAttentionCase(work.dir, c, 'webgpu');
  expect(got.length).toBe(want.length);
  expect(maxAbsDiff(got, want)).toBeLessThan(1e-4);
});
