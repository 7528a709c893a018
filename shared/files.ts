/**
 * The file-system basics Kestrel shares: one atomic write and one way to create a folder (for
 * every writer: trajectories, OSWorld results, the host's settings), and one way to read a text
 * file the person named.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';

/**
 * Reads a text file the person named. When it cannot be read, `fail` makes the error from one
 * line naming the file as `what` ("annotations file") and saying why; `ifMissing` adds the fix
 * for a file that does not exist.
 */
export async function readNamedFile(path: string, what: string, fail: (message: string) => Error, ifMissing = ''): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw fail(errorCode(err) === 'ENOENT' ? `${what} ${path} does not exist${ifMissing}` : `cannot read ${what} ${path}: ${(err as Error).message}`);
  }
}

/**
 * Replaces `file` so that a reader (or a crash at any instant) sees either the old content or
 * the new, never a torn mix: write a temporary sibling, fsync it, rename over, fsync the folder.
 * New files are private to the user (mode 600).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(file);
  const temp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(temp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename itself must reach the disk, or a power cut could bring the old name back.
  const folder = await open(dir, 'r').catch(() => undefined);
  if (folder) {
    await folder.sync().catch(() => undefined);
    await folder.close();
  }
}

const errorCode = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

/** An error in Node's own shape (code, path), for a condition the file system did not report itself. */
function fsError(code: string, message: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}, mkdir '${path}'`), { code, path });
}

/**
 * Creates `dir` and its missing parents, one level at a time. Node's `mkdir(…, {recursive:
 * true})` never returns for a path such as /proc/x (it retries the failing level forever at
 * full CPU), so no writer in Kestrel uses it. Fails with Node's own error (ENOENT, EACCES,
 * ENOTDIR when a level is a file), whose `path` names the level that failed.
 */
export async function makeFolder(dir: string): Promise<void> {
  const missing: string[] = [];
  let at = resolve(dir);
  for (;;) {
    const info = await stat(at).catch((err: unknown) => {
      if (errorCode(err) === 'ENOENT' || errorCode(err) === 'ENOTDIR') return undefined;
      throw err;
    });
    if (info) {
      if (!info.isDirectory()) throw fsError('ENOTDIR', 'not a directory', at);
      break;
    }
    missing.unshift(at);
    const parent = dirname(at);
    if (parent === at) break;
    at = parent;
  }
  for (const folder of missing) {
    try {
      await mkdir(folder);
    } catch (err) {
      // Someone else made it meanwhile: fine, as long as it is a folder.
      if (errorCode(err) !== 'EEXIST') throw err;
      if (!(await stat(folder)).isDirectory()) throw fsError('ENOTDIR', 'not a directory', folder);
    }
  }
}
