import { KestrelError } from '../../shared/errors.ts';

/** A problem with a checkpoint folder or file; the message names the file (and tensor) and the fix. */
export class CheckpointError extends KestrelError {
  override readonly name = 'CheckpointError';
}
