/**
 * What an import records about the checkpoint's own files (the manifest's `source.files`). Hashing
 * a checkpoint means reading all of it once more (about 0.7 CPU-s per GB here, tens of seconds for
 * Kimi-VL-A3B), so its SHA-256 is recorded when it comes for free or when asked for:
 * - a file that resolves (symlinks followed) to a Hugging Face cache blob named by 64 hex digits
 *   carries its SHA-256 in that name: the Hub stores large files with Git LFS, whose object id is
 *   the SHA-256 of the content, and the cache names a blob after it. The name is taken by its form
 *   only (it is text from the disk, not a proof), and the record says where it came from;
 * - otherwise the size and modification time identify the file, unless hashing is asked for
 *   (`kestrel model import --hash-source`), which also checks a blob's content against its name.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { CheckpointError } from './errors.ts';
import type { FileRecord } from './file-hash.ts';

/**
 * Where a source file's `sha256` came from: read and hashed by the import, or the name of the
 * Hugging Face cache blob it resolves to.
 */
export type Sha256Origin = 'hashed' | 'hf-cache-name';

export interface SourceFileRecord {
  readonly file: string;
  readonly bytes: number;
  /** Present when known. Folders imported before `sha256From` existed always have it, hashed. */
  readonly sha256?: string;
  /** How `sha256` was obtained; absent (with `sha256` present): hashed. */
  readonly sha256From?: Sha256Origin;
  /** Without `sha256`: the file's modification time (ISO 8601), which with its size identifies it. */
  readonly modifiedAt?: string;
}

/** How a manifest's source file was identified (older manifests: always hashed). */
export function sha256Origin(record: SourceFileRecord): Sha256Origin | 'not hashed' {
  return record.sha256 === undefined ? 'not hashed' : (record.sha256From ?? 'hashed');
}

/** A Git LFS object id, as a Hugging Face cache names the blobs of large files. Git's own blobs have 40-digit SHA-1 names. */
const LFS_OBJECT_ID = /^[0-9a-f]{64}$/;

/** The SHA-256 a Hugging Face cache gives for free: the name of the `blobs/` file `path` resolves to, if it has an LFS object id's form. */
export function hfCacheSha256(path: string): string | undefined {
  const real = realpathSync(path);
  const name = basename(real);
  return basename(dirname(real)) === 'blobs' && LFS_OBJECT_ID.test(name) ? name : undefined;
}

/** A source file to record: known already (`record`), or to be hashed (and checked against its blob name, if it has one). */
export type SourceFilePlan = { readonly path: string; readonly record: SourceFileRecord } | { readonly path: string; readonly record?: undefined; readonly blobSha256?: string };

/** Decides how `path` is recorded; `hash` asks for its content to be hashed whatever its name. */
export function planSourceFile(path: string, hash: boolean): SourceFilePlan {
  const stats = statSync(path);
  const blob = hfCacheSha256(path);
  if (hash) return blob ? { path, blobSha256: blob } : { path };
  const file = basename(path);
  if (blob) return { path, record: { file, bytes: stats.size, sha256: blob, sha256From: 'hf-cache-name' } };
  return { path, record: { file, bytes: stats.size, modifiedAt: stats.mtime.toISOString() } };
}

/** The record of a file hashed for `plan`; a blob whose content does not match its name is a damaged download, refused. */
export function hashedSourceRecord(plan: SourceFilePlan, hashed: FileRecord): SourceFileRecord {
  if (!plan.record && plan.blobSha256 !== undefined && plan.blobSha256 !== hashed.sha256) {
    throw new CheckpointError(
      `${plan.path}: its content's SHA-256 is ${hashed.sha256}, but the Hugging Face cache names it ${plan.blobSha256}; the download is damaged: delete that blob and download the model again`,
    );
  }
  return { ...hashed, sha256From: 'hashed' };
}
