import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { formatResultsSummary, summarizeResults, writeScore, writeUnsupported } from './results.ts';

describe('results summary', () => {
  test('success rate per domain over Kestrel and OSWorld layouts, unsupported counted apart', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kestrel-summary-'));
    await writeScore(join(root, 'os', 'a'), 1);
    await writeScore(join(root, 'os', 'b'), 0);
    await writeScore(join(root, 'os', 'c'), 0.5);
    await writeUnsupported(join(root, 'os', 'd'), ['getter "vm_terminal_output" is not supported']);
    // OSWorld's own layout: <action_space>/<observation>/<model>/<domain>/<id>/
    const deep = join(root, 'pyautogui', 'screenshot', 'kimi', 'chrome');
    mkdirSync(join(deep, 'x'), { recursive: true });
    writeFileSync(join(deep, 'x', 'result.txt'), '1\n');
    mkdirSync(join(deep, 'y'), { recursive: true });
    writeFileSync(join(deep, 'y', 'result.txt'), 'oops');

    const summary = await summarizeResults(root);
    expect(summary.domains).toEqual([
      { domain: 'chrome', runs: 1, score: 1, successRate: 1, unsupported: 0, unreadable: 1 },
      { domain: 'os', runs: 3, score: 1.5, successRate: 0.5, unsupported: 1, unreadable: 0 },
    ]);
    expect(summary.total).toMatchObject({ runs: 4, score: 2.5, successRate: 0.625, unsupported: 1 });
    expect(formatResultsSummary(summary).split('\n')).toEqual([
      'chrome: 100.00% success over 1 run (1 unreadable)',
      'os: 50.00% success over 3 runs (1 unsupported)',
      'total: 62.50% success over 4 runs (1 unsupported, 1 unreadable)',
    ]);
  });

  test('re-scoring a task replaces its previous verdict', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kestrel-summary-'));
    await writeUnsupported(join(root, 'os', 'a'), ['x']);
    await writeScore(join(root, 'os', 'a'), 1);
    expect((await summarizeResults(root)).total).toMatchObject({ runs: 1, unsupported: 0 });
    await expect(summarizeResults(join(root, 'none'))).rejects.toThrow('results folder');
  });
});
