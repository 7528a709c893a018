import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { checkOutputFolder, claimOutputFolder, IMPORT_MARKER, OutputFolderError } from './output-folder.ts';

let root: string;
beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'kestrel-output-folder-'))));
afterEach(() => rmSync(root, { recursive: true, force: true }));

const options = { source: '/ckpt', manifestFile: 'kestrel-model.json', writes: ['model.onnx', 'model.onnx.data', 'config.json'] };

test('a folder it made, parents included, goes again on discard; a folder the person made stays', () => {
  const made = claimOutputFolder(join(root, 'a', 'b', 'out'), options);
  expect(made.found).toBe('new');
  writeFileSync(join(made.dir, 'model.onnx.data.partial'), 'half');
  made.discard();
  expect(readdirSync(root)).toEqual([]);
  mkdirSync(join(root, 'mine'));
  const theirs = claimOutputFolder(join(root, 'mine'), options);
  expect(theirs.found).toBe('empty');
  theirs.discard();
  expect(readdirSync(join(root, 'mine'))).toEqual([]);
});

test('discard removes only what the import writes; a file the person put there stays', () => {
  const dir = join(root, 'out');
  mkdirSync(dir);
  writeFileSync(join(dir, 'kestrel-model.json'), '{}');
  writeFileSync(join(dir, 'notes.txt'), 'mine');
  const claimed = claimOutputFolder(dir, options);
  expect(claimed.found).toBe('import');
  // The earlier manifest goes at once: until the new one is written, this is not a model.
  expect(existsSync(join(dir, 'kestrel-model.json'))).toBe(false);
  for (const file of ['model.onnx', 'model.onnx.data.partial', 'config.json']) writeFileSync(join(dir, file), 'x');
  claimed.discard();
  expect(readdirSync(dir)).toEqual(['notes.txt']);
});

test('finish leaves the model and drops the marker; a torn marker still marks an interrupted import', () => {
  const claimed = claimOutputFolder(join(root, 'out'), options);
  expect(readdirSync(claimed.dir)).toEqual([IMPORT_MARKER]);
  claimed.finish();
  expect(readdirSync(claimed.dir)).toEqual([]);
  writeFileSync(join(claimed.dir, IMPORT_MARKER), '{"pid": 12');
  expect(checkOutputFolder(claimed.dir, options.manifestFile)).toEqual({ interrupted: { startedAt: 'at an unknown time', source: 'unknown' } });
});

test('refused: a file, a folder of other things, and one a live process is importing into', () => {
  writeFileSync(join(root, 'file'), 'x');
  expect(() => checkOutputFolder(join(root, 'file'), options.manifestFile)).toThrow(OutputFolderError);
  expect(() => checkOutputFolder(root, options.manifestFile)).toThrow(/is not empty and is not a Kestrel model; choose a new or empty folder/);
  const busy = join(root, 'busy');
  mkdirSync(busy);
  // This test's own parent process is alive and on this host.
  writeFileSync(join(busy, IMPORT_MARKER), JSON.stringify({ pid: process.ppid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', source: '/x' }));
  expect(() => checkOutputFolder(busy, options.manifestFile)).toThrow(`another import (process ${process.ppid}, started 2026-01-01T00:00:00.000Z) is writing to ${busy}`);
});

