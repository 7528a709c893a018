/** A problem with a checkpoint folder or file; the message names the file (and tensor) and the fix. */
export class CheckpointError extends Error {
  override readonly name = 'CheckpointError';
}
