import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, test } from 'vitest';
import { readNamedFile } from './files.ts';

const dir = await mkdtemp(join(tmpdir(), 'kestrel-files-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

test('readNamedFile: the text, or one line naming the file and why, made into the caller’s error', async () => {
  await writeFile(join(dir, 'a.json'), 'hello');
  const fail = (message: string) => new RangeError(message);
  expect(await readNamedFile(join(dir, 'a.json'), 'notes file', fail)).toBe('hello');
  await expect(readNamedFile(join(dir, 'none.json'), 'notes file', fail, '; write one first')).rejects.toThrow(new RangeError(`notes file ${join(dir, 'none.json')} does not exist; write one first`));
  await expect(readNamedFile(dir, 'notes file', fail)).rejects.toThrow(/^cannot read notes file .+: EISDIR/);
});
