import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { isInsideFolder, realPathInside } from '../folder-containment.ts';
import sharp from 'sharp';
import { pointInBox, summarize, type AccuracySummary, type PixelPoint } from './metric.ts';
import type { ScreenSpotRecord } from './records.ts';
import { ResultsFile, ResultsFileError, type ScreenSpotResult } from './results-file.ts';

/** What a grounding model said for one image and query; `point` in the image's pixels, null when unreadable. */
export interface GroundingPrediction {
  readonly point: PixelPoint | null;
  readonly raw: string;
  readonly ms: number;
}

export interface GroundContext {
  readonly width: number;
  readonly height: number;
  readonly signal?: AbortSignal;
}

/** The model seam: agent/ground.ts (or a test double) behind one function. */
export type GroundFn = (imagePng: Uint8Array, query: string, context: GroundContext) => Promise<GroundingPrediction>;

export interface ScreenSpotProgress {
  readonly done: number;
  readonly total: number;
  readonly correct: number;
  /** Records found already scored in the results file and skipped. */
  readonly resumed: number;
}

export interface ScreenSpotRunOptions {
  readonly records: readonly ScreenSpotRecord[];
  readonly imagesDir: string;
  readonly ground: GroundFn;
  /** JSONL file; results already in it are kept and their records skipped. */
  readonly resultsPath: string;
  readonly limit?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ScreenSpotProgress) => void;
}

export interface ScreenSpotRun {
  /** One per evaluated record, in annotation order (resumed and new). */
  readonly results: readonly ScreenSpotResult[];
  readonly summary: AccuracySummary;
  readonly resumed: number;
}

export class ScreenSpotImageError extends Error {
  override readonly name = 'ScreenSpotImageError';
}

/** A record's screenshot as PNG; its file name must stay inside `imagesDir` (names are untrusted). */
export async function loadScreenSpotImage(imagesDir: string, record: Pick<ScreenSpotRecord, 'id' | 'imageFile'>): Promise<{ png: Uint8Array; width: number; height: number }> {
  const path = resolve(imagesDir, record.imageFile);
  const outside = (how: string) =>
    new ScreenSpotImageError(`record ${record.id} names image ${record.imageFile}, ${how} the --images folder; img_filename must be a path inside it`);
  if (isAbsolute(record.imageFile) || !isInsideFolder(resolve(imagesDir), path)) throw outside('outside');
  let bytes: Buffer;
  try {
    // Resolved again with links followed: a link inside the folder may point anywhere.
    const real = await realPathInside(imagesDir, record.imageFile);
    if (real === null) throw outside('which a symbolic link takes outside');
    bytes = await readFile(real);
  } catch (err) {
    if (err instanceof ScreenSpotImageError) throw err;
    throw new ScreenSpotImageError(`image ${path} for record ${record.id} is missing; check --images points at the dataset's image folder`);
  }
  try {
    const image = sharp(bytes);
    const meta = await image.metadata();
    const png = meta.format === 'png' ? bytes : await image.png().toBuffer();
    return { png, width: meta.width!, height: meta.height! };
  } catch (err) {
    throw new ScreenSpotImageError(`image ${path} for record ${record.id} cannot be decoded (${(err as Error).message})`);
  }
}

/**
 * Scores records one by one through `ground`, appending each result as it comes so that an
 * interrupted run resumes where it stopped. A model error stops the run (results so far kept).
 */
export async function runScreenSpot(options: ScreenSpotRunOptions): Promise<ScreenSpotRun> {
  const records = options.limit === undefined ? options.records : options.records.slice(0, options.limit);
  const file = await ResultsFile.open(options.resultsPath);
  try {
    const done = new Map(file.existing.map((r) => [r.id, r]));
    const results: ScreenSpotResult[] = [];
    let correct = 0;
    let resumed = 0;
    for (const record of records) {
      const previous = done.get(record.id);
      if (previous && (previous.instruction !== record.instruction || previous.imageFile !== record.imageFile)) {
        throw new ResultsFileError(
          `${options.resultsPath} holds a different record under id ${record.id} ("${previous.instruction}" on ${previous.imageFile}); it was written for other annotations: choose another --results file`,
        );
      }
      if (previous) {
        results.push(previous);
        resumed += 1;
        if (previous.correct) correct += 1;
      }
    }
    const report = (): void =>
      options.onProgress?.({ done: results.length, total: records.length, correct, resumed });
    report();

    for (const record of records) {
      if (done.has(record.id)) continue;
      options.signal?.throwIfAborted();
      const image = await loadScreenSpotImage(options.imagesDir, record);
      if (record.imageSize && (record.imageSize.width !== image.width || record.imageSize.height !== image.height)) {
        throw new ScreenSpotImageError(
          `image ${record.imageFile} is ${image.width}x${image.height} but record ${record.id} says img_size ${record.imageSize.width}x${record.imageSize.height}`,
        );
      }
      const prediction = await options.ground(image.png, record.instruction, { width: image.width, height: image.height, signal: options.signal });
      const result: ScreenSpotResult = {
        id: record.id,
        imageFile: record.imageFile,
        instruction: record.instruction,
        box: record.box,
        imageSize: { width: image.width, height: image.height },
        point: prediction.point,
        correct: pointInBox(prediction.point, record.box),
        dataType: record.dataType,
        platform: record.platform,
        application: record.application,
        group: record.group,
        raw: prediction.raw,
        ms: prediction.ms,
      };
      file.append(result);
      results.push(result);
      if (result.correct) correct += 1;
      report();
    }
    const order = new Map(records.map((r, i) => [r.id, i]));
    results.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return { results, summary: summarize(results), resumed };
  } finally {
    file.close();
  }
}
