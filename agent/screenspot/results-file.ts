import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ScreenSpotResult } from './types.ts';
import { KestrelError } from '../../shared/errors.ts';
import { makeFolder, readNamedFile } from '../../shared/files.ts';

export type { ScreenSpotResult };

export class ResultsFileError extends KestrelError {
  override readonly name = 'ResultsFileError';
}

/**
 * The complete lines of a results file's text, parsed; a last line without its newline was cut
 * short by a crash and is left out. Throws ResultsFileError naming the line that is wrong.
 */
export function parseResultsText(text: string, path: string): { complete: string; existing: ScreenSpotResult[] } {
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  const existing: ScreenSpotResult[] = [];
  complete
    .split('\n')
    .filter((line) => line.trim() !== '')
    .forEach((line, index) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new ResultsFileError(
          `${path} line ${index + 1} is not JSON; it is not a Kestrel ScreenSpot results file (choose another --results file or delete it)`,
        );
      }
      const result = value as ScreenSpotResult;
      if (typeof result?.id !== 'string' || typeof result.correct !== 'boolean') {
        throw new ResultsFileError(`${path} line ${index + 1} is not a ScreenSpot result (no id/correct); choose another --results file`);
      }
      existing.push(result);
    });
  return { complete, existing };
}

/** Reads a results file without opening it for writing (the viewer's way in). */
export async function readResultsFile(path: string): Promise<ScreenSpotResult[]> {
  const text = await readNamedFile(path, 'results file', (message) => new ResultsFileError(message), '; give the --results file kestrel eval screenspot wrote');
  return parseResultsText(text, path).existing;
}

/**
 * An append-only JSONL file of results, fsynced after every line so that a crash loses at most
 * the line being written. Opening it reads what is already there (for resuming) and cuts off a
 * last line left half-written by a crash.
 */
export class ResultsFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
    readonly existing: readonly ScreenSpotResult[],
  ) {}

  static async open(path: string): Promise<ResultsFile> {
    await makeFolder(dirname(path));
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const { complete, existing } = parseResultsText(text, path);
    const fd = openSync(path, 'a+');
    if (complete.length !== text.length) ftruncateSync(fd, Buffer.byteLength(complete));
    return new ResultsFile(path, fd, existing);
  }

  append(result: ScreenSpotResult): void {
    writeSync(this.fd, `${JSON.stringify(result)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}
