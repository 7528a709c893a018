import { RunAbortedError, withRetries } from '../loop/timing.ts';
import type { ChatMessage, GenerateRequest, GenerateResult, VisionLanguageModel } from '../model.ts';
import { ModelAbortedError, ModelEndpointError } from './errors.ts';
import { readSseData } from './sse.ts';

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

interface ChatChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null }; message?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
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
    const fail = (err: unknown): never => {
      if (request.signal?.aborted) throw new ModelAbortedError();
      if (timeout.aborted) throw new ModelEndpointError(`no complete reply from ${this.endpoint} within ${seconds(timeoutMs)} s; the server may be overloaded, or raise the timeout`, undefined, true);
      if (err instanceof ModelEndpointError) throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const detail = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new ModelEndpointError(this.redact(`cannot reach ${this.endpoint} (${detail}); is the server running and the address right?`), undefined, true);
    };
    let response: Response;
    try {
      response = await this.fetchImpl(this.endpoint, { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (err) {
      return fail(err);
    }
    if (!response.ok) throw await this.httpError(response);
    let streamed = false;
    const onToken = request.onToken && ((delta: string) => ((streamed = true), request.onToken!(delta)));
    try {
      return stream ? await this.readStream(response, { ...request, ...(onToken ? { onToken } : {}) }, started) : await this.readJson(response, started);
    } catch (err) {
      try {
        return fail(err);
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
      const text = await response.text();
      try {
        const parsed = JSON.parse(text) as { error?: { message?: string } | string; message?: string; detail?: string };
        detail = (typeof parsed.error === 'string' ? parsed.error : parsed.error?.message) ?? parsed.message ?? parsed.detail ?? text;
      } catch {
        detail = text;
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

  private async readJson(response: Response, started: number): Promise<GenerateResult> {
    const json = (await response.json()) as ChatChunk;
    const choice = json.choices?.[0];
    if (!choice) throw new ModelEndpointError(`${this.endpoint} returned no choices${json.error?.message ? `: ${this.redact(json.error.message)}` : ''}`);
    const totalMs = performance.now() - started;
    return {
      text: choice.message?.content ?? '',
      finishReason: choice.finish_reason === 'length' ? 'length' : 'stop',
      ...usage(json),
      timings: { totalMs, ...decodeRate(json, totalMs) },
    };
  }

  private async readStream(response: Response, request: GenerateRequest, started: number): Promise<GenerateResult> {
    if (!response.body) throw new ModelEndpointError(`${this.endpoint} sent an empty streaming response`);
    let text = '';
    let finish: string | null | undefined;
    let last: ChatChunk = {};
    let firstTokenMs: number | undefined;
    for await (const data of readSseData(response.body)) {
      if (data.trim() === '[DONE]') break;
      let chunk: ChatChunk;
      try {
        chunk = JSON.parse(data) as ChatChunk;
      } catch {
        throw new ModelEndpointError(`${this.endpoint} streamed something that is not JSON: ${this.redact(data).slice(0, 80)}`);
      }
      if (chunk.error) throw new ModelEndpointError(`${this.endpoint} reported an error mid-stream: ${this.redact(chunk.error.message ?? 'unknown')}`, undefined, true);
      if (chunk.usage) last = chunk;
      const choice = chunk.choices?.[0];
      const delta = choice?.delta?.content ?? '';
      if (delta) {
        firstTokenMs ??= performance.now() - started;
        text += delta;
        request.onToken?.(delta);
      }
      if (choice?.finish_reason) finish = choice.finish_reason;
    }
    const totalMs = performance.now() - started;
    return {
      text,
      finishReason: finish === 'length' ? 'length' : 'stop',
      ...usage(last),
      timings: { totalMs, ...(firstTokenMs !== undefined ? { firstTokenMs } : {}), ...decodeRate(last, totalMs - (firstTokenMs ?? 0)) },
    };
  }
}

function seconds(ms: number): string {
  return ms < 10_000 ? (ms / 1000).toFixed(1) : String(Math.round(ms / 1000));
}

function usage(chunk: ChatChunk): Pick<GenerateResult, 'usage'> {
  const u = chunk.usage;
  if (!u || typeof u.prompt_tokens !== 'number' || typeof u.completion_tokens !== 'number') return {};
  return { usage: { promptTokens: u.prompt_tokens, completionTokens: u.completion_tokens } };
}

function decodeRate(chunk: ChatChunk, ms: number): { decodeTokensPerSecond?: number } {
  const n = chunk.usage?.completion_tokens;
  return typeof n === 'number' && ms > 0 ? { decodeTokensPerSecond: (n / ms) * 1000 } : {};
}
