/** Sleeps, waking early (with the abort reason) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((done, fail) => {
    if (signal?.aborted) return fail(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      fail(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      done();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class RunAbortedError extends Error {
  override readonly name = 'AbortError';
  constructor(readonly reason?: unknown) {
    super('the run was stopped');
  }
}

function abortError(signal: AbortSignal): RunAbortedError {
  return new RunAbortedError(signal.reason);
}

/** Settles with `work`, or rejects as soon as the signal fires, whichever comes first. */
export function raceAbort<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((done, fail) => {
    const onAbort = (): void => fail(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        done(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        fail(err);
      },
    );
  });
}

export interface RetryOptions {
  /** Total attempts, the first included (default 3). */
  readonly attempts?: number;
  /** Delay before the second attempt, doubled after each failure (default 500 ms). */
  readonly backoffMs?: number;
}

/**
 * Runs `work` until it succeeds, the attempts run out, the error says it is not worth
 * retrying (`retryable: false`), or the signal fires. `onRetry` hears about each failure retried.
 */
export async function withRetries<T>(
  work: () => Promise<T>,
  options: RetryOptions,
  signal: AbortSignal | undefined,
  onRetry: (attempt: number, error: unknown) => void,
): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoff = options.backoffMs ?? 500;
  for (let attempt = 1; ; attempt++) {
    try {
      return await raceAbort(work(), signal);
    } catch (err) {
      if (signal?.aborted) throw new RunAbortedError(signal.reason);
      const retryable = (err as { retryable?: unknown } | null)?.retryable !== false && (err as Error)?.name !== 'AbortError';
      if (!retryable || attempt >= attempts) throw err;
      onRetry(attempt, err);
      await sleep(backoff * 2 ** (attempt - 1), signal);
    }
  }
}
