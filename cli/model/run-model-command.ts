/** Runs a model command, turning the model runtime's typed errors into one-line CLI errors. */
import { CheckpointError } from '../../native-models/checkpoint/errors.ts';
import { ImageInputError, ImageProcessorConfigError } from '../../native-models/models/kimi-vl/image-processing.ts';
import { VisionNotAvailableError } from '../../native-models/models/kimi-vl/local-model.ts';
import { MultimodalPromptError } from '../../native-models/models/kimi-vl/multimodal.ts';
import { CliError } from '../errors.ts';

export async function asCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    const typed = [CheckpointError, VisionNotAvailableError, ImageInputError, ImageProcessorConfigError, MultimodalPromptError];
    if (typed.some((type) => err instanceof type)) throw new CliError((err as Error).message);
    throw err;
  }
}
