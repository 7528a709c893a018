/**
 * "This path, resolved, is inside that folder, resolved": the one containment check for every
 * file name that comes from somewhere untrusted (a recorded run, a dataset, a URL). Symbolic
 * links are followed on both sides first, so a link inside the folder that points out of it is
 * outside, and a folder reached through a link still contains its own files.
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Whether `path` lies strictly inside `folder`; both must already be resolved (absolute, no links). */
export function isInsideFolder(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

/**
 * The real path of `path` (relative to `folder`, or absolute) when it lies inside the real
 * `folder`, else null. A missing file or folder rejects with the file system's own error
 * (`code` ENOENT), so callers can say "missing" rather than "outside".
 */
export async function realPathInside(folder: string, path: string): Promise<string | null> {
  const root = await realpath(folder);
  const real = await realpath(resolve(folder, path));
  return isInsideFolder(root, real) ? real : null;
}
