import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from 'vitest';
import { checkFolderSettings } from './folder-settings.ts';

const MANIFEST = 'kestrel-model.json';
const run = promisify(execFile);

test('folders Kestrel writes into must exist or be creatable; the model folder must be a model', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-folders-'));
  await writeFile(join(root, 'a-file'), 'x');
  await mkdir(join(root, 'model'));
  await writeFile(join(root, 'model', MANIFEST), '{}');
  await mkdir(join(root, 'not-a-model'));

  // Fine: empty (the default), an existing folder, one that can be created, a model.
  await checkFolderSettings({ modelsDir: '', trajectoriesDir: '', modelDir: '' }, MANIFEST);
  await checkFolderSettings({ modelsDir: root, trajectoriesDir: join(root, 'new', 'deeper'), modelDir: join(root, 'model') }, MANIFEST);

  await expect(checkFolderSettings({ modelsDir: join(root, 'a-file') }, MANIFEST)).rejects.toThrow(
    `Models folder: ${join(root, 'a-file')} is a file, not a folder; choose a folder you can write to, or leave it empty for the default`,
  );
  await expect(checkFolderSettings({ trajectoriesDir: join(root, 'a-file', 'runs') }, MANIFEST)).rejects.toThrow(
    `Trajectories folder: ${join(root, 'a-file')} is a file, so ${join(root, 'a-file', 'runs')} cannot be created;`,
  );
  await expect(checkFolderSettings({ modelDir: join(root, 'missing') }, MANIFEST)).rejects.toThrow(
    `Model folder: ${join(root, 'missing')} does not exist; give a folder made by kestrel model import (Settings → Models lists the imported ones)`,
  );
  await expect(checkFolderSettings({ modelDir: join(root, 'not-a-model') }, MANIFEST)).rejects.toThrow(
    `Model folder: ${join(root, 'not-a-model')} has no ${MANIFEST}, so it is not a model made by kestrel model import;`,
  );
  await expect(checkFolderSettings({ modelDir: join(root, 'missing') }, MANIFEST, { modelDir: '--model-dir' })).rejects.toThrow(/^--model-dir: /);
});

test('a folder this user cannot write to is refused (checked as an unprivileged user when run as root)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-folders-ro-'));
  await chmod(root, 0o555);
  const target = join(root, 'models');
  const check = `import { checkFolderSettings } from ${JSON.stringify(join(import.meta.dirname, 'folder-settings.ts'))};
    checkFolderSettings({ modelsDir: ${JSON.stringify(target)} }, 'm.json').then(() => console.log('accepted'), (err) => console.log(err.message));`;
  // Root may write anywhere, so the check runs as "nobody" there.
  const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', check], { cwd: import.meta.dirname, env: { ...process.env, HOME: tmpdir() }, ...asNobody });
  expect(stdout.trim()).toBe(`Models folder: ${target} does not exist and ${root} is not writable by this user, so it cannot be created; choose a folder you can write to, or leave it empty for the default`);
});
