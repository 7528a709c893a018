import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { isInsideFolder, realPathInside } from './folder-containment.ts';

test('inside means strictly below the folder, not the folder itself nor a sibling that shares its prefix', () => {
  expect(isInsideFolder('/data/runs', '/data/runs/a/b.png')).toBe(true);
  expect(isInsideFolder('/data/runs', '/data/runs')).toBe(false);
  expect(isInsideFolder('/data/runs', '/data/runs-old/b.png')).toBe(false);
  expect(isInsideFolder('/data/runs', '/data/b.png')).toBe(false);
  expect(isInsideFolder('/data/runs', '/data/runs/..a/b.png')).toBe(true);
});

test('links are followed on both sides before the check', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-contain-'));
  const folder = join(root, 'folder');
  await mkdir(join(folder, 'sub'), { recursive: true });
  await writeFile(join(folder, 'sub', 'in.png'), 'in');
  await writeFile(join(root, 'secret.txt'), 'out');
  await symlink(join(root, 'secret.txt'), join(folder, 'link-out.png'));
  await symlink(join(folder, 'sub'), join(folder, 'link-in'));
  await symlink(folder, join(root, 'folder-link'));

  expect(await realPathInside(folder, 'sub/in.png')).toBe(join(folder, 'sub', 'in.png'));
  // A link that stays inside is fine; one that leaves is outside, though its own name is inside.
  expect(await realPathInside(folder, 'link-in/in.png')).toBe(join(folder, 'sub', 'in.png'));
  expect(await realPathInside(folder, 'link-out.png')).toBeNull();
  expect(await realPathInside(folder, '../secret.txt')).toBeNull();
  // The folder reached through a link still contains its own files.
  expect(await realPathInside(join(root, 'folder-link'), 'sub/in.png')).toBe(join(folder, 'sub', 'in.png'));
  await expect(realPathInside(folder, 'missing.png')).rejects.toMatchObject({ code: 'ENOENT' });
});
