import { basename } from 'node:path';
import type { PixelBox } from './types.ts';
import { KestrelError } from '../../shared/errors.ts';
import { readNamedFile } from '../../shared/files.ts';

export type { PixelBox };

/**
 * One grounding sample, whichever file format it came from. ScreenSpot v1/v2 write `bbox` as
 * x, y, width, height and call the element kind `data_type`; ScreenSpot-Pro writes x1, y1, x2, y2
 * with `img_size`, `ui_type`, `group`, `platform` and `application`.
 */
export interface ScreenSpotRecord {
  /** Stable across runs of the same file: the record's own `id`, else `<file>#<index>`. */
  readonly id: string;
  readonly format: 'v1' | 'pro';
  readonly imageFile: string;
  readonly instruction: string;
  readonly box: PixelBox;
  readonly imageSize?: { readonly width: number; readonly height: number };
  /** 'text' or 'icon' in the published sets. */
  readonly dataType: string;
  readonly platform?: string;
  readonly application?: string;
  readonly group?: string;
}

export class ScreenSpotFormatError extends KestrelError {
  override readonly name = 'ScreenSpotFormatError';
}

type Json = Record<string, unknown>;

const PRO_FIELDS = ['img_size', 'ui_type', 'group'];

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numbers(value: unknown, count: number): number[] | undefined {
  if (!Array.isArray(value) || value.length !== count) return undefined;
  return value.every((n) => typeof n === 'number' && Number.isFinite(n)) ? (value as number[]) : undefined;
}

function optionalString(record: Json, key: string): string | undefined {
  const value = record[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The v1 files are split by platform and named `screenspot_<platform>.json`. */
function platformFromFileName(source: string): string | undefined {
  return /screenspot(?:_v2)?_(mobile|desktop|web)\b/i.exec(basename(source))?.[1]?.toLowerCase();
}

/**
 * Reads the records of one annotations file (already parsed JSON). `source` names the file in
 * messages and ids. Throws ScreenSpotFormatError naming the record and field that is wrong.
 */
export function parseScreenSpotAnnotations(json: unknown, source: string): ScreenSpotRecord[] {
  const list = isObject(json) && Array.isArray(json.data) ? json.data : json;
  if (!Array.isArray(list)) {
    throw new ScreenSpotFormatError(
      `${source}: expected a JSON array of ScreenSpot records (objects with img_filename, instruction and bbox)`,
    );
  }
  const fileName = basename(source);
  const filePlatform = platformFromFileName(source);
  const seen = new Set<string>();
  return list.map((entry, index) => {
    const where = `${source}: record ${index}`;
    if (!isObject(entry)) throw new ScreenSpotFormatError(`${where} is not an object`);
    const imageFile = optionalString(entry, 'img_filename') ?? optionalString(entry, 'image');
    if (!imageFile) throw new ScreenSpotFormatError(`${where} has no "img_filename" (the screenshot's file name)`);
    const instruction = optionalString(entry, 'instruction');
    if (!instruction) throw new ScreenSpotFormatError(`${where} has no "instruction" (the text to ground)`);
    const bbox = numbers(entry.bbox, 4);
    if (!bbox) throw new ScreenSpotFormatError(`${where} needs "bbox" as an array of 4 numbers, got ${JSON.stringify(entry.bbox)}`);

    const pro = PRO_FIELDS.some((key) => key in entry);
    let imageSize: ScreenSpotRecord['imageSize'];
    if (pro && 'img_size' in entry) {
      const size = numbers(entry.img_size, 2);
      if (!size || size[0]! <= 0 || size[1]! <= 0) {
        throw new ScreenSpotFormatError(`${where} needs "img_size" as [width, height] in pixels, got ${JSON.stringify(entry.img_size)}`);
      }
      imageSize = { width: size[0]!, height: size[1]! };
    }
    const [a, b, c, d] = bbox as [number, number, number, number];
    const box: PixelBox = pro ? { x1: a, y1: b, x2: c, y2: d } : { x1: a, y1: b, x2: a + c, y2: b + d };
    if (box.x2 < box.x1 || box.y2 < box.y1 || box.x1 < 0 || box.y1 < 0) {
      const shape = pro ? 'x1, y1, x2, y2 (ScreenSpot-Pro)' : 'x, y, width, height (ScreenSpot v1/v2)';
      throw new ScreenSpotFormatError(`${where} has an empty or negative box ${JSON.stringify(bbox)}; bbox is read as ${shape}`);
    }
    if (imageSize && (box.x2 > imageSize.width || box.y2 > imageSize.height)) {
      throw new ScreenSpotFormatError(
        `${where}: bbox ${JSON.stringify(bbox)} reaches outside img_size ${imageSize.width}x${imageSize.height}`,
      );
    }

    const id = optionalString(entry, 'id') ?? (typeof entry.id === 'number' ? String(entry.id) : `${fileName}#${index}`);
    if (seen.has(id)) throw new ScreenSpotFormatError(`${where} repeats id "${id}"; ids must be unique to resume a run`);
    seen.add(id);
    return {
      id,
      format: pro ? 'pro' : 'v1',
      imageFile,
      instruction,
      box,
      imageSize,
      dataType: optionalString(entry, 'ui_type') ?? optionalString(entry, 'data_type') ?? 'unknown',
      platform: optionalString(entry, 'platform') ?? filePlatform,
      application: optionalString(entry, 'application') ?? optionalString(entry, 'data_source'),
      group: optionalString(entry, 'group'),
    };
  });
}

export async function loadScreenSpotAnnotations(path: string): Promise<ScreenSpotRecord[]> {
  const text = await readNamedFile(path, 'annotations file', (message) => new ScreenSpotFormatError(message));
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ScreenSpotFormatError(`${path} is not valid JSON (${(err as Error).message})`);
  }
  return parseScreenSpotAnnotations(json, path);
}
