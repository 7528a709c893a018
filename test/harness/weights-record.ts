/**
 * A data file's pieces hashed again, independently of the writer: each recorded piece's byte
 * range read from the file and hashed whole, so a test can compare the manifest's record with it.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WeightsFileRecord } from '../../native-models/onnx/piece-hashes.ts';

/** The file cut where `record`'s pieces say, each range's SHA-256; throws unless the pieces cover the file exactly. */
export function rehashPieces(path: string, record: WeightsFileRecord): { bytes: number; sha256: string }[] {
  const data = readFileSync(path);
  const pieces = record.pieces ?? [];
  let at = 0;
  const out = pieces.map(({ bytes }) => {
    const sha256 = createHash('sha256').update(data.subarray(at, at + bytes)).digest('hex');
    at += bytes;
    return { bytes, sha256 };
  });
  if (at !== data.length) throw new Error(`${path}: the pieces cover ${at} bytes of ${data.length}`);
  return out;
}
