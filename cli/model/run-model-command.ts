/** Runs a model command, turning the model runtime's typed errors into one-line CLI errors. */
import { CheckpointError } from '../../native-models/checkpoint/errors.ts';
import { VisionNotAvailableError } from '../../native-models/models/kimi-vl/local-model.ts';
import { CliError } from '../errors.ts';

export async function asCliErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof CheckpointError || err instanceof VisionNotAvailableError) throw new CliError(err.message);
    throw err;
  }
}
