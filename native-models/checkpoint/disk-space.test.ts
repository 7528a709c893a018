import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { freeBytes } from './disk-space.ts';

/** What df reports as available to unprivileged users, in bytes. */
function dfAvailable(path: string): number {
  const out = execFileSync('df', ['-B1', '--output=avail', path], { encoding: 'utf8' });
  return Number(out.trim().split('\n').pop());
}

test('free space agrees with df, for a folder and for one not yet created under it', () => {
  const dir = tmpdir();
  const df = dfAvailable(dir);
  // Other tests write meanwhile: agree within 1% (or 64 MB on a nearly full disk).
  const slack = Math.max(df * 0.01, 64e6);
  expect(Math.abs(freeBytes(dir) - df)).toBeLessThan(slack);
  expect(Math.abs(freeBytes(join(dir, 'not', 'yet', 'made')) - df)).toBeLessThan(slack);
});
