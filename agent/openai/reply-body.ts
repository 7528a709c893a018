/**
 * Reading what a server sent back. Servers are untrusted and often misconfigured: a proxy's HTML
 * page, plain JSON in answer to a streaming request, a body that never ends. Each is read by what
 * it is, not by what was asked for, and anything that is not a chat completion is reported as
 * what it was, in one line.
 */
import type { GenerateResult } from '../model.ts';
import { preview } from '../one-line.ts';
import { ModelEndpointError } from './errors.ts';
import { readSseData } from './sse.ts';

/** The most a reply may carry: far more than any completion, and a bound on a hostile server. */
export const MAX_REPLY_BYTES = 16 * 2 ** 20;

interface ChatChunk {
  choices?: { delta?: { content?: unknown }; message?: { content?: unknown }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
}

export interface ReplyContext {
  /** The URL that was asked, for messages. */
  readonly endpoint: string;
  /** When the request was sent (performance.now()), for timings. */
  readonly started: number;
  /** Streamed text goes here as it arrives; a plain JSON reply arrives here whole. */
  readonly onToken?: (delta: string) => void;
  /** Takes secrets out of text that goes into messages. */
  readonly redact: (text: string) => string;
}

/** What a body that is not a chat completion looks like, for a message: "an HTML page titled …", "text/plain: …". */
export function describeBody(contentType: string, text: string): string {
  const trimmed = text.trimStart();
  if (trimmed === '') return 'an empty body';
  if (contentType === 'text/html' || /^<(?:!doctype|html|head|body)\b/i.test(trimmed)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(trimmed.slice(0, 64 * 1024))?.[1];
    return title && preview(title) ? `an HTML page titled "${preview(title)}"` : 'an HTML page';
  }
  return `${contentType || 'a body without a content type'} ("${preview(trimmed)}")`;
}

function mediaType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The body's chunks, failing once more than MAX_REPLY_BYTES came (leaving the loop cancels the body). */
async function* bounded(body: ReadableStream<Uint8Array>, endpoint: string): AsyncGenerator<Uint8Array> {
  let size = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > MAX_REPLY_BYTES) {
      throw new ModelEndpointError(`${endpoint} answered with more than ${MAX_REPLY_BYTES / 2 ** 20} MiB, which no chat completion needs; check the server`);
    }
    yield chunk;
  }
}

/** The body as text, refusing one over MAX_REPLY_BYTES. */
export async function readBoundedText(response: Response, endpoint: string): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  for await (const chunk of bounded(response.body, endpoint)) chunks.push(chunk);
  return new TextDecoder().decode(Buffer.concat(chunks));
}

function notACompletion(context: ReplyContext, status: number, what: string): ModelEndpointError {
  return new ModelEndpointError(
    context.redact(`${context.endpoint} answered ${status} with ${what}, not a chat completion; check that the endpoint is the server's OpenAI-compatible base URL (usually ending in /v1)`),
    status,
  );
}

/** The text of a message or delta `content`: a string, null, or a list of text parts (some servers). */
function contentText(content: unknown, context: ReplyContext): string {
  if (content === undefined || content === null) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content) && content.every((part) => typeof part?.text === 'string')) return content.map((part: { text: string }) => part.text).join('');
  throw new ModelEndpointError(context.redact(`${context.endpoint} sent a reply whose content is not text: ${preview(JSON.stringify(content) ?? '')}`));
}

function errorOf(chunk: ChatChunk): string | undefined {
  if (typeof chunk.error === 'string') return chunk.error;
  return chunk.error ? (chunk.error.message ?? 'unknown') : undefined;
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

const finishReason = (reason: string | null | undefined): GenerateResult['finishReason'] => (reason === 'length' ? 'length' : 'stop');

function fromJson(json: ChatChunk, status: number, context: ReplyContext): GenerateResult {
  const choice = Array.isArray(json.choices) ? json.choices[0] : undefined;
  const error = errorOf(json);
  if (!choice) {
    throw error !== undefined
      ? new ModelEndpointError(context.redact(`${context.endpoint} answered ${status} with an error: ${preview(error, 200)}`), status)
      : notACompletion(context, status, `JSON without choices ("${preview(JSON.stringify(json))}")`);
  }
  const text = contentText(choice.message?.content ?? choice.delta?.content, context);
  // A server that ignores `stream: true` still answered: the whole text arrives as one piece.
  if (text) context.onToken?.(text);
  const totalMs = performance.now() - context.started;
  return { text, finishReason: finishReason(choice.finish_reason), ...usage(json), timings: { totalMs, ...decodeRate(json, totalMs) } };
}

async function fromEvents(events: AsyncIterable<string>, context: ReplyContext): Promise<GenerateResult> {
  let text = '';
  let finish: string | null | undefined;
  let last: ChatChunk = {};
  let firstTokenMs: number | undefined;
  let chunks = 0;
  for await (const data of events) {
    if (data.trim() === '[DONE]') break;
    let chunk: ChatChunk;
    try {
      chunk = JSON.parse(data) as ChatChunk;
    } catch {
      throw new ModelEndpointError(context.redact(`${context.endpoint} streamed something that is not JSON: "${preview(data)}"`));
    }
    chunks++;
    const error = errorOf(chunk);
    if (error !== undefined) throw new ModelEndpointError(context.redact(`${context.endpoint} reported an error mid-stream: ${preview(error, 200)}`), undefined, true);
    if (chunk.usage) last = chunk;
    const choice = Array.isArray(chunk.choices) ? chunk.choices[0] : undefined;
    const delta = contentText(choice?.delta?.content ?? choice?.message?.content, context);
    if (delta) {
      firstTokenMs ??= performance.now() - context.started;
      text += delta;
      context.onToken?.(delta);
    }
    if (choice?.finish_reason) finish = choice.finish_reason;
  }
  if (chunks === 0) throw new ModelEndpointError(`${context.endpoint} sent an event stream without a single chat completion chunk; check the server`);
  const totalMs = performance.now() - context.started;
  return {
    text,
    finishReason: finishReason(finish),
    ...usage(last),
    timings: { totalMs, ...(firstTokenMs !== undefined ? { firstTokenMs } : {}), ...decodeRate(last, totalMs - (firstTokenMs ?? 0)) },
  };
}

/**
 * Reads a 2xx response into a completion, whichever form it took: server-sent events, plain JSON
 * (also when a stream was asked for), or events without their content type. Anything else is a
 * ModelEndpointError saying what came back.
 */
export async function readReply(response: Response, context: ReplyContext): Promise<GenerateResult> {
  const type = mediaType(response);
  if (type === 'text/event-stream' && response.body) return fromEvents(readSseData(bounded(response.body, context.endpoint)), context);
  const text = await readBoundedText(response, context.endpoint);
  const start = text.trimStart();
  if (start.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw notACompletion(context, response.status, `broken JSON ("${preview(start)}")`);
    }
    return fromJson(json as ChatChunk, response.status, context);
  }
  if (/^(?:data|event|id):/.test(start)) return fromEvents(readSseData([new TextEncoder().encode(text)]), context);
  throw notACompletion(context, response.status, describeBody(type, text));
}
