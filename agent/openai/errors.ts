import { KestrelError } from '../../shared/errors.ts';

/**
 * A failure talking to an OpenAI-compatible endpoint. The message is one line that says what
 * happened and how to fix it; it never contains the API key.
 */
export class ModelEndpointError extends KestrelError {
  override readonly name = 'ModelEndpointError';
  constructor(
    message: string,
    /** HTTP status, when the server answered. */
    readonly status?: number,
    /** Whether trying again may help (429, 5xx, network errors, timeouts). */
    readonly retryable = false,
  ) {
    super(message);
  }
}

/** The request was aborted by the caller's signal. */
export class ModelAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor() {
    super('the model request was aborted');
  }
}
