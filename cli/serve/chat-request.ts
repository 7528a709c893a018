/**
 * Parses an OpenAI chat-completions request body into the in-process model's request.
 * Pure: every rejection is an HttpError whose message says which field was wrong and why.
 */
import type { LocalChatMessage, LocalContentPart, LocalGenerateRequest } from '../../native-models/models/kimi-vl/local-model.ts';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly type = status === 404 ? 'not_found_error' : 'invalid_request_error',
    readonly param?: string,
    /** Sent as Retry-After: when the request may succeed if sent again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

/** The model's own request settings, plus how the reply goes back over HTTP. */
export type ChatRequest = Pick<LocalGenerateRequest, 'messages' | 'maxTokens' | 'temperature' | 'topP' | 'seed' | 'stop'> & {
  readonly stream: boolean;
  readonly includeUsage: boolean;
};

const ROLES = new Set(['system', 'user', 'assistant']);
const DATA_URL = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]*)$/i;

const bad = (param: string, message: string): HttpError => new HttpError(400, `${param}: ${message}`, 'invalid_request_error', param);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optionalNumber(body: Record<string, unknown>, key: string, ok: (n: number) => boolean, rule: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw bad(key, `must be ${rule}, got ${JSON.stringify(v)}`);
  return v;
}

/** Images arrive only as data URLs: the server never fetches a URL or reads a path it was sent. */
function imagePart(part: Record<string, unknown>, param: string): LocalContentPart {
  const ref = part.image_url;
  const url = typeof ref === 'string' ? ref : isObject(ref) ? ref.url : undefined;
  if (typeof url !== 'string') throw bad(param, 'an image_url part needs image_url.url (a data: URL)');
  const m = DATA_URL.exec(url);
  if (!m) throw bad(param, 'only base64 data URLs are accepted (data:image/png;base64,...); this server does not fetch remote images');
  const data = new Uint8Array(Buffer.from(m[2]!, 'base64'));
  if (data.length === 0) throw bad(param, 'the image data URL is empty');
  return { type: 'image', image: { mimeType: m[1]!.toLowerCase(), data } };
}

function content(raw: unknown, param: string): string | LocalContentPart[] {
  if (typeof raw === 'string') return raw;
  if (raw === null || raw === undefined) return '';
  if (!Array.isArray(raw)) throw bad(param, 'content must be a string or an array of parts');
  return raw.map((part: unknown, i) => {
    const where = `${param}[${i}]`;
    if (!isObject(part)) throw bad(where, 'each content part must be an object');
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw bad(where, 'a text part needs a string "text"');
      return { type: 'text', text: part.text };
    }
    if (part.type === 'image_url') return imagePart(part, where);
    throw bad(where, `unsupported part type ${JSON.stringify(part.type)}; use "text" or "image_url"`);
  });
}

function messages(raw: unknown): LocalChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw bad('messages', 'must be a non-empty array of {role, content}');
  return raw.map((m: unknown, i) => {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw bad(param, 'must be an object {role, content}');
    if (typeof m.role !== 'string' || !ROLES.has(m.role)) throw bad(`${param}.role`, `must be "system", "user" or "assistant", got ${JSON.stringify(m.role)}`);
    return { role: m.role as LocalChatMessage['role'], content: content(m.content, `${param}.content`) };
  });
}

function stop(raw: unknown): string[] | undefined {
  if (raw === undefined || raw === null) return undefined;
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length > 4 || !list.every((s) => typeof s === 'string' && s.length > 0)) {
    throw bad('stop', 'must be a non-empty string or an array of up to 4 of them');
  }
  return list as string[];
}

/** Checks the body against the served model's name; 404 for another model, 400 for anything malformed. */
export function parseChatRequest(body: unknown, servedModel: string): ChatRequest {
  if (!isObject(body)) throw new HttpError(400, 'the request body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '') throw bad('model', `is required; this server serves "${servedModel}"`);
  if (body.model !== servedModel) throw new HttpError(404, `the model "${body.model}" does not exist; this server serves "${servedModel}" (GET /v1/models)`, 'not_found_error', 'model');
  optionalNumber(body, 'n', (v) => v === 1, '1 (one choice per request)');
  const maxTokens =
    optionalNumber(body, 'max_completion_tokens', (v) => Number.isInteger(v) && v > 0, 'a positive whole number') ??
    optionalNumber(body, 'max_tokens', (v) => Number.isInteger(v) && v > 0, 'a positive whole number');
  const temperature = optionalNumber(body, 'temperature', (v) => v >= 0 && v <= 2, 'a number from 0 to 2');
  const topP = optionalNumber(body, 'top_p', (v) => v > 0 && v <= 1, 'a number in (0, 1]');
  const seed = optionalNumber(body, 'seed', (v) => Number.isSafeInteger(v), 'a whole number');
  if (body.stream !== undefined && body.stream !== null && typeof body.stream !== 'boolean') throw bad('stream', 'must be true or false');
  const options = body.stream_options;
  if (options !== undefined && options !== null && !isObject(options)) throw bad('stream_options', 'must be an object like {"include_usage": true}');
  const stopList = stop(body.stop);
  return {
    messages: messages(body.messages),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(temperature !== undefined ? { temperature } : {}),
    ...(topP !== undefined ? { topP } : {}),
    ...(seed !== undefined ? { seed } : {}),
    ...(stopList ? { stop: stopList } : {}),
    stream: body.stream === true,
    includeUsage: isObject(options) && options.include_usage === true,
  };
}
