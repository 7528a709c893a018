/**
 * The record of a written data file: the SHA-256 of each of its pieces, consecutive byte ranges
 * that tile the file (data-layout.ts says where they start). One file's SHA-256 is a sequential
 * computation, ~1.2 s of one core for a 2 GB fp32 file however many cores there are; pieces are
 * hashed by the threads that write them, as they write them, each at the rate of its own core.
 * docs/weights-record.md says why and how to check a folder by hand.
 */
import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';
import { checkWholeFile, hashBuffer, hashRange } from '../checkpoint/file-hash.ts';

/** One piece of a data file: its length and its bytes' SHA-256 (hex); it starts where the one before ends. */
export interface PieceRecord {
  readonly bytes: number;
  readonly sha256: string;
}

/** A piece as a writer hashed it, with where it starts in the file. */
export interface HashedPiece extends PieceRecord {
  readonly start: number;
}

/**
 * A written weights file in a model folder's manifest: `pieces` (what imports write now), or
 * `sha256`, the whole file's (folders imported before pieces were recorded).
 */
export interface WeightsFileRecord {
  readonly file: string;
  readonly bytes: number;
  readonly sha256?: string;
  readonly pieces?: readonly PieceRecord[];
}

/**
 * Hashes the bytes one thread writes, piece by piece: bytes written where the last ones ended
 * continue the piece, bytes written elsewhere (`at`) or after a `cut` begin another.
 */
export class PieceHasher {
  private readonly done: HashedPiece[] = [];
  private hash: Hash | undefined;
  private start = 0;
  private end = 0;

  /** The next bytes are written at `position`. */
  at(position: number): void {
    if (this.hash && position === this.end) return;
    this.cut(position);
  }

  /** Ends the piece under way (an empty one is none); the next begins at `position`. */
  cut(position: number): void {
    if (this.hash && this.end > this.start) this.done.push({ start: this.start, bytes: this.end - this.start, sha256: this.hash.digest('hex') });
    this.hash = createHash('sha256');
    this.start = this.end = position;
  }

  update(bytes: Uint8Array): void {
    if (!this.hash) throw new Error('PieceHasher: `at` must say where the bytes go before the first update');
    this.hash.update(bytes);
    this.end += bytes.byteLength;
  }

  /** Every piece hashed, the one under way ended. */
  finish(): HashedPiece[] {
    this.cut(this.end);
    this.hash = undefined;
    return this.done;
  }
}

/**
 * The pieces, in file order, as the manifest records them, once they are checked against the plan:
 * they start where `starts` says, each where the one before ends, and the last ends the file.
 */
export function filePieces(hashed: readonly HashedPiece[], starts: readonly number[], fileBytes: number): PieceRecord[] {
  const sorted = [...hashed].sort((a, b) => a.start - b.start);
  const wrong = (what: string) => new Error(`the data file's pieces do not tile it (${what}); this is a bug in the writer`);
  if (sorted.length !== starts.length) throw wrong(`${sorted.length} hashed, ${starts.length} planned`);
  let end = 0;
  for (const [i, p] of sorted.entries()) {
    if (p.start !== starts[i] || p.start !== end) throw wrong(`piece ${i} starts at ${p.start}, expected ${end}`);
    end += p.bytes;
  }
  if (end !== fileBytes) throw wrong(`they end at ${end}, the file at ${fileBytes}`);
  return sorted.map(({ bytes, sha256 }) => ({ bytes, sha256 }));
}

/** What to do about a file or piece of a model folder that does not match its record. */
export const REIMPORT = 're-run `kestrel model import` to write it again';

/**
 * Checks a weights file against its record: every piece's SHA-256 (or the whole file's, for a
 * folder imported before pieces were recorded). Returns what does not match, in one line each
 * (none when the file is as written); `signal` stops it between reads.
 */
export async function checkWeightsFile(path: string, record: WeightsFileRecord, signal?: AbortSignal): Promise<string[]> {
  const name = basename(path);
  if (!record.pieces) {
    if (record.sha256 === undefined) return [`${name}: the manifest records neither its pieces nor its SHA-256; ${REIMPORT}`];
    return checkWholeFile(path, { bytes: record.bytes, sha256: record.sha256 }, REIMPORT, signal);
  }
  const recorded = record.pieces.reduce((sum, p) => sum + p.bytes, 0);
  if (recorded !== record.bytes) return [`${name}: the manifest's pieces add up to ${recorded} bytes, not the ${record.bytes} it records; ${REIMPORT}`];
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    if (size !== record.bytes) return [`${name}: ${size} bytes, the manifest says ${record.bytes}; ${REIMPORT}`];
    const problems: string[] = [];
    const buffer = hashBuffer();
    let start = 0;
    for (const [i, piece] of record.pieces.entries()) {
      const { sha256 } = await hashRange(file, start, piece.bytes, buffer, signal);
      if (sha256 !== piece.sha256) problems.push(`${name}: bytes ${start}–${start + piece.bytes - 1} (piece ${i + 1} of ${record.pieces.length}) have SHA-256 ${sha256}, the manifest says ${piece.sha256}; ${REIMPORT}`);
      start += piece.bytes;
    }
    return problems;
  } finally {
    await file.close();
  }
}
