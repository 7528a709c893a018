/** Free space where a folder is (or will be) created. */
import { existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Bytes an unprivileged process may still write on the filesystem holding `path` (or its nearest existing parent). */
export function freeBytes(path: string): number {
  let dir = resolve(path);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const stats = statfsSync(dir);
  return stats.bavail * stats.bsize;
}
