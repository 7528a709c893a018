import { createHash } from 'node:crypto';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { tempDir } from '../../test/harness/tiny-checkpoint.ts';
import { CheckpointError } from './errors.ts';
import { hashFile } from './file-hash.ts';
import { hashedSourceRecord, hfCacheSha256, planSourceFile, sha256Origin } from './source-files.ts';

const t = tempDir('source-files');
afterAll(t.cleanup);

const content = Buffer.from('safetensors bytes, as the Hub serves them');
const sha = createHash('sha256').update(content).digest('hex');

/** A Hugging Face cache for one repository: blobs named by content, a snapshot of symlinks to them. */
let repos = 0;
function hfCache(blobName: string, blobsDir = 'blobs'): string {
  const repo = join(t.dir, `models--org--m${repos++}`);
  mkdirSync(join(repo, blobsDir), { recursive: true });
  mkdirSync(join(repo, 'snapshots', 'rev1'), { recursive: true });
  writeFileSync(join(repo, blobsDir, blobName), content);
  symlinkSync(join('..', '..', blobsDir, blobName), join(repo, 'snapshots', 'rev1', 'model.safetensors'));
  return join(repo, 'snapshots', 'rev1', 'model.safetensors');
}

describe("a checkpoint file's record", () => {
  test('in a Hugging Face cache (a snapshot symlink to blobs/<SHA-256>): the blob name is its SHA-256, read without hashing', () => {
    const path = hfCache(sha);
    expect(hfCacheSha256(path)).toBe(sha);
    const plan = planSourceFile(path, false);
    expect(plan.record).toEqual({ file: 'model.safetensors', bytes: content.length, sha256: sha, sha256From: 'hf-cache-name' });
    expect(sha256Origin(plan.record!)).toBe('hf-cache-name');
  });

  test.each([
    ['a git blob (40-digit SHA-1 name)', 'a'.repeat(40), 'blobs'],
    ['an upper-case name', sha.toUpperCase(), 'blobs'],
    ['a 64-digit name outside a blobs folder', sha, 'objects'],
  ])('%s: not taken as a SHA-256', (_, name, dir) => {
    expect(hfCacheSha256(hfCache(name, dir))).toBeUndefined();
  });

  test('a plain file: its size and modification time, no SHA-256; asked to hash, it is hashed', async () => {
    const path = join(t.dir, 'plain.safetensors');
    writeFileSync(path, content);
    const plan = planSourceFile(path, false);
    expect(plan.record).toEqual({ file: 'plain.safetensors', bytes: content.length, modifiedAt: statSync(path).mtime.toISOString() });
    expect(sha256Origin(plan.record!)).toBe('not hashed');
    const asked = planSourceFile(path, true);
    expect(asked.record).toBeUndefined();
    expect(hashedSourceRecord(asked, await hashFile(path))).toEqual({ file: 'plain.safetensors', bytes: content.length, sha256: sha, sha256From: 'hashed' });
  });

  test('asked to hash, a blob is checked against its name: a damaged download is refused in one line', async () => {
    const good = planSourceFile(hfCache(sha), true);
    expect(hashedSourceRecord(good, await hashFile(good.path)).sha256).toBe(sha);
    const wrong = 'f'.repeat(64);
    const damaged = planSourceFile(hfCache(wrong), true);
    const record = await hashFile(damaged.path);
    expect(() => hashedSourceRecord(damaged, record)).toThrow(CheckpointError);
    expect(() => hashedSourceRecord(damaged, record)).toThrow(`its content's SHA-256 is ${sha}, but the Hugging Face cache names it ${wrong}; the download is damaged`);
  });

  test('a manifest written before the field (sha256 always there, no origin): hashed', () => {
    expect(sha256Origin({ file: 'model.safetensors', bytes: 1, sha256: sha })).toBe('hashed');
  });
});
