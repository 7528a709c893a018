import { readFile } from 'node:fs/promises';
import sharp, { type Metadata } from 'sharp';
import type { GroundImage } from '../../agent/index.ts';
import { CliError } from '../errors.ts';

/** Reads an image file for the model: PNG and JPEG are sent as they are, other formats as PNG. */
export async function readImage(path: string): Promise<GroundImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CliError(`cannot read the image ${path}${code === 'ENOENT' ? ': no such file' : ` (${code ?? String(err)})`}`, 2);
  }
  let meta: Metadata;
  try {
    meta = await sharp(bytes).metadata();
  } catch {
    throw new CliError(`${path} is not an image Kestrel can read; give a PNG or JPEG screenshot`, 2);
  }
  if (!meta.width || !meta.height) throw new CliError(`${path} has no width or height`, 2);
  if (meta.format === 'png' || meta.format === 'jpeg') {
    return { mimeType: meta.format === 'png' ? 'image/png' : 'image/jpeg', data: bytes, width: meta.width, height: meta.height };
  }
  const png = await sharp(bytes).png().toBuffer();
  return { mimeType: 'image/png', data: png, width: meta.width, height: meta.height };
}
