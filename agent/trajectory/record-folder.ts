import { open, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { makeFolder } from '../files.ts';

/** A folder a run cannot be recorded into; the message is one line saying why and what to do. */
export class RecordFolderError extends Error {
  override readonly name = 'RecordFolderError';
}

/**
 * Files that mark a folder as holding a recorded run: Kestrel's trajectory and run record, and
 * OSWorld's score. Screenshots alone do not count (a run always writes traj.jsonl first).
 */
const RUN_FILES = ['traj.jsonl', 'run.json', 'result.txt'] as const;

/** The first file showing that `dir` already holds a run, or undefined (also when `dir` does not exist). */
export async function heldRunFile(dir: string): Promise<string | undefined> {
  const names = new Set(await readdir(dir).catch(() => [] as string[]));
  return RUN_FILES.find((name) => names.has(name));
}

/** Refuses a folder that already holds a run: two runs' screenshots and lines would mix. */
export async function refuseHeldRun(dir: string, label: string): Promise<void> {
  const file = await heldRunFile(dir);
  if (file) {
    throw new RecordFolderError(
      `${label} ${dir} already holds a run (${file}); give a new or empty folder, or move that run away first (nothing was overwritten)`,
    );
  }
}

/** Node's error for a folder or file that could not be made, said plainly. */
function reason(err: unknown, what: 'folder' | 'file'): string {
  const e = err as NodeJS.ErrnoException;
  switch (e.code) {
    case 'EACCES':
    case 'EPERM':
      return `permission denied${what === 'folder' && e.path ? ` at ${e.path}` : ''}`;
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'ENOENT':
      return what === 'folder' ? `the file system does not let ${e.path ?? 'it'} be created` : 'the file system takes no new files there';
    default:
      return e.code ? `${e.code}: ${e.message.split('\n')[0]}` : String(e.message ?? err);
  }
}

/**
 * Makes sure a run can be recorded into `path` before any expensive work starts (a model load
 * takes minutes): creates the folder, proves a file can be written there, and — with `fresh` —
 * refuses a folder that already holds a run. `label` names the option in messages ("--record").
 * Returns the absolute path.
 */
export async function prepareRecordFolder(path: string, options: { readonly label: string; readonly fresh: boolean }): Promise<string> {
  const dir = resolve(path);
  const fail = (why: string, fix = 'give a folder you can write to'): never => {
    throw new RecordFolderError(`${options.label} ${dir}: ${why}; ${fix}`);
  };
  try {
    await makeFolder(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOTDIR') fail(`${e.path ?? 'a part of it'} is a file, not a folder`, 'give a folder path');
    fail(`cannot create it (${reason(err, 'folder')})`);
  }
  const probe = join(dir, `.kestrel-write-check-${process.pid}`);
  try {
    const handle = await open(probe, 'w');
    await handle.close();
  } catch (err) {
    fail(`cannot write there (${reason(err, 'file')})`);
  } finally {
    await rm(probe, { force: true });
  }
  if (options.fresh) await refuseHeldRun(dir, options.label);
  return dir;
}
