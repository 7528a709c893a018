import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import type { ModelManifest } from '../../native-models/models/kimi-vl/manifest.ts';
import { runKestrel } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const ckpt = tinyCheckpoint({ dtype: 'bf16', shards: 2, seed: 3 });
const out = tempDir('import-source');
afterAll(() => {
  ckpt.cleanup();
  out.cleanup();
});

const digest = (algorithm: 'sha1' | 'sha256', path: string) => createHash(algorithm).update(readFileSync(path)).digest('hex');
const SHARDS = ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors'];
/** Each shard's SHA-256, hashed here. */
const shardSha: Record<string, string> = {};

/**
 * The checkpoint as `huggingface_hub` caches it: every file a blob, the large ones named by their
 * SHA-256 (Git LFS), the small ones by a 40-digit git hash; the snapshot folder holds relative
 * symlinks to them.
 */
let snapshot: string;
beforeAll(() => {
  const repo = join(out.dir, 'hub', 'models--moonshotai--Kimi-VL-tiny');
  snapshot = join(repo, 'snapshots', '0123abcd');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  for (const file of readdirSync(ckpt.dir)) {
    const path = join(ckpt.dir, file);
    const blob = SHARDS.includes(file) ? digest('sha256', path) : digest('sha1', path);
    if (SHARDS.includes(file)) shardSha[file] = blob;
    renameSync(path, join(repo, 'blobs', blob));
    symlinkSync(join('..', '..', 'blobs', blob), join(snapshot, file));
  }
});

const sourceFiles = (dir: string) => (JSON.parse(readFileSync(join(dir, 'kestrel-model.json'), 'utf8')) as ModelManifest).source.files;

describe("the manifest's record of the checkpoint", () => {
  test("from a Hugging Face cache: each shard's SHA-256 is its blob's name, without reading it again; model info says so", async () => {
    const dir = join(out.dir, 'hf');
    await importKimiVL({ source: snapshot, out: dir, precision: 'int4', workers: 0 });
    const files = sourceFiles(dir);
    expect(files.map((f) => [f.file, f.sha256, f.sha256From])).toEqual([
      ...SHARDS.map((f) => [f, shardSha[f], 'hf-cache-name']),
      ['model.safetensors.index.json', digest('sha256', join(snapshot, 'model.safetensors.index.json')), 'hashed'],
    ]);
    const info = await runKestrel(['model', 'info', dir]);
    expect(info.code).toBe(0);
    expect(info.stdout.split('\n')[2]).toMatch(new RegExp(`^source: {5}${snapshot}, 3 files \\([\\d.]+ MB\\); SHA-256: 1 hashed, 2 from their Hugging Face cache names$`));
  });

  test('kestrel model import --hash-source (with workers): every shard hashed, the same SHA-256', async () => {
    const dir = join(out.dir, 'hashed');
    const r = await runKestrel(['model', 'import', snapshot, '--out', dir, '--precision', 'int4', '--workers', '2', '--hash-source']);
    expect(r.code, r.stderr).toBe(0);
    const files = sourceFiles(dir);
    expect(files.map((f) => [f.sha256, f.sha256From])).toEqual([...SHARDS.map((f) => [shardSha[f], 'hashed']), [digest('sha256', join(snapshot, 'model.safetensors.index.json')), 'hashed']]);
    expect(files.every((f) => f.modifiedAt === undefined)).toBe(true);
  });

  test('--hash-source refuses a blob whose content is not what its name says, in one line, leaving nothing', async () => {
    const damaged = join(out.dir, 'damaged');
    mkdirSync(damaged);
    for (const file of readdirSync(snapshot)) symlinkSync(join(snapshot, file), join(damaged, file));
    // The first shard's link now points at a blob with the second's name: named right, wrong content.
    const blobs = join(out.dir, 'hub', 'models--moonshotai--Kimi-VL-tiny', 'blobs');
    const mislabelled = join(out.dir, 'blobs');
    mkdirSync(mislabelled);
    writeFileSync(join(mislabelled, shardSha[SHARDS[1]!]!), readFileSync(join(blobs, shardSha[SHARDS[0]!]!)));
    rmSync(join(damaged, SHARDS[0]!));
    symlinkSync(join(mislabelled, shardSha[SHARDS[1]!]!), join(damaged, SHARDS[0]!));
    const dir = join(out.dir, 'damaged-out');
    const r = await runKestrel(['model', 'import', damaged, '--out', dir, '--precision', 'int4', '--workers', '0', '--hash-source']);
    expect(r.code).toBe(1);
    expect(r.stderr.trimEnd().split('\n').at(-1)).toBe(
      `kestrel: ${join(damaged, SHARDS[0]!)}: its content's SHA-256 is ${shardSha[SHARDS[0]!]}, but the Hugging Face cache names it ${shardSha[SHARDS[1]!]}; the download is damaged: delete that blob and download the model again`,
    );
    expect(readdirSync(out.dir)).not.toContain('damaged-out');
  });
});
