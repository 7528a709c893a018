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

/** A failure that will be tried again, as told to `onRetry`. */
export interface RetryNotice {
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  /** Attempts in all, the first included. */
  readonly attempts: number;
  /** How long until the next attempt. */
  readonly delayMs: number;
  readonly error: unknown;
}

export interface RetryHooks {
  readonly signal?: AbortSignal;
  /** Whether a failure is worth another attempt (default: unless it says `retryable: false` or is an abort). */
  readonly retryable?: (error: unknown) => boolean;
  /** The wait a failure asks for (a server's Retry-After), instead of the back-off. */
  readonly delayMs?: (error: unknown) => number | undefined;
  readonly onRetry?: (notice: RetryNotice) => void;
}

const worthRetrying = (err: unknown): boolean => (err as { retryable?: unknown } | null)?.retryable !== false && (err as Error)?.name !== 'AbortError';

/**
 * Runs `work` until it succeeds, the attempts run out, the error is not worth retrying, or the
 * signal fires (then it throws RunAbortedError). The one retry loop in Kestrel: the endpoint
 * client and the agent loop's screenshots both use it, and nothing retries what it gave up on.
 */
export async function withRetries<T>(work: () => Promise<T>, options: RetryOptions = {}, hooks: RetryHooks = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const backoff = options.backoffMs ?? 500;
  const { signal } = hooks;
  for (let attempt = 1; ; attempt++) {
    try {
      return await raceAbort(work(), signal);
    } catch (err) {
      if (signal?.aborted) throw new RunAbortedError(signal.reason);
      if (attempt >= attempts || !(hooks.retryable ?? worthRetrying)(err)) throw err;
      const delayMs = hooks.delayMs?.(err) ?? backoff * 2 ** (attempt - 1);
      hooks.onRetry?.({ attempt, attempts, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}
