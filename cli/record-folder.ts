import { prepareRecordFolder, RecordFolderError } from '../agent/index.ts';
import { CliError } from './errors.ts';

/**
 * `--record <dir>`, checked before the model loads or anything runs: created, writable, and —
 * for `run`, which records straight into it (`fresh`) — not holding another run. Returns the
 * absolute path; a bad one is a one-line usage error (exit 2).
 */
export async function recordFolder(path: string, options: { readonly fresh: boolean }): Promise<string> {
  try {
    return await prepareRecordFolder(path, { label: '--record', fresh: options.fresh });
  } catch (err) {
    if (err instanceof RecordFolderError) throw new CliError(err.message, 2);
    throw err;
  }
}
