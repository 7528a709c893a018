import { cpSync, openSync, readFileSync, readSync, rmSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { ModelManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { runKestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const ckpt = tinyCheckpoint({ seed: 7 });
const work = tempDir('model-verify');
const model = join(work.dir, 'fp32');
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'kestrel-model.json'), 'utf8')) as ModelManifest;
let copies = 0;
const copy = () => {
  const dir = join(work.dir, `copy-${copies++}`);
  cpSync(model, dir, { recursive: true });
  return dir;
};

beforeAll(async () => {
  // Small parts, so the text weights are recorded as several pieces and a damaged one can be named.
  await importKimiVL({ source: ckpt.dir, out: model, precision: 'fp32', workers: 0, partBytes: 1 << 20 });
}, 120_000);
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe('kestrel model verify', () => {
  test('a folder as imported: every file matches its record, exit 0', async () => {
    expect(manifestOf(model).text.weights.pieces!.length).toBeGreaterThan(3);
    const r = await runKestrel(['model', 'verify', model]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: all \\d+ files match the manifest \\([\\d.]+ MB read in [\\d.]+ s\\)\\n$`));
    expect(r.stderr).toMatch(/kestrel: checking text-model\.onnx\.data \(\d+ of \d+\)/);
  });

  test('one changed byte in the text weights: that piece is named, with its bytes, and exit 1', async () => {
    const dir = copy();
    const { pieces } = manifestOf(dir).text.weights;
    const at = pieces![0]!.bytes + pieces![1]!.bytes + 5; // inside the third piece
    const fd = openSync(join(dir, 'text-model.onnx.data'), 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0] ^= 0x01;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);
    const r = await runKestrel(['model', 'verify', dir]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const errors = r.stderr.split('\n').filter((l) => l && !l.includes(': checking '));
    expect(errors).toEqual([
      expect.stringMatching(new RegExp(`^kestrel: text-model\\.onnx\\.data: bytes ${pieces![0]!.bytes + pieces![1]!.bytes}–\\d+ \\(piece 3 of ${pieces!.length}\\) have SHA-256 [0-9a-f]{64}, the manifest says ${pieces![2]!.sha256}; re-run \`kestrel model import\``)),
      expect.stringMatching(/^kestrel: .*: 1 of the manifest's records do not match what is on disk \(above\)$/),
    ]);
  });

  test('a missing copied file and a changed graph are each one line', async () => {
    const dir = copy();
    const copied = manifestOf(dir).files[0]!.file;
    rmSync(join(dir, copied));
    writeFileSync(join(dir, 'vision-model.onnx'), Buffer.concat([readFileSync(join(dir, 'vision-model.onnx')), Buffer.from([0])]));
    const r = await runKestrel(['model', 'verify', dir]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l && !l.includes(': checking '));
    expect(errors).toEqual([
      `kestrel: ${copied}: missing from ${dir}; re-run \`kestrel model import\` to write it again`,
      expect.stringMatching(/^kestrel: vision-model\.onnx: \d+ bytes, the manifest says \d+; re-run/),
      expect.stringMatching(/: 2 of the manifest's records do not match/),
    ]);
  });

  test('a manifest naming a file outside its folder is refused before anything is read, by verify and by a load', async () => {
    const dir = copy();
    const manifest = manifestOf(dir);
    writeFileSync(join(dir, 'kestrel-model.json'), JSON.stringify({ ...manifest, text: { ...manifest.text, weights: { ...manifest.text.weights, file: '../fp32/text-model.onnx.data' } } }));
    for (const args of [['model', 'verify', dir], ['model', 'info', dir]]) {
      const r = await runKestrel(args);
      expect(r.code).toBe(1);
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        expect.stringMatching(/^kestrel: .*kestrel-model\.json: names "\.\.\/fp32\/text-model\.onnx\.data", not a file in the model folder; .*re-run the import$/),
      ]);
    }
  });
});
