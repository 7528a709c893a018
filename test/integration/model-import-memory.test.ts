import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../harness/cli.ts';
import { tinyCheckpoint, tempDir } from '../harness/tiny-checkpoint.ts';

const execFileAsync = promisify(execFile);

// Wide enough that the converted weights (~700 MB fp32) dwarf anything a streaming import
// should hold: embeddings and lm_head of the real vocabulary, 8 layers of 64 experts.
const ckpt = tinyCheckpoint({
  dtype: 'bf16',
  shards: 4,
  text: { hidden_size: 256, num_hidden_layers: 8, n_routed_experts: 64, num_experts_per_tok: 6, moe_intermediate_size: 256, intermediate_size: 1024 },
});
const out = tempDir('import-memory');
afterAll(() => {
  ckpt.cleanup();
  out.cleanup();
});

describe('import memory', () => {
  // Its embedding and lm_head (168 MB each in fp32) are each cut into parts for the workers.
  const hashes: Record<number, Record<string, string>> = {};
  test.each([0, 2])('streams with %i weight workers: peak RSS stays far below the size of the weights it writes (and below 2 GB)', async (workers) => {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', 'test/harness/import-peak-rss.ts', ckpt.dir, join(out.dir, `m${workers}`), 'fp32', String(workers)], { cwd: REPO_ROOT });
    const { baselineBytes, peakBytes, weightBytes, sha256 } = JSON.parse(stdout) as Record<string, number> & { sha256: Record<string, string> };
    hashes[workers] = sha256;
    expect(weightBytes).toBeGreaterThan(600e6);
    expect(peakBytes).toBeLessThan(2 * 1024 ** 3);
    expect(peakBytes - baselineBytes).toBeLessThan(weightBytes / 2);
  });

  test('the two imports wrote the same bytes', () => {
    expect(hashes[2]).toEqual(hashes[0]);
    expect(Object.keys(hashes[0] ?? {})).toHaveLength(4);
  });
});
