/**
 * Folder settings checked against the disk before they are kept (settings.ts has already made
 * sure each is empty or absolute): a folder Kestrel writes into must exist or be creatable, and
 * the model folder must be a model. Cheap checks, so a typo is refused when it is typed, not
 * when a run or an import trips over it.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { FOLDER_SETTINGS, SETTING_LABELS, type FolderSetting, type Settings } from './settings.ts';
import { InvalidInput } from './validate.ts';

type FileKind = 'folder' | 'file' | 'missing';

async function kindOf(path: string): Promise<FileKind> {
  try {
    return (await stat(path)).isDirectory() ? 'folder' : 'file';
  } catch (err) {
    // ENOTDIR: a part of the path is a file; the walk up to it says so.
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw err;
  }
}

/** Why Kestrel could not create files in `dir` (an existing folder, or one it would create), else undefined. */
async function whyNotWritable(dir: string): Promise<string | undefined> {
  let existing = dir;
  for (;;) {
    const kind = await kindOf(existing);
    if (kind === 'folder') break;
    if (kind === 'file') return existing === dir ? `${dir} is a file, not a folder` : `${existing} is a file, so ${dir} cannot be created`;
    const parent = dirname(existing);
    if (parent === existing) return `no part of ${dir} exists`;
    existing = parent;
  }
  try {
    await access(existing, constants.W_OK | constants.X_OK);
    return undefined;
  } catch {
    return existing === dir ? `${dir} is not writable by this user` : `${dir} does not exist and ${existing} is not writable by this user, so it cannot be created`;
  }
}

/** Why `dir` is not a model made by `kestrel model import`, else undefined. */
async function whyNotModel(dir: string, manifestFile: string): Promise<string | undefined> {
  const kind = await kindOf(dir);
  if (kind === 'missing') return `${dir} does not exist`;
  if (kind === 'file') return `${dir} is a file, not a folder`;
  if ((await kindOf(join(dir, manifestFile))) !== 'file') return `${dir} has no ${manifestFile}, so it is not a model made by kestrel model import`;
  return undefined;
}

const FIXES: { readonly [K in FolderSetting]: string } = {
  modelDir: 'give a folder made by kestrel model import (Settings → Models lists the imported ones)',
  modelsDir: 'choose a folder you can write to, or leave it empty for the default',
  trajectoriesDir: 'choose a folder you can write to, or leave it empty for the default',
};

/**
 * Refuses, with one line naming the setting, the problem and the fix, any folder setting in
 * `patch` that Kestrel could not use. Empty values (the defaults) pass. `names` renames the
 * settings in the message (the command line calls modelDir `--model-dir`).
 */
export async function checkFolderSettings(
  patch: Partial<Settings>,
  manifestFile: string,
  names: Partial<Record<FolderSetting, string>> = {},
): Promise<void> {
  for (const key of FOLDER_SETTINGS) {
    const dir = patch[key];
    if (!dir) continue;
    let problem: string | undefined;
    try {
      problem = key === 'modelDir' ? await whyNotModel(dir, manifestFile) : await whyNotWritable(dir);
    } catch (err) {
      problem = `cannot look at ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
    }
    if (problem) throw new InvalidInput(`${names[key] ?? SETTING_LABELS[key]}: ${problem}; ${FIXES[key]}`);
  }
}
