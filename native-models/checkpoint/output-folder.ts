/**
 * The folder an import writes into. While an import runs, a marker file there says so (which
 * process, since when); the model's manifest is written last. A folder therefore holds a finished
 * import (its manifest), an import under way or cut short (the marker), or something else —
 * which an import never touches. An import that fails or is cancelled removes what it wrote;
 * one killed outright leaves the marker, and the next import into the folder takes over.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CheckpointError } from './errors.ts';

export const IMPORT_MARKER = 'kestrel-import-in-progress.json';

/** An output folder that cannot be used: its message says why and what to choose instead. */
export class OutputFolderError extends CheckpointError {}

/** The import was cancelled (its signal fired); what it wrote is gone. */
export class ImportCancelledError extends Error {
  override readonly name = 'ImportCancelledError';
}

interface Marker {
  readonly pid: number;
  readonly host: string;
  readonly startedAt: string;
  readonly source: string;
}

export interface ClaimedFolder {
  readonly dir: string;
  /** What was in the folder before: nothing, an earlier finished import (replaced), or an interrupted one (taken over). */
  readonly found: 'new' | 'empty' | 'import' | { readonly interrupted: { readonly startedAt: string; readonly source: string } };
  /** The import finished: its marker goes. */
  finish(): void;
  /** The import failed or was cancelled: what it wrote goes, and the folder too if the import made it. */
  discard(): void;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readMarker(path: string): Marker | undefined {
  try {
    const marker = JSON.parse(readFileSync(path, 'utf8')) as Partial<Marker>;
    if (typeof marker.pid === 'number' && typeof marker.host === 'string' && typeof marker.startedAt === 'string') return marker as Marker;
  } catch {
    // A marker torn by a crash still marks the folder as an import's.
  }
  return undefined;
}

type Found = ClaimedFolder['found'];

/**
 * What `dir` holds, for an import into it, or an OutputFolderError: a file, a folder with other
 * things in it, or one that another import is writing right now. Writes nothing: an import calls
 * it before its other checks, and claims the folder only when it starts writing.
 */
export function checkOutputFolder(dir: string, manifestFile: string): Found {
  const out = resolve(dir);
  if (!existsSync(out)) return 'new';
  if (!statSync(out).isDirectory()) throw new OutputFolderError(`the output ${out} is a file; give a folder (new, empty, or an earlier import)`);
  const entries = readdirSync(out);
  if (entries.includes(IMPORT_MARKER)) {
    const marker = readMarker(join(out, IMPORT_MARKER));
    if (marker && marker.host === hostname() && marker.pid !== process.pid && running(marker.pid)) {
      throw new OutputFolderError(`another import (process ${marker.pid}, started ${marker.startedAt}) is writing to ${out}; wait for it to finish, or stop it and run this again`);
    }
    return { interrupted: { startedAt: marker?.startedAt ?? 'at an unknown time', source: marker?.source ?? 'unknown' } };
  }
  if (entries.includes(manifestFile)) return 'import';
  if (entries.length > 0) throw new OutputFolderError(`the output folder ${out} is not empty and is not a Kestrel model; choose a new or empty folder`);
  return 'empty';
}

/**
 * Claims `dir` for an import of `source` that writes the files named in `writes` (and the
 * manifest, last): checks it again, makes it if need be, and marks it as an import under way.
 * The folder's earlier import, finished or cut short, is replaced.
 */
export function claimOutputFolder(dir: string, options: { readonly source: string; readonly manifestFile: string; readonly writes: readonly string[] }): ClaimedFolder {
  const out = resolve(dir);
  const markerPath = join(out, IMPORT_MARKER);
  const found = checkOutputFolder(out, options.manifestFile);
  const created = found === 'new' ? mkdirSync(out, { recursive: true }) : undefined;
  const marker: Marker = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), source: options.source };
  writeFileSync(`${markerPath}.partial`, `${JSON.stringify(marker, null, 2)}\n`);
  renameSync(`${markerPath}.partial`, markerPath);
  // Until the new manifest is written, the folder is an import under way, not a model.
  rmSync(join(out, options.manifestFile), { force: true });
  const ours = [options.manifestFile, ...options.writes];
  return {
    dir: out,
    found,
    finish: () => rmSync(markerPath, { force: true }),
    discard() {
      for (const file of ours) {
        rmSync(join(out, file), { force: true });
        rmSync(join(out, `${file}.partial`), { force: true });
      }
      rmSync(markerPath, { force: true });
      rmSync(`${markerPath}.partial`, { force: true });
      // The folders the import made (mkdir -p), innermost first, as long as they are empty.
      if (created === undefined) return;
      for (let folder = out; folder.startsWith(created); folder = dirname(folder)) {
        try {
          rmdirSync(folder);
        } catch {
          return;
        }
        if (folder === created) return;
      }
    },
  };
}
