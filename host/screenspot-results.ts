import { resolve } from 'node:path';
import { loadScreenSpotImage, readResultsFile, summarize } from '../agent/eval.ts';
import type { ImageData, ScreenSpotResultsView } from './types.ts';

/** A results file written by `kestrel eval screenspot`, scored again for the Inspector. */
export async function openScreenSpotResults(results: string, images: string): Promise<ScreenSpotResultsView> {
  const records = await readResultsFile(resolve(results));
  if (records.length === 0) {
    throw new Error(`results file ${results} holds no results yet; run kestrel eval screenspot with --results ${results} first`);
  }
  return { results: resolve(results), images: resolve(images), summary: summarize(records), records };
}

/** The screenshot of the `index`-th result, confined to the images folder. */
export async function screenSpotImage(results: string, images: string, index: number): Promise<ImageData> {
  const records = await readResultsFile(resolve(results));
  const record = records[index];
  if (!record) throw new Error(`results file ${results} has ${records.length} results; there is no result ${index}`);
  const { png, width, height } = await loadScreenSpotImage(resolve(images), record);
  // A plain Uint8Array: a Buffer would serialise through its toJSON on the WebSocket bridge.
  return { png: new Uint8Array(png.buffer, png.byteOffset, png.byteLength), width, height };
}
