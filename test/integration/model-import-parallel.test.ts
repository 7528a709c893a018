import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ImportCancelledError } from '../../native-models/checkpoint/output-folder.ts';
import { importKimiVL, type ImportProgress } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { type ModelManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { HfCheckpoint, readJsonFile } from '../../native-models/checkpoint/hf-checkpoint.ts';
import { isMoeLayer, parseKimiVLConfig } from '../../native-models/models/kimi-vl/configuration.ts';
import { buildImportGraph } from '../../native-models/models/kimi-vl/import/import-graphs.ts';
import { weightUnits } from '../../native-models/onnx/data-layout.ts';
import type { FileRecord } from '../../native-models/checkpoint/file-hash.ts';
import { checkWeightsFile, type WeightsFileRecord } from '../../native-models/onnx/piece-hashes.ts';
import { runKestrel } from '../harness/cli.ts';
import { rehashPieces } from '../harness/weights-record.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const ckpt = tinyCheckpoint({ dtype: 'bf16', shards: 2, seed: 11 });
const out = tempDir('import-parallel');
const config = parseKimiVLConfig(readJsonFile(join(ckpt.dir, 'config.json'), 'config.json'));
afterAll(() => {
  ckpt.cleanup();
  out.cleanup();
});

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const WRITTEN = ['text-model.onnx', 'text-model.onnx.data', 'vision-model.onnx', 'vision-model.onnx.data'];

/** The hash of every file the import wrote, as found on disk, and the manifest's records of them. */
function written(dir: string, manifest: ModelManifest) {
  return {
    files: Object.fromEntries(WRITTEN.map((f) => [f, sha256(join(dir, f))])),
    records: [manifest.text.graph, manifest.text.weights, manifest.vision.graph, manifest.vision.weights, ...manifest.files, ...manifest.source.files],
  };
}

describe('parallel import', () => {
  test.each(['fp32', 'fp16', 'int4'] as const)('%s: worker threads write the same files as the importer on one thread, large weights cut into parts', async (precision) => {
    const one = join(out.dir, `${precision}-one`);
    const many = join(out.dir, `${precision}-many`);
    // The workers cut every weight or quantised matrix over 64 kB that can make its rows into parts
    // of about that size: at this size, the embedding and lm_head (int4: with their scales and
    // zero points) and the experts.
    const partBytes = 64 * 2 ** 10;
    const hf = HfCheckpoint.open(ckpt.dir);
    const { weights } = buildImportGraph(hf, config, { kind: 'text', options: { precision } });
    hf.close();
    const cut = weightUnits(weights, partBytes).filter((u) => u.rows?.[0] === 0).map((u) => weights[u.from]!.name);
    expect(cut).toEqual(expect.arrayContaining(precision === 'int4' ? ['embed_tokens.weight_q4', 'lm_head.weight_q4'] : ['embed_tokens.weight', 'lm_head.weight']));
    // The weights' pieces follow from the part size, never from the worker count: the same records.
    const alone = written(one, await importKimiVL({ source: ckpt.dir, out: one, precision, workers: 0, partBytes }));
    // The workers alone; then this thread making the first units (parts of the embedding) and the workers the rest.
    const parallel = written(many, await importKimiVL({ source: ckpt.dir, out: many, precision, workers: 2, partBytes, thisThreadUnits: 0 }));
    expect(parallel).toEqual(alone);
    const mixed = join(out.dir, `${precision}-mixed`);
    expect(written(mixed, await importKimiVL({ source: ckpt.dir, out: mixed, precision, workers: 2, partBytes, thisThreadUnits: 5 }))).toEqual(alone);
    const [textGraph, textWeights, visionGraph, visionWeights] = alone.records as [FileRecord, WeightsFileRecord, FileRecord, WeightsFileRecord];
    expect([textGraph.sha256, visionGraph.sha256]).toEqual([alone.files['text-model.onnx'], alone.files['vision-model.onnx']]);
    // Each piece's record is its bytes' SHA-256 as found on disk; the text file has many (its parts).
    expect(textWeights.pieces).toEqual(rehashPieces(join(one, 'text-model.onnx.data'), textWeights));
    expect(visionWeights.pieces).toEqual(rehashPieces(join(one, 'vision-model.onnx.data'), visionWeights));
    expect(textWeights.pieces!.length).toBeGreaterThan(cut.length);
  });

  test('int4: each routed expert is made on its own (a unit of its codes and scales), so the workers share out a layer\'s experts', () => {
    const hf = HfCheckpoint.open(ckpt.dir);
    const { weights } = buildImportGraph(hf, config, { kind: 'text', options: { precision: 'int4', int4Experts: 'per-expert' } });
    hf.close();
    const experts = weightUnits(weights).filter((u) => /\.experts\.\d+\.fc[12]\.weight_q4$/.test(weights[u.from]!.name));
    const moeLayers = Array.from({ length: config.text.numHiddenLayers }, (_, i) => i).filter((i) => isMoeLayer(config.text, i)).length;
    expect(moeLayers).toBeGreaterThan(0);
    expect(experts.length).toBe(2 * config.text.nRoutedExperts * moeLayers);
    for (const u of experts) expect(weights.slice(u.from, u.to).map((w) => w.name.split('.').pop())).toEqual(['weight_q4', 'weight_scales']);
  });

  test('kestrel model import --workers: 2 makes the same model; a bad count is one line and exit 2', async () => {
    const dir = join(out.dir, 'cli');
    const r = await runKestrel(['model', 'import', ckpt.dir, '--out', dir, '--precision', 'int4', '--workers', '2']);
    expect(r.code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, 'kestrel-model.json'), 'utf8')) as ModelManifest;
    expect(sha256(join(dir, 'text-model.onnx.data'))).toBe(sha256(join(out.dir, 'int4-one', 'text-model.onnx.data')));
    expect(await checkWeightsFile(join(dir, 'text-model.onnx.data'), manifest.text.weights)).toEqual([]);
    // With the default parts too, the manifest records the same pieces as an import on one thread.
    const alone = await importKimiVL({ source: ckpt.dir, out: join(out.dir, 'cli-one'), precision: 'int4', workers: 0 });
    expect([manifest.text.weights, manifest.vision.weights]).toEqual([alone.text.weights, alone.vision.weights]);
    const bad = await runKestrel(['model', 'import', ckpt.dir, '--out', join(out.dir, 'bad'), '--workers', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toEqual(["kestrel: option '--workers <n>' argument 'many' is invalid. --workers must be a whole number ≥ 0, got 'many'."]);
  });

  test.each([
    ['converting', 5],
    ['hashing', 0],
  ] as const)('cancelled while %s, with its workers: ImportCancelledError, and nothing it wrote is left', async (phase, after) => {
    const dir = join(out.dir, `cancel-${phase}`);
    const abort = new AbortController();
    const seen: ImportProgress[] = [];
    const onProgress = (p: ImportProgress) => {
      seen.push(p);
      if (p.phase === phase && seen.filter((q) => q.phase === phase).length > after) abort.abort();
    };
    await expect(importKimiVL({ source: ckpt.dir, out: dir, workers: 2, signal: abort.signal, onProgress })).rejects.toThrow(ImportCancelledError);
    expect(abort.signal.aborted).toBe(true);
    expect(existsSync(dir)).toBe(false);
  });
});
