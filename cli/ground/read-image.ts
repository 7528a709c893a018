import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import type { GroundImage } from '../../agent/index.ts';
import { CliError } from '../errors.ts';

const FIX = 'give a PNG or JPEG screenshot';

function unreadable(path: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : code === 'EACCES' ? 'permission denied' : (code ?? String(err));
  return new CliError(`cannot read the image ${path}: ${why}`, 2);
}

/** An image file as read from disk, checked: its bytes as they are, its format and size. */
export interface CheckedImage {
  readonly path: string;
  readonly bytes: Buffer;
  readonly format: string;
  readonly width: number;
  readonly height: number;
}

/**
 * Reads an image file named on the command line (`ground <image>`, `model chat --image`, image
 * parts of a messages file), before any model is loaded or asked: a missing, empty, corrupt or
 * truncated file is one line and exit 2, not a failure minutes later. The whole image is decoded
 * once to find damage a header does not show. The one way the CLI reads an image.
 */
export async function checkImage(path: string): Promise<CheckedImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw unreadable(path, err);
  }
  if (bytes.length === 0) throw new CliError(`the image ${path} is empty (0 bytes); ${FIX}`, 2);
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
    // Decoding to a few pixels reads every row (a truncated or damaged file fails here) in little memory.
    await sharp(bytes, { failOn: 'error' }).resize(8, 8, { fit: 'fill' }).raw().toBuffer();
  } catch (err) {
    const reason = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new CliError(`${path} is not an image Kestrel can read (${reason}); ${FIX}`, 2);
  }
  if (!meta.width || !meta.height || !meta.format) throw new CliError(`${path} has no width or height; ${FIX}`, 2);
  return { path, bytes, format: meta.format, width: meta.width, height: meta.height };
}

/** Every image, checked in order; the first that cannot be read stops it with its one line. */
export async function checkImages(paths: readonly string[]): Promise<CheckedImage[]> {
  const images: CheckedImage[] = [];
  for (const path of paths) images.push(await checkImage(path));
  return images;
}

/** An image for a model request: PNG and JPEG are sent as they are, other formats as PNG. */
export async function readImage(path: string): Promise<GroundImage> {
  const { bytes, format, width, height } = await checkImage(path);
  if (format === 'png' || format === 'jpeg') return { mimeType: format === 'png' ? 'image/png' : 'image/jpeg', data: bytes, width, height };
  return { mimeType: 'image/png', data: await sharp(bytes).png().toBuffer(), width, height };
}
