import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { ModelManager, type ModelImporter } from './model-manager.ts';
import type { HostEvent, ImportJob } from './types.ts';

/** An importer at the seam: reports progress and writes a manifest, like the real one. */
const fakeImporter = (fail?: string): ModelImporter => ({
  manifestFile: 'kestrel-model.json',
  async run({ source, out, onProgress }) {
    for (let i = 1; i <= 3; i++) onProgress({ phase: 'converting', done: i, total: 3, detail: `tensor ${i}` });
    if (fail) throw new Error(fail);
    await mkdir(out, { recursive: true });
    await writeFile(join(out, 'kestrel-model.json'), JSON.stringify({ precision: 'fp16', createdAt: '2026-12-01T00:00:00Z', source }));
    await writeFile(join(out, 'text-model.onnx'), new Uint8Array(1000));
  },
});

async function finished(manager: ModelManager): Promise<ImportJob> {
  for (;;) {
    const job = manager.current();
    if (job && (job.phase === 'done' || job.phase === 'failed')) return job;
    await new Promise((d) => setTimeout(d, 5));
  }
}

test('import with progress, list, delete; names and folders outside are refused', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-'));
  const models = join(root, 'models');
  let active = '';
  const manager = new ModelManager(fakeImporter(), () => models, () => active);
  const events: HostEvent[] = [];
  manager.subscribe((e) => events.push(e));

  expect(() => manager.startImport('/hf/kimi', '../escape')).toThrow(/may use letters, digits/);
  manager.startImport('/hf/kimi', 'kimi-fp16');
  expect(() => manager.startImport('/hf/kimi', 'again')).toThrow(/already running/);
  expect(await finished(manager)).toMatchObject({ phase: 'done', target: join(models, 'kimi-fp16') });
  expect(events.map((e) => (e.type === 'model_import' ? e.job.phase : e.type))).toContain('done');

  await mkdir(join(models, 'not-a-model'));
  active = join(models, 'kimi-fp16');
  const list = await manager.list();
  expect(list).toEqual([{ name: 'kimi-fp16', path: join(models, 'kimi-fp16'), precision: 'fp16', createdAt: '2026-12-01T00:00:00Z', bytes: expect.any(Number), active: true }]);
  expect(list[0]!.bytes).toBeGreaterThan(1000);

  manager.startImport('/hf/kimi', 'kimi-fp16');
  expect(await finished(manager)).toMatchObject({ phase: 'failed', error: expect.stringMatching(/already exists/) });

  await expect(manager.delete(join(models, 'not-a-model'))).rejects.toThrow(`${join(models, 'not-a-model')} is not one of the models listed in ${models}; only those can be deleted here`);
  await expect(manager.delete(root)).rejects.toThrow(/is not one of the models listed/);
  await expect(manager.delete(join(models, 'kimi-fp16', '..', '..'))).rejects.toThrow(/is not one of the models listed/);
  await manager.delete(join(models, 'kimi-fp16'));
  expect(await readdir(models)).toEqual(['not-a-model']);
});

test('delete takes only what the list shows, by real path: not a model elsewhere, nor the real model behind a link', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-del-'));
  const models = join(root, 'models');
  await mkdir(models);
  const manifest = (dir: string) => mkdir(dir, { recursive: true }).then(() => writeFile(join(dir, 'kestrel-model.json'), '{}'));
  // A model outside the models folder (as a relative modelsDir once reached), and one linked in.
  await manifest(join(root, 'outside'));
  await manifest(join(root, 'elsewhere', 'big-model'));
  await symlink(join(root, 'elsewhere', 'big-model'), join(models, 'linked'));
  await symlink(join(root, 'outside'), join(root, 'alias-of-outside'));
  await manifest(join(models, 'own'));
  const manager = new ModelManager(fakeImporter(), () => models, () => '');
  expect((await manager.list()).map((m) => m.name)).toEqual(['linked', 'own']);

  await expect(manager.delete(join(root, 'outside'))).rejects.toThrow(/is not one of the models listed/);
  await expect(manager.delete(join(root, 'alias-of-outside'))).rejects.toThrow(/is not one of the models listed/);
  await expect(manager.delete(join(models, '..', 'outside'))).rejects.toThrow(/is not one of the models listed/);
  expect(await readdir(join(root, 'outside'))).toEqual(['kestrel-model.json']);
  // The linked entry goes from the list; the model it points at stays where it is.
  await manager.delete(join(root, 'elsewhere', 'big-model'));
  expect(await readdir(models)).toEqual(['own']);
  expect(await readdir(join(root, 'elsewhere', 'big-model'))).toEqual(['kestrel-model.json']);
  await manager.delete(join(models, 'own'));
  expect(await readdir(models)).toEqual([]);
});

