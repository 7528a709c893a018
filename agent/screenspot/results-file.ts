import { closeSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PixelPoint } from './metric.ts';
import type { PixelBox } from './records.ts';

/** One line of the results file: everything needed to rescore or report without the model. */
export interface ScreenSpotResult {
  readonly id: string;
  readonly imageFile: string;
  readonly instruction: string;
  readonly box: PixelBox;
  readonly imageSize: { readonly width: number; readonly height: number };
  readonly point: PixelPoint | null;
  readonly correct: boolean;
  readonly dataType: string;
  readonly platform?: string;
  readonly application?: string;
  readonly group?: string;
  /** The model's reply as it came. */
  readonly raw: string;
  readonly ms: number;
}

export class ResultsFileError extends Error {
  override readonly name = 'ResultsFileError';
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

  static open(path: string): ResultsFile {
    mkdirSync(dirname(path), { recursive: true });
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
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
