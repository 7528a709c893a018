import { ground, ModelEndpointError } from '../../agent/index.ts';
import { CliError } from '../errors.ts';
import { generationSettings, modelOpener, type ModelOptionValues } from '../model-options.ts';
import { readImage } from './read-image.ts';

export interface GroundCommandOptions extends ModelOptionValues {
  readonly json?: boolean;
}

/** `kestrel ground`: prints the point (normalised and in pixels), the raw reply and the latency. */
export async function groundCommand(imagePath: string, query: string, options: GroundCommandOptions): Promise<number> {
  if (query.trim() === '') throw new CliError('the query is empty; say what to find, e.g. "the Save button"', 2);
  const openModel = modelOpener(options);
  // The image first: a typo in its path is one line now, not after the model has loaded.
  const image = await readImage(imagePath);
  const model = await openModel();
  let result;
  try {
    result = await ground(model, image, query, generationSettings(options));
  } catch (err) {
    if (err instanceof ModelEndpointError) throw new CliError(err.message);
    throw err;
  }
  const { point, pixel, raw, ms } = result;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ x: point?.x ?? null, y: point?.y ?? null, px: pixel?.px ?? null, py: pixel?.py ?? null, raw, ms })}\n`);
  } else {
    const where = point && pixel ? `x=${point.x.toFixed(4)} y=${point.y.toFixed(4)} (pixel ${pixel.px}, ${pixel.py} of ${image.width}×${image.height})` : 'none';
    process.stdout.write(`point: ${where}\nraw: ${JSON.stringify(raw)}\nms: ${ms}\n`);
  }
  if (!point) {
    process.stderr.write(`kestrel: the reply held no point (${result.error ?? 'unknown'})\n`);
    return 1;
  }
  return 0;
}
