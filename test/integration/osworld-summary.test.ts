import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { writeScore, writeUnsupported } from '../../agent/osworld/results.ts';
import { runKestrel } from '../harness/cli.ts';

const kestrel = (args: string[]) => runKestrel(args);

describe('kestrel eval osworld', () => {
  test('prints the success rate per domain over a results folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'kestrel-results-'));
    await writeScore(join(root, 'os', 'a'), 1);
    await writeScore(join(root, 'os', 'b'), 0);
    await writeScore(join(root, 'chrome', 'c'), 1);
    await writeUnsupported(join(root, 'chrome', 'd'), ['getter "x" is not supported']);
    const result = await kestrel(['eval', 'osworld', root]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(
      ['chrome: 100.00% success over 1 run (1 unsupported)', 'os: 50.00% success over 2 runs', 'total: 66.67% success over 3 runs (1 unsupported)', ''].join('\n'),
    );
    const json = await kestrel(['eval', 'osworld', root, '--json']);
    expect(JSON.parse(json.stdout).total).toMatchObject({ runs: 3, score: 2 });
  });

  test('a missing or empty folder is one line saying what to give', async () => {
    const missing = await kestrel(['eval', 'osworld', '/nonexistent/results']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('kestrel: results folder /nonexistent/results does not exist; give the folder `kestrel replay --record` wrote to\n');
    const empty = await kestrel(['eval', 'osworld', mkdtempSync(join(tmpdir(), 'kestrel-empty-'))]);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/holds no result\.txt files/);
  });
});
