import { RunAbortedError, withRetries } from '../loop/timing.ts';
import type { ChatMessage, GenerateRequest, GenerateResult, VisionLanguageModel } from '../model.ts';
import { ModelAbortedError, ModelEndpointError } from './errors.ts';
import { describeBody, readBoundedText, readReply } from './reply-body.ts';

export interface OpenAIClientOptions {
  /** e.g. http://gpu-box:8000/v1 (vLLM, SGLang), with the /v1. */
  readonly baseUrl: string;
  /** The served model name, e.g. moonshotai/Kimi-VL-A3B-Instruct. */
  readonly model: string;
  /** Sent as a Bearer token; never logged or put in error messages. */
  readonly apiKey?: string;
  /** Whole-request limit per attempt (default 120 s). */
  readonly timeoutMs?: number;
  /**
   * Extra attempts after a retryable failure: 429, 5xx, network error, timeout (default 2). The
   * client is the only layer that retries a request; once it gives up, the error is final.
   */
  readonly retries?: number;
  /** First back-off delay, doubled per attempt (default 500 ms); a Retry-After header wins, up to 30 s. */
  readonly backoffMs?: number;
  /** Stream tokens even without an onToken callback (default: stream only when onToken is given). */
  readonly alwaysStream?: boolean;
  readonly fetch?: typeof fetch;
}

type WireContent = string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[];

function toWire(message: ChatMessage): { role: string; content: WireContent } {
  if (typeof message.content === 'string') return { role: message.role, content: message.content };
  return {
    role: message.role,
    content: message.content.map((part) =>
      part.type === 'text'
        ? { type: 'text' as const, text: part.text }
        : { type: 'image_url' as const, image_url: { url: `data:${part.image.mimeType};base64,${Buffer.from(part.image.data).toString('base64')}` } },
    ),
  };
}

/** Checks the base URL once, up front, so a typo fails before the first screenshot. */
export function normalizeBaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ModelEndpointError(`the endpoint '${raw}' is not a URL; give one like http://localhost:8000/v1`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ModelEndpointError(`the endpoint '${raw}' must start with http:// or https://`);
  }
  if (url.username || url.password) {
    throw new ModelEndpointError('put credentials in an environment variable named by --api-key-env, not in the endpoint URL');
  }
  const path = url.pathname.replace(/\/+$/, '');
  if (/\/chat\/completions$/.test(path)) {
    throw new ModelEndpointError(`the endpoint should be the base URL, without /chat/completions: use ${url.origin}${path.replace(/\/chat\/completions$/, '')}`);
  }
  if (path === '') {
    throw new ModelEndpointError(`the endpoint ${url.origin} has no /v1; OpenAI-compatible servers (vLLM, SGLang) answer under it: use ${url.origin}/v1`);
  }
  url.pathname = `${path}/`;
  url.search = '';
  url.hash = '';
  return url;
}

