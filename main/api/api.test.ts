import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect, test } from 'vitest';
import { testHostOptions } from '../../test/harness/test-host.ts';
import { trajectoryLibrary } from './agent-bindings.ts';
import { createHost } from './host.ts';
import { DEFAULT_SETTINGS } from './settings.ts';
import type { PublicSettings } from './types.ts';

// The routes as the UI's socket reaches them (untrusted input), against the real settings
// store, model manager and trajectory reader on real folders.

test('folder settings: a relative or unusable folder is refused as the Settings screen names it, and nothing is saved', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-api-folders-'));
  const { api, settings } = await createHost(testHostOptions(dir));
  await expect(api.call('settings.update', { modelsDir: '../../' })).rejects.toThrow(/^Models folder must be an absolute folder path/);
  await writeFile(join(dir, 'file'), 'x');
  await expect(api.call('settings.update', { trajectoriesDir: join(dir, 'file') })).rejects.toThrow(`Trajectories folder: ${join(dir, 'file')} is a file, not a folder;`);
  await expect(api.call('settings.update', { modelDir: join(dir, 'nothing-here'), maxSteps: 3 })).rejects.toThrow(/^Model folder: .*nothing-here does not exist;/);
  expect(settings.get()).toMatchObject({ modelsDir: '', trajectoriesDir: '', modelDir: '', maxSteps: DEFAULT_SETTINGS.maxSteps });

  const view = (await api.call('settings.update', { modelsDir: join(dir, 'my-models') })) as PublicSettings;
  expect(view.folders).toEqual({ models: join(dir, 'my-models'), trajectories: join(dir, 'trajectories') });
  expect(view.settings.modelsDir).toBe(join(dir, 'my-models'));
});

test('models.delete removes only a listed model, never a folder with a manifest elsewhere', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-api-delete-'));
  const { api } = await createHost(testHostOptions(dir));
  const precious = join(dir, 'home', 'project');
  await mkdir(precious, { recursive: true });
  await writeFile(join(precious, 'kestrel-model.json'), '{}');
  await mkdir(join(dir, 'models', 'kimi'), { recursive: true });
  await writeFile(join(dir, 'models', 'kimi', 'kestrel-model.json'), '{}');

  await expect(api.call('models.delete', { path: precious })).rejects.toThrow(/is not one of the models listed/);
  await expect(api.call('models.delete', { path: join(dir, 'models', '..', 'home', 'project') })).rejects.toThrow(/is not one of the models listed/);
  // Linked into the models folder it is listed; deleting it removes the link, not the folder.
  await symlink(precious, join(dir, 'models', 'shortcut'));
  await api.call('models.delete', { path: precious });
  expect(await readdir(join(dir, 'models'))).toEqual(['kimi']);
  expect(await readdir(precious)).toEqual(['kestrel-model.json']);
  const { models } = (await api.call('models.delete', { path: join(dir, 'models', 'kimi') })) as { models: unknown[] };
  expect(models).toEqual([]);
});

test('trajectories.reground never sends a screenshot that a link takes out of the run folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-api-reground-'));
  const run = join(dir, 'run');
  await mkdir(run);
  await writeFile(join(dir, 'private.png'), await sharp({ create: { width: 8, height: 8, channels: 3, background: '#fff' } }).png().toBuffer());
  await symlink(join(dir, 'private.png'), join(run, 'step_0.png'));
  const line = { step_num: 1, action: 'pyautogui.click(1, 1)', reward: 0, done: false, info: {}, screenshot_file: 'step_0.png' };
  await writeFile(join(run, 'traj.jsonl'), `${JSON.stringify(line)}\n${JSON.stringify({ ...line, step_num: 2 })}\n`);
  const sent: number[] = [];
  const { api } = await createHost(
    testHostOptions(dir, {
      trajectories: trajectoryLibrary,
      ground: () => async (png) => {
        sent.push(png.length);
        return { raw: 'x', latencyMs: 1, model: 'm' };
      },
    }),
  );
  await expect(api.call('trajectories.reground', { path: run, step: 2, query: 'the dot' })).rejects.toThrow(/points outside the run folder through a symbolic link/);
  await expect(api.call('trajectories.screenshot', { path: run, step: 2 })).rejects.toThrow(/points outside the run folder/);
  expect(sent).toEqual([]);
});