test('a failed import says why', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-'));
  const manager = new ModelManager(fakeImporter('config.json: model_type is not kimi_vl'), () => root, () => '');
  manager.startImport('/hf/other', 'other');
  expect(await finished(manager)).toMatchObject({ phase: 'failed', error: 'config.json: model_type is not kimi_vl' });
});

test('the import follows the precision asked for, else auto for the device in Settings, and the job carries the plan', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-'));
  const seen: { precision: string; device: string }[] = [];
  let settingsDevice: 'cpu' | 'cuda' | 'webgpu' = 'webgpu';
  const importer: ModelImporter = {
    manifestFile: 'kestrel-model.json',
    async run({ out, precision, device, hashSource, onPlan, onProgress }) {
      seen.push({ precision, device, ...(hashSource ? { hashSource } : {}) });
      const chosen = precision === 'auto' ? 'int4' : precision;
      onPlan({ precision: { precision: chosen, reason: `for ${device}` }, weights: { text: 10, vision: 2, total: 12 }, cacheType: 'fp32' });
      onProgress({ phase: 'converting', done: 1, total: 1, detail: 'lm_head.weight' });
      await mkdir(out, { recursive: true });
      await writeFile(join(out, 'kestrel-model.json'), JSON.stringify({ precision: chosen }));
    },
  };
  const manager = new ModelManager(importer, () => root, () => '', () => settingsDevice);
  const events: ImportJob[] = [];
  manager.subscribe((e) => e.type === 'model_import' && events.push(e.job));

  manager.startImport('/hf/kimi', 'auto-webgpu');
  expect(await finished(manager)).toMatchObject({ phase: 'done', plan: { precision: 'int4', reason: 'for webgpu', weightBytes: 12 } });
  settingsDevice = 'cpu';
  manager.startImport('/hf/kimi', 'fp16-cpu', 'fp16');
  expect(await finished(manager)).toMatchObject({ phase: 'done', plan: { precision: 'fp16', reason: 'for cpu' } });
  manager.startImport('/hf/kimi', 'auto-cpu');
  await finished(manager);
  manager.startImport('/hf/kimi', 'hashed', 'fp32', { hashSource: true });
  await finished(manager);

  expect(seen).toEqual([
    { precision: 'auto', device: 'webgpu' },
    { precision: 'fp16', device: 'cpu' },
    { precision: 'auto', device: 'cpu' },
    { precision: 'fp32', device: 'cpu', hashSource: true },
  ]);
  // The plan reaches the windows before the first progress event, and stays on the job.
  const firstJob = events.filter((j) => j.target === join(root, 'auto-webgpu'));
  const planned = firstJob.findIndex((j) => j.plan !== undefined);
  expect(firstJob[planned]!.phase).toBe('starting');
  expect(firstJob.slice(planned).every((j) => j.plan !== undefined)).toBe(true);
  expect((await manager.list()).map((m) => `${m.name}:${m.precision}`)).toEqual(['auto-cpu:int4', 'auto-webgpu:int4', 'fp16-cpu:fp16', 'hashed:fp32']);
});
