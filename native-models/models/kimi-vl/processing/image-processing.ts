/**
 * Kimi-VL image processor: image bytes → MoonViT `pixel_values` [N, 3, 14, 14], the patch grid
 * (gh, gw) and the number of `<|media_pad|>` tokens, following the checkpoint's
 * preprocessor_config.json (KimiVLImageProcessor, docs/kimi-vl.md#image-processor).
 *
 * Decoding and resampling are sharp's (libvips); only the cheap parts (size rule, padding,
 * normalisation, patch layout) are done here, in one pass over the decoded bytes.
 */
import { readFile } from 'node:fs/promises';
import { concatFloat32 } from '../../../numeric/float32.ts';
import sharp, { type Metadata, type OutputInfo, type SharpOptions } from 'sharp';
import { KestrelError } from '../../../../shared/errors.ts';
import { oneLine } from '../../../../shared/one-line.ts';

export interface ImageProcessorConfig {
  /** Budget of 14-px patches before padding and merging; larger images are scaled down. */
  readonly inTokenLimit: number;
  readonly patchSize: number;
  /** [height, width] patches merged into one language-model token. */
  readonly mergeKernelSize: readonly [number, number];
  /** true: pad right/bottom with black to a multiple of patch×merge; false: centre-crop down to one. */
  readonly padInput: boolean;
  readonly imageMean: readonly [number, number, number];
  readonly imageStd: readonly [number, number, number];
}

/** The values shipped in Kimi-VL-A3B-Instruct's preprocessor_config.json. */
export const KIMI_VL_IMAGE_DEFAULTS: ImageProcessorConfig = {
  inTokenLimit: 4096,
  patchSize: 14,
  mergeKernelSize: [2, 2],
  padInput: true,
  imageMean: [0.5, 0.5, 0.5],
  imageStd: [0.5, 0.5, 0.5],
};

/** MoonViT's rotary table and the processor's "Exceed pos emb" check stop at 512 patches a side. */
export const MAX_GRID_SIDE = 512;
/** Refuse before decoding anything bigger (sharp's own default limit, 16383²). */
export const MAX_INPUT_PIXELS = 0x3fff * 0x3fff;

/** Raised for images the model cannot take; the message says what was wrong and what to do. */
export class ImageInputError extends KestrelError {
  override readonly name = 'ImageInputError';
}

/** Raised for a preprocessor_config.json this processor does not understand. */
export class ImageProcessorConfigError extends KestrelError {
  override readonly name = 'ImageProcessorConfigError';
}

/**
 * Reads preprocessor_config.json. The class defaults of the Python processor are OpenAI-CLIP
 * mean/std, so a file without image_mean/image_std means CLIP values, not 0.5 (docs/kimi-vl.md#image-processor).
 */