/** A VisionLanguageModel served by any OpenAI-compatible chat completions endpoint. */
export class OpenAIChatModel implements VisionLanguageModel {
  readonly name: string;
  private readonly base: URL;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: OpenAIClientOptions) {
    if (!options.model) throw new ModelEndpointError('no model name given; pass the served model name (GET <endpoint>/models lists them)');
    this.base = normalizeBaseUrl(options.baseUrl);
    this.fetchImpl = options.fetch ?? fetch;
    this.name = `${options.model} @ ${this.base.href.replace(/\/$/, '')}`;
  }

  private get endpoint(): string {
    return new URL('chat/completions', this.base).href;
  }

  /** Replaces the key anywhere a server echoed it back. */
  private redact(text: string): string {
    const key = this.options.apiKey;
    return key && key.length >= 4 ? text.split(key).join('***') : text;
  }

  async generate(request: GenerateRequest): Promise<GenerateResult> {
    const attempts = (this.options.retries ?? 2) + 1;
    try {
      return await withRetries(
        () => this.attempt(request),
        { attempts, backoffMs: this.options.backoffMs ?? 500 },
        {
          ...(request.signal ? { signal: request.signal } : {}),
          retryable: (err) => err instanceof ModelEndpointError && err.retryable,
          delayMs: (err) => {
            const after = (err as { retryAfterMs?: number }).retryAfterMs;
            return after === undefined ? undefined : Math.min(30_000, after);
          },
          onRetry: ({ attempt, delayMs, error }) => request.onRetry?.({ attempt, attempts, delayMs, error: (error as Error).message }),
        },
      );
    } catch (err) {
      if (err instanceof ModelAbortedError || err instanceof RunAbortedError || request.signal?.aborted) throw new ModelAbortedError();
      if (err instanceof ModelEndpointError && err.retryable) {
        // The attempts ran out: say so once, and mark the error final so that no caller tries again.
        throw new ModelEndpointError(attempts > 1 ? `${err.message} (gave up after ${attempts} attempts)` : err.message, err.status, false);
      }
      throw err;
    }
  }

  private async attempt(request: GenerateRequest): Promise<GenerateResult> {
    const stream = Boolean(request.onToken) || Boolean(this.options.alwaysStream);
    const timeoutMs = this.options.timeoutMs ?? 120_000;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    const body = {
      model: this.options.model,
      messages: request.messages.map(toWire),
      ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
      ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
      ...(request.topP !== undefined ? { top_p: request.topP } : {}),
      ...(request.seed !== undefined ? { seed: request.seed } : {}),
      ...(request.stop?.length ? { stop: request.stop } : {}),
      ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
    };
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;

    const started = performance.now();
    /** `connected`: the server answered, so a network error now broke the reply, not the way to it. */
    const fail = (err: unknown, connected: boolean): never => {
      if (request.signal?.aborted) throw new ModelAbortedError();
      if (timeout.aborted) throw new ModelEndpointError(`no complete reply from ${this.endpoint} within ${seconds(timeoutMs)} s; the server may be overloaded, or raise the timeout`, undefined, true);
      if (err instanceof ModelEndpointError) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ModelEndpointError(
        this.redact(
          connected
            ? `the connection to ${this.endpoint} broke while its reply was being read (${detail}); the server or a proxy in between may have dropped it`
            : `cannot reach ${this.endpoint} (${detail}); is the server running and the address right?`,
        ),
        undefined,
        true,
      );
    };
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (err) {
      return fail(err, false);
    }
    if (!response.ok) throw await this.httpError(response);
    let streamed = false;
    const onToken = request.onToken && ((delta: string) => ((streamed = true), request.onToken!(delta)));
    try {
      return await readReply(response, { endpoint: this.endpoint, started, redact: (text) => this.redact(text), ...(onToken ? { onToken } : {}) });
    } catch (err) {
      try {
        return fail(err, true);
      } catch (failure) {
        // Tokens already shown cannot be taken back: a retry would print the reply twice.
        if (streamed && failure instanceof ModelEndpointError && failure.retryable) throw new ModelEndpointError(failure.message, failure.status, false);
        throw failure;
      }
    }
  }

  private async httpError(response: Response): Promise<ModelEndpointError> {
    let detail = '';
    try {
      const text = await readBoundedText(response, this.endpoint);
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
        detail = (typeof parsed.error === 'string' ? parsed.error : parsed.error?.message) ?? parsed.message ?? parsed.detail ?? text;
      } catch {
        // A proxy's error page says more by its title than by its markup.
        detail = /^\s*</.test(text) ? describeBody('text/html', text) : text;
      }
    } catch {
      // the body is optional
    }
    detail = this.redact(detail.replace(/\s+/g, ' ').trim()).slice(0, 200);
    const said = detail ? `: ${detail}` : '';
    const status = response.status;
    const where = `${this.endpoint} answered ${status}`;
    const basePath = this.base.pathname.replace(/\/$/, '');
    if (status === 401 || status === 403) {
      return new ModelEndpointError(`${where} (the API key was refused or is missing)${said}; set the key in the variable named by --api-key-env`, status);
    }
    if (status === 404) {
      const hint = /\/v1$/.test(basePath)
        ? `check that the model '${this.options.model}' is served (GET ${new URL('models', this.base).href} lists them)`
        : `the base URL has no /v1: try ${this.base.origin}${basePath}/v1`;
      return new ModelEndpointError(`${where} (not found)${said}; ${hint}`, status);
    }
    if (status === 429) {
      const error = new ModelEndpointError(`${where} (rate limited)${said}; slow down or raise the server's limits`, status, true);
      const after = Number(response.headers.get('retry-after'));
      if (Number.isFinite(after) && after > 0) Object.assign(error, { retryAfterMs: after * 1000 });
      return error;
    }
    if (status >= 500) return new ModelEndpointError(`${where} (server error)${said}; check the server's log`, status, true);
    return new ModelEndpointError(`${where}${said}`, status);
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

