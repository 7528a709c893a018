/**
 * Checks an imported model folder against its manifest: every file the import wrote or copied,
 * by the record it made of it — the weights files piece by piece (piece-hashes.ts), the graphs and
 * the copied tokenizer and config files whole. Loading never reads these records (it would read
 * every byte twice); `kestrel model verify` does, when a person asks.
 */
import { join } from 'node:path';
import { checkWholeFile, type FileRecord } from '../../../checkpoint/file-hash.ts';
import { checkWeightsFile, REIMPORT, type WeightsFileRecord } from '../../../onnx/piece-hashes.ts';
import { readManifest, type ModelManifest } from '../manifest.ts';

export interface FolderCheck {
  readonly files: number;
  readonly bytes: number;
  /** One line per file or piece that does not match, saying what to do; empty when all match. */
  readonly problems: readonly string[];
}

type Recorded = { readonly whole: FileRecord } | { readonly weights: WeightsFileRecord };

/** The files a manifest records, weights last (the longest to check). */
function recordedFiles(manifest: ModelManifest): Recorded[] {
  return [
    ...[...manifest.files, manifest.vision.graph, manifest.text.graph].map((whole) => ({ whole })),
    ...[manifest.vision.weights, manifest.text.weights].map((weights) => ({ weights })),
  ];
}

/**
 * Reads every file the manifest of the model folder `dir` records and compares it with its record
 * (only the manifest must be there: config.json is one of the files checked). A missing file is
 * a problem like a changed one; `onFile` is called before each file (for progress), `signal`
 * stops the check between reads.
 */
export async function verifyModelFolder(dir: string, opts: { signal?: AbortSignal; onFile?: (file: string, index: number, total: number) => void } = {}): Promise<FolderCheck> {
  const records = recordedFiles(readManifest(dir));
  const problems: string[] = [];
  let bytes = 0;
  for (const [index, recorded] of records.entries()) {
    const record = 'whole' in recorded ? recorded.whole : recorded.weights;
    opts.onFile?.(record.file, index, records.length);
    const path = join(dir, record.file);
    try {
      problems.push(...('whole' in recorded ? await checkWholeFile(path, recorded.whole, REIMPORT, opts.signal) : await checkWeightsFile(path, recorded.weights, opts.signal)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      problems.push(`${record.file}: missing from ${dir}; ${REIMPORT}`);
    }
    bytes += record.bytes;
  }
  return { files: records.length, bytes, problems };
}
