/** Runs a model command, turning the model runtime's typed errors into one-line CLI errors. */
import { CheckpointError } from '../../native-models/checkpoint/errors.ts';
import { OutputFolderError } from '../../native-models/checkpoint/output-folder.ts';
import { ContextLengthError, ModelMemoryError } from '../../native-models/models/kimi-vl/context-limit.ts';
import { ImageInputError, ImageProcessorConfigError } from '../../native-models/models/kimi-vl/image-processing.ts';
import { VisionNotAvailableError } from '../../native-models/models/kimi-vl/local-model.ts';
import { MultimodalPromptError } from '../../native-models/models/kimi-vl/multimodal.ts';
import { TokenizerInputError } from '../../native-models/models/kimi-vl/tokenization.ts';
import { DeviceUnavailableError } from '../../native-models/onnx/backend.ts';
import { CliError } from '../errors.ts';

/** Errors about what the person gave us (files, images, messages, a prompt too long or too big for memory): their message is the whole story. */
const USER_FACING = [CheckpointError, VisionNotAvailableError, ImageInputError, ImageProcessorConfigError, MultimodalPromptError, DeviceUnavailableError, TokenizerInputError, ContextLengthError, ModelMemoryError];

/** Whether the error is about the caller's input (its message is the whole story), not a fault in Kestrel. */
export function isUserFacing(err: unknown): err is Error {
  return USER_FACING.some((type) => err instanceof type);
}

export async function asCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    // An output folder that cannot be used is named on the command line: a usage error.
    if (err instanceof OutputFolderError) throw new CliError(err.message, 2);
    if (isUserFacing(err)) throw new CliError((err as Error).message);
    throw err;
  }
}
