import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freshDirs, tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { rehashPieces } from '../../test/harness/weights-record.ts';
import { readManifest, MANIFEST_FILE } from '../models/kimi-vl/manifest.ts';
import { dataLayout, pieceStarts, unitPlaces, weightUnits } from './data-layout.ts';
import { inThisThread, writeModel } from './model-writer.ts';
import { checkWeightsFile, filePieces, PieceHasher, type WeightsFileRecord } from './piece-hashes.ts';
import { poolTestGraph } from './testing/pool-graph.ts';

const t = tempDir('piece-hashes');
afterAll(t.cleanup);
const freshDir = freshDirs(t.dir);
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
/** Flips one bit of the file's byte at `at`. */
const damage = (path: string, at: number) => {
  const data = readFileSync(path);
  data[at]! ^= 0x10;
  writeFileSync(path, data);
};

describe("a data file's record: its pieces' SHA-256s", () => {
  test('the pieces tile the file where the plan says, each recorded with its bytes\' SHA-256 (a group\'s parts make several)', async () => {
    const graph = poolTestGraph();
    const written = await writeModel(graph, freshDir(), 'model', { weights: inThisThread(2000) });
    const record: WeightsFileRecord = { file: 'model.onnx.data', bytes: written.dataBytes, pieces: written.dataPieces };
    expect(written.dataPieces).toEqual(rehashPieces(written.dataFile, record));
    const starts = pieceStarts(unitPlaces(graph.weights, dataLayout(graph.weights), weightUnits(graph.weights, 2000)));
    expect(written.dataPieces.map((_, i) => written.dataPieces.slice(0, i).reduce((sum, p) => sum + p.bytes, 0))).toEqual(starts);
    // More pieces than units: the parts of the group m lie in three places each.
    expect(starts.length).toBeGreaterThan(weightUnits(graph.weights, 2000).length);
    expect(await checkWeightsFile(written.dataFile, record)).toEqual([]);
  });

  test('a changed byte changes its piece\'s record, and only that one; the check names the piece', async () => {
    const written = await writeModel(poolTestGraph(), freshDir(), 'model', { weights: inThisThread(2000) });
    const record: WeightsFileRecord = { file: 'model.onnx.data', bytes: written.dataBytes, pieces: written.dataPieces };
    const at = Math.floor(written.dataBytes / 2);
    damage(written.dataFile, at);
    const after = rehashPieces(written.dataFile, record);
    const changed = after.flatMap((p, i) => (p.sha256 === written.dataPieces[i]!.sha256 ? [] : [i]));
    expect(changed.length).toBe(1);
    const first = written.dataPieces.slice(0, changed[0]).reduce((sum, p) => sum + p.bytes, 0);
    expect(at).toBeGreaterThanOrEqual(first);
    expect(at).toBeLessThan(first + written.dataPieces[changed[0]!]!.bytes);
    const problems = await checkWeightsFile(written.dataFile, record);
    expect(problems).toEqual([expect.stringMatching(new RegExp(`^model\\.onnx\\.data: bytes ${first}–\\d+ \\(piece ${changed[0]! + 1} of ${written.dataPieces.length}\\) have SHA-256 [0-9a-f]{64}, the manifest says ${written.dataPieces[changed[0]!]!.sha256}; re-run \`kestrel model import\` to write it again$`))]);
  });

  test('a file of another size, or pieces that do not add up, is refused before hashing', async () => {
    const written = await writeModel(poolTestGraph(), freshDir(), 'model', { weights: inThisThread(2000) });
    const pieces = written.dataPieces;
    expect(await checkWeightsFile(written.dataFile, { file: 'x', bytes: written.dataBytes + 1, pieces })).toEqual([expect.stringContaining('pieces add up to')]);
    writeFileSync(written.dataFile, Buffer.concat([readFileSync(written.dataFile), Buffer.from([0])]));
    expect(await checkWeightsFile(written.dataFile, { file: 'x', bytes: written.dataBytes, pieces })).toEqual([`model.onnx.data: ${written.dataBytes + 1} bytes, the manifest says ${written.dataBytes}; re-run \`kestrel model import\` to write it again`]);
  });

  test('a folder imported before pieces were recorded still loads, and its whole-file SHA-256 is checked', async () => {
    const dir = freshDir();
    const written = await writeModel(poolTestGraph(), dir, 'text-model');
    const whole = sha256(readFileSync(written.dataFile));
    const weights = { file: 'text-model.onnx.data', bytes: written.dataBytes, sha256: whole };
    // An older manifest, as such folders have it: weights with one sha256 and no pieces.
    const old = {
      format: 'kestrel-kimi-vl', formatVersion: 1, createdAt: '2026-01-01T00:00:00.000Z', precision: 'fp32',
      source: { dir: '/nowhere', files: [] },
      text: { graph: { file: 'text-model.onnx', bytes: written.modelBytes, sha256: written.modelSha256 }, weights, layers: 1, vocabSize: 8, cacheWidth: 4 },
      vision: { graph: { file: 'v.onnx', bytes: 1, sha256: 'a'.repeat(64) }, weights: { file: 'v.onnx.data', bytes: 1, sha256: 'b'.repeat(64) } },
      files: [], stats: { seconds: 1, weightBytesWritten: written.dataBytes, megabytesPerSecond: 1 },
    };
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(old));
    const manifest = readManifest(dir);
    expect(await checkWeightsFile(written.dataFile, manifest.text.weights)).toEqual([]);
    damage(written.dataFile, 5);
    expect(await checkWeightsFile(written.dataFile, manifest.text.weights)).toEqual([expect.stringMatching(/^text-model\.onnx\.data: its SHA-256 is [0-9a-f]{64}, the manifest says [0-9a-f]{64}; re-run/)]);
  });

  test('pieces that do not tile the file are a writer bug, said so', () => {
    const h = new PieceHasher();
    h.at(0);
    h.update(new Uint8Array(10));
    h.at(12); // a gap of two bytes
    h.update(new Uint8Array(4));
    const hashed = h.finish();
    expect(hashed.map((p) => [p.start, p.bytes])).toEqual([[0, 10], [12, 4]]);
    expect(() => filePieces(hashed, [0, 12], 16)).toThrow("the data file's pieces do not tile it (piece 1 starts at 12, expected 10); this is a bug in the writer");
    expect(filePieces([{ start: 10, bytes: 6, sha256: 'b' }, { start: 0, bytes: 10, sha256: 'a' }], [0, 10], 16)).toEqual([{ bytes: 10, sha256: 'a' }, { bytes: 6, sha256: 'b' }]);
  });
});
