import { mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { IMPORT_MARKER } from '../../native-models/checkpoint/output-folder.ts';
import { MANIFEST_FILE } from '../../native-models/models/kimi-vl/import-checkpoint.ts';
import { modelImporter } from './agent-bindings.ts';
import { ModelManager, type ModelImporter } from './model-manager.ts';
import type { ImportJob } from './types.ts';

/** An importer at the seam that writes until it is cancelled, then removes what it wrote (as the real one does). */
const cancellableImporter: ModelImporter = {
  manifestFile: 'kestrel-model.json',
  markerFile: IMPORT_MARKER,
  async run({ out, signal, onProgress }) {
    await mkdir(out, { recursive: true });
    for (let i = 1; !signal?.aborted; i++) {
      onProgress({ phase: 'converting', done: i, total: 1000, detail: `tensor ${i}` });
      await new Promise((done) => setTimeout(done, 5));
    }
    throw new Error('the import was cancelled');
  },
};

async function ended(manager: ModelManager): Promise<ImportJob> {
  for (;;) {
    const job = manager.current();
    if (job && ['done', 'failed', 'cancelled'].includes(job.phase)) return job;
    await new Promise((d) => setTimeout(d, 5));
  }
}

test('an import can be cancelled; it ends as cancelled, and the next one can start', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-'));
  const manager = new ModelManager(cancellableImporter, () => root, () => '');
  expect(() => manager.cancelImport()).toThrow('no import is running');
  manager.startImport('/hf/kimi', 'first');
  expect(() => manager.startImport('/hf/kimi', 'second')).toThrow(/already running .*wait for it to finish or cancel it/);
  while ((manager.current()?.done ?? 0) < 3) await new Promise((d) => setTimeout(d, 5));
  expect(manager.cancelImport().phase).toBe('converting');
  expect(await ended(manager)).toMatchObject({ phase: 'cancelled', detail: 'cancelled; what it had written is removed' });
  expect(() => manager.cancelImport()).toThrow('no import is running');
  manager.startImport('/hf/kimi', 'second');
  manager.cancelImport();
  expect((await ended(manager)).phase).toBe('cancelled');
});

test('a folder left by an import cut short is handed to the importer to take over, not refused', async () => {
  const root = await mkdtemp(join(tmpdir(), 'kestrel-models-'));
  await mkdir(join(root, 'kimi'));
  await writeFile(join(root, 'kimi', IMPORT_MARKER), '{}');
  await mkdir(join(root, 'taken'));
  const outs: string[] = [];
  const importer: ModelImporter = {
    ...cancellableImporter,
    async run({ out }) {
      outs.push(out);
      await writeFile(join(out, 'kestrel-model.json'), '{}');
    },
  };
  const manager = new ModelManager(importer, () => root, () => '');
  manager.startImport('/hf/kimi', 'kimi');
  expect((await ended(manager)).phase).toBe('done');
  manager.startImport('/hf/kimi', 'taken');
  expect(await ended(manager)).toMatchObject({ phase: 'failed', error: expect.stringMatching(/already exists/) });
  expect(outs).toEqual([join(root, 'kimi')]);
  expect((await readdir(join(root, 'kimi'))).sort()).toEqual([IMPORT_MARKER, 'kestrel-model.json']);
});

test("the app's importer names the native importer's manifest and marker files", () => {
  expect([modelImporter.manifestFile, modelImporter.markerFile]).toEqual([MANIFEST_FILE, IMPORT_MARKER]);
});