export function parsePreprocessorConfig(json: unknown): ImageProcessorConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ImageProcessorConfigError('preprocessor_config.json must hold a JSON object');
  }
  const raw = json as Record<string, unknown>;
  const int = (key: string, fallback: number): number => {
    const value = raw[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new ImageProcessorConfigError(`preprocessor_config.json: ${key} must be a positive integer, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const triple = (key: string, fallback: readonly number[]): [number, number, number] => {
    const value = raw[key] ?? fallback;
    if (!Array.isArray(value) || value.length !== 3 || !value.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new ImageProcessorConfigError(`preprocessor_config.json: ${key} must be three numbers, got ${JSON.stringify(value)}`);
    }
    return [value[0], value[1], value[2]];
  };
  const merge = raw['merge_kernel_size'] ?? [2, 2];
  if (!Array.isArray(merge) || merge.length !== 2 || !merge.every((v) => Number.isInteger(v) && v >= 1)) {
    throw new ImageProcessorConfigError(`preprocessor_config.json: merge_kernel_size must be two positive integers, got ${JSON.stringify(merge)}`);
  }
  const padInput = raw['pad_input'] ?? false;
  if (typeof padInput !== 'boolean') {
    throw new ImageProcessorConfigError(`preprocessor_config.json: pad_input must be true or false, got ${JSON.stringify(padInput)}`);
  }
  const imageStd = triple('image_std', [0.26862954, 0.26130258, 0.27577711]);
  if (imageStd.some((v) => v === 0)) {
    throw new ImageProcessorConfigError('preprocessor_config.json: image_std must not contain 0');
  }
  return {
    inTokenLimit: int('in_token_limit', 4096),
    patchSize: int('patch_size', 14),
    mergeKernelSize: [merge[0] as number, merge[1] as number],
    padInput,
    imageMean: triple('image_mean', [0.48145466, 0.4578275, 0.40821073]),
    imageStd,
  };
}

export interface ImagePlan {
  readonly source: { readonly width: number; readonly height: number };
  /** Size after the in_token_limit rule; equal to `source` when no resize is needed. */
  readonly resized: { readonly width: number; readonly height: number };
  /** Size fed to the patchifier, after padding (or centre-cropping). */
  readonly final: { readonly width: number; readonly height: number };
  /** Top-left of the crop window inside the resized image (0, 0 when padding). */
  readonly offset: { readonly x: number; readonly y: number };
  /** Patch grid (rows, columns) of 14-px patches. */
  readonly grid: readonly [number, number];
  /** `<|media_pad|>` tokens this image expands to: gh·gw / (merge_h·merge_w). */
  readonly tokens: number;
}

/** Python's round(): halves go to the even neighbour (torchvision's centre crop uses it). */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

/** The sizes KimiVLImageProcessor.rescale() produces for a width × height image, or a refusal. */
export function planImage(width: number, height: number, config: ImageProcessorConfig = KIMI_VL_IMAGE_DEFAULTS): ImagePlan {
  const { patchSize: p, inTokenLimit } = config;
  const [mergeH, mergeW] = config.mergeKernelSize;
  const described = `${width}×${height}`;
  const patches = Math.floor(width / p) * Math.floor(height / p);
  let resized = { width, height };
  if (patches > inTokenLimit) {
    // Same double arithmetic as the Python: int(w * sqrt(limit / P)).
    const scale = Math.sqrt(inTokenLimit / patches);
    resized = { width: Math.trunc(width * scale), height: Math.trunc(height * scale) };
  }
  let final: { width: number; height: number };
  let offset = { x: 0, y: 0 };
  if (config.padInput) {
    const stepH = mergeH * p;
    const stepW = mergeW * p;
    final = {
      width: resized.width + ((stepW - (resized.width % stepW)) % stepW),
      height: resized.height + ((stepH - (resized.height % stepH)) % stepH),
    };
  } else {
    const evenPatches = (size: number, merge: number): number => {
      const n = Math.floor(size / p);
      return (n - (n % merge)) * p;
    };
    final = { width: evenPatches(resized.width, mergeW), height: evenPatches(resized.height, mergeH) };
    if (final.width === 0 || final.height === 0) {
      throw new ImageInputError(
        `image ${described} is smaller than ${mergeW * p}×${mergeH * p} px, the least this checkpoint crops to (pad_input is false); use a larger image`,
      );
    }
    offset = { x: roundHalfEven((resized.width - final.width) / 2), y: roundHalfEven((resized.height - final.height) / 2) };
  }
  const gh = final.height / p;
  const gw = final.width / p;
  if (gh >= MAX_GRID_SIDE || gw >= MAX_GRID_SIDE || resized.width < 1 || resized.height < 1) {
    throw new ImageInputError(
      `image ${described} is too elongated: it becomes ${gw}×${gh} patches of ${p} px and MoonViT allows at most ${MAX_GRID_SIDE - 1} a side; crop or split it into pieces closer to square`,
    );
  }
  return { source: { width, height }, resized, final, offset, grid: [gh, gw], tokens: (gh * gw) / (mergeH * mergeW) };
}

export interface ProcessedImage {
  readonly plan: ImagePlan;
  /** [gh·gw, 3, patch, patch] float32, patches row-major over the grid. */
  readonly pixelValues: Float32Array;
}

export type ImageSource = Uint8Array | string;

async function readSource(source: ImageSource): Promise<{ bytes: Uint8Array; label: string }> {
  if (typeof source !== 'string') return { bytes: source, label: 'image data' };
  try {
    return { bytes: await readFile(source), label: source };
  } catch (err) {
    throw new ImageInputError(`cannot read image ${source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

function decodeError(label: string, err: unknown): ImageInputError {
  const reason = oneLine(err);
  return new ImageInputError(`${label} is not a readable image (${reason}); pass an uncorrupted PNG, JPEG, WebP, GIF or TIFF file`);
}

/**
 * Per-channel lookup from an 8-bit value to the normalised float, computed in float32 in the
 * same order as torchvision (to_tensor: v/255, then normalize: (x − mean)/std).
 */
function normalisationTables(config: ImageProcessorConfig): Float32Array[] {
  return [0, 1, 2].map((c) => {
    const mean = Math.fround(config.imageMean[c]!);
    const std = Math.fround(config.imageStd[c]!);
    const table = new Float32Array(256);
    for (let v = 0; v < 256; v++) table[v] = Math.fround(Math.fround(Math.fround(v / 255) - mean) / std);
    return table;
  });
}

/** Decodes, resizes, pads and patchifies one image. */
export async function processImage(source: ImageSource, config: ImageProcessorConfig = KIMI_VL_IMAGE_DEFAULTS): Promise<ProcessedImage> {
  const { bytes, label } = await readSource(source);
  if (bytes.length === 0) throw new ImageInputError(`${label} is empty (0 bytes); pass a PNG, JPEG, WebP, GIF or TIFF file`);
  // PIL ignores embedded colour profiles (a macOS screenshot's Display P3 one, say), so the model
  // was trained on the stored values; sharp would convert them to sRGB. EXIF orientation is
  // likewise not applied, as in PIL.
  const options: SharpOptions = { failOn: 'error', limitInputPixels: MAX_INPUT_PIXELS, ignoreIcc: true };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { ...options, limitInputPixels: false }).metadata();
  } catch (err) {
    throw decodeError(label, err);
  }
  const { width, height } = meta;
  if (!width || !height) throw new ImageInputError(`${label} has no pixel size in its header; pass an uncorrupted image file`);
  if (width * height > MAX_INPUT_PIXELS) {
    throw new ImageInputError(
      `${label} is ${width}×${height} (${Math.round((width * height) / 1e6)} megapixels), over the ${Math.round(MAX_INPUT_PIXELS / 1e6)} MP this processor decodes; downscale it first`,
    );
  }
  const plan = planImage(width, height, config);

  let pipeline = sharp(bytes, options);
  if (plan.resized.width !== width || plan.resized.height !== height) {
    // PIL's BICUBIC is a separable a = −0.5 cubic, widened by the scale factor when shrinking;
    // libvips' "cubic" (Catmull-Rom) is the same a = −0.5 kernel and its reduce also widens it,
    // premultiplying alpha like Pillow does for RGBA. Measured against a Pillow-rule resampler
    // (test/fixtures/images/pillow-resample.ts) on 1920×1080 → 1196×672: mean difference 0.24
    // levels, 99.9 % of samples within ±1, at most 6 next to 0/255 where Pillow clamps between its
    // two passes (lanczos3 or mitchell: mean 0.7–0.9). Palette images: Pillow silently resizes
    // mode "P" with NEAREST, so we do too (identical except at exact half-pixel ties).
    // Shrink factors over 2 let libvips box-shrink first (its reduce "gap"); Pillow never does,
    // which only matters for images far above the token budget.
    pipeline = pipeline.resize(plan.resized.width, plan.resized.height, {
      fit: 'fill',
      kernel: meta.isPalette ? 'nearest' : 'cubic',
      fastShrinkOnLoad: false,
    });
  }
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    // 16-bit images come out as their high byte, which is what Pillow does for 16-bit RGB(A)
    // PNGs. (Pillow's 16-bit greyscale → RGB clamps to 255 instead, turning most of such an
    // image white; we deliberately use the high byte there too.)
    decoded = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (err) {
    throw decodeError(label, err);
  }
  return { plan, pixelValues: patchify(decoded.data, decoded.info, plan, config) };
}

/**
 * Lays the decoded bytes out as MoonViT patches. Alpha is dropped, not composited: the Python
 * processor calls PIL's convert("RGB"), which discards it; pixels outside the image (padding)
 * are black before normalisation.
 */
function patchify(data: Uint8Array, info: OutputInfo, plan: ImagePlan, config: ImageProcessorConfig): Float32Array {
  const { channels, width, height } = info;
  if (width !== plan.resized.width || height !== plan.resized.height) {
    throw new ImageInputError(`decoder returned ${width}×${height} instead of ${plan.resized.width}×${plan.resized.height}; the image may be corrupt`);
  }
  const colour = channels >= 3;
  if (channels < 1 || channels > 4) throw new ImageInputError(`image has ${channels} channels; pass a greyscale, RGB or RGBA image`);
  const [t0, t1, t2] = normalisationTables(config) as [Float32Array, Float32Array, Float32Array];
  const [g, b] = colour ? [1, 2] : [0, 0];
  const p = config.patchSize;
  const plane = p * p;
  const [gh, gw] = plan.grid;
  const patchLen = 3 * plane;
  const out = new Float32Array(gh * gw * patchLen);
  const { x: ox, y: oy } = plan.offset;
  // One pass in source order (cache-friendly reads); each pixel writes its three channel planes.
  for (let gy = 0; gy < gh; gy++) {
    for (let ky = 0; ky < p; ky++) {
      const y = gy * p + ky + oy;
      const inside = y < height;
      let src = (y * width + ox) * channels;
      for (let gx = 0; gx < gw; gx++) {
        const dst = (gy * gw + gx) * patchLen + ky * p;
        const valid = inside ? Math.max(0, Math.min(p, width - gx * p - ox)) : 0;
        for (let kx = 0; kx < valid; kx++, src += channels) {
          out[dst + kx] = t0[data[src]!]!;
          out[dst + plane + kx] = t1[data[src + g]!]!;
          out[dst + 2 * plane + kx] = t2[data[src + b]!]!;
        }
        for (let kx = valid; kx < p; kx++) {
          out[dst + kx] = t0[0]!;
          out[dst + plane + kx] = t1[0]!;
          out[dst + 2 * plane + kx] = t2[0]!;
        }
      }
    }
  }
  return out;
}

export interface ProcessedImages {
  /** All images' patches concatenated along the first axis, [Σ gh·gw, 3, patch, patch]. */
  readonly pixelValues: Float32Array;
  /** (gh, gw) per image, in input order. */
  readonly gridHws: ReadonlyArray<readonly [number, number]>;
  /** `<|media_pad|>` tokens per image, in input order. */
  readonly tokenCounts: readonly number[];
}

/** Processes several images for one prompt (all images of a conversation, in order). */
export async function processImages(sources: readonly ImageSource[], config: ImageProcessorConfig = KIMI_VL_IMAGE_DEFAULTS): Promise<ProcessedImages> {
  const images: ProcessedImage[] = [];
  for (const source of sources) images.push(await processImage(source, config));
  const pixelValues = concatFloat32(images.map((image) => image.pixelValues));
  return { pixelValues, gridHws: images.map((image) => image.plan.grid), tokenCounts: images.map((image) => image.plan.tokens) };
}
