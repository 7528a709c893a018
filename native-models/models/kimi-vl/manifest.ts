/**
 * The manifest `kestrel model import` writes into a model folder (what was built, from which
 * checkpoint, with checksums), and the one reader of a model folder's manifest and config.json:
 * loading reads both once here and hands them on.
 */
import { join } from 'node:path';
import { CheckpointError } from '../../checkpoint/errors.ts';
import type { FileRecord } from '../../checkpoint/file-hash.ts';
import type { SourceFileRecord } from '../../checkpoint/source-files.ts';
import type { WeightsFileRecord } from '../../onnx/piece-hashes.ts';
import { readJsonFile } from '../../checkpoint/hf-checkpoint.ts';
import { parseKimiVLConfig, type KimiVLConfig } from './configuration.ts';
import type { CacheType, Int4ExpertForm, Precision } from './graphs/modeling-text.ts';

export const MANIFEST_FILE = 'kestrel-model.json';

export interface ModelManifest {
  readonly format: 'kestrel-kimi-vl';
  readonly formatVersion: 1;
  readonly createdAt: string;
  readonly precision: Precision;
  /**
   * The checkpoint's shards and index. A shard's `sha256` is there when known: hashed (older
   * folders: always), or its Hugging Face cache blob's name (`sha256From`); else its size and
   * modification time identify it (source-files.ts).
   */
  readonly source: { readonly dir: string; readonly files: readonly SourceFileRecord[] };
  readonly text: {
    readonly graph: FileRecord;
    /** Its pieces' SHA-256s; in folders imported before those were recorded, the whole file's (piece-hashes.ts). */
    readonly weights: WeightsFileRecord;
    readonly layers: number;
    readonly vocabSize: number;
    readonly cacheWidth: number;
    /** Absent in folders imported before it could be chosen: then `defaultCacheType(precision)`. */
    readonly cacheType?: CacheType;
    /** int4: the experts' form (absent in older folders: QMoE). */
    readonly int4Experts?: Int4ExpertForm;
  };
  /** MoonViT + projector (import-vision.ts). */
  readonly vision: { readonly graph: FileRecord; readonly weights: WeightsFileRecord };
  readonly files: readonly FileRecord[];
  readonly stats: { readonly seconds: number; readonly weightBytesWritten: number; readonly megabytesPerSecond: number };
}

/** The manifest of a folder made by `kestrel model import`, refused in one line if it is not one. */
export function readManifest(dir: string): ModelManifest {
  const manifest = readJsonFile(join(dir, MANIFEST_FILE), `${MANIFEST_FILE} (is ${dir} a folder made by \`kestrel model import\`?)`) as ModelManifest;
  if (manifest.format !== 'kestrel-kimi-vl' || manifest.formatVersion !== 1) {
    throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: unsupported format ${manifest.format} v${manifest.formatVersion}; re-run \`kestrel model import\``);
  }
  // Loading and `model verify` open these names inside the folder: a name with a path in it
  // (`../x`, `/etc/x`) would reach outside, and an import never writes one.
  const names = [manifest.text?.graph, manifest.text?.weights, manifest.vision?.graph, manifest.vision?.weights, ...(Array.isArray(manifest.files) ? manifest.files : [])].map((r) => r?.file);
  const bad = names.findIndex((name) => typeof name !== 'string' || !/^[^/\\]+$/.test(name) || name === '.' || name === '..');
  if (bad >= 0) {
    const name = names[bad];
    throw new CheckpointError(`${join(dir, MANIFEST_FILE)}: ${typeof name === 'string' ? `names ${JSON.stringify(name)}, not a file in the model folder` : 'a file record has no name'}; the folder was not written by \`kestrel model import\` as it is: re-run the import`);
  }
  return manifest;
}

/** A model folder's manifest and config, read once per load. */
export interface ModelFolder {
  readonly dir: string;
  readonly manifest: ModelManifest;
  readonly config: KimiVLConfig;
}

/** Reads a model folder's manifest, then its config.json; either refused in one line. */
export function readModelFolder(dir: string): ModelFolder {
  const manifest = readManifest(dir);
  return { dir, manifest, config: parseKimiVLConfig(readJsonFile(join(dir, 'config.json'), `config.json (is ${dir} a folder made by \`kestrel model import\`?)`)) };
}
