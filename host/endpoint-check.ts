/**
 * Settings' "Test connection": one real request to the endpoint as configured (GET <base>/models,
 * which vLLM, SGLang and OpenAI all answer, with the API key when there is one), summed up in
 * one line: reachable, key accepted, the model served. It does not generate anything, so it
 * costs the server nothing and answers in milliseconds.
 */
import { normalizeBaseUrl } from '../agent/index.ts';
import type { EndpointCheck } from './types.ts';

export interface EndpointCheckOptions {
  readonly url: string;
  readonly model: string;
  readonly apiKey?: string;
  /** Where the key comes from, for the message when the server refuses it. */
  readonly keySource: string;
  readonly timeoutMs?: number;
}

/** The first line of a body, shortened: enough to recognise an HTML page or an error. */
function glimpse(text: string): string {
  const line = text.trim().split('\n')[0]?.trim() ?? '';
  return line.length > 80 ? `${line.slice(0, 80)}…` : line;
}

function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message ?? parsed.detail);
    if (typeof message === 'string') return glimpse(message);
  } catch {
    // not JSON
  }
  return glimpse(body);
}

export async function checkEndpoint(options: EndpointCheckOptions): Promise<EndpointCheck> {
  const started = Date.now();
  // A server may quote the key it was sent; the message never carries it.
  const redact = (text: string) => (options.apiKey ? text.split(options.apiKey).join('(the key)') : text);
  const done = (ok: boolean, message: string): EndpointCheck => ({ ok, message: redact(message), ms: Date.now() - started });
  let base: URL;
  try {
    base = normalizeBaseUrl(options.url);
  } catch (err) {
    return done(false, (err as Error).message);
  }
  const where = base.href.replace(/\/$/, '');
  const url = new URL('models', base);
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
  } catch (err) {
    if ((err as Error).name === 'TimeoutError') return done(false, `${where} did not answer within ${Math.round((options.timeoutMs ?? 10_000) / 1000)} s; is the address right, and the server not overloaded?`);
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return done(false, `cannot reach ${where} (${cause?.code ?? cause?.message ?? (err as Error).message}); is the server running and the address right?`);
  }
  const body = await response.text().catch(() => '');
  if (response.status === 401 || response.status === 403) {
    return done(false, `${where} refused the request (HTTP ${response.status}: ${errorMessage(body) || 'no reason given'}); check the API key (${options.keySource})`);
  }
  if (response.status === 404) {
    return done(false, `${where} has no /models (HTTP 404); the URL should be the API's base, which usually ends in /v1`);
  }
  if (!response.ok) return done(false, `${where}/models answered HTTP ${response.status}: ${errorMessage(body) || 'no reason given'}`);
  let served: string[];
  try {
    const parsed = JSON.parse(body) as { data?: unknown };
    if (!Array.isArray(parsed.data)) throw new Error('no data list');
    served = parsed.data.flatMap((m: unknown) => (typeof (m as { id?: unknown })?.id === 'string' ? [(m as { id: string }).id] : []));
  } catch {
    const type = response.headers.get('content-type')?.split(';')[0] ?? 'no content type';
    return done(false, `${where}/models answered ${type}, not an OpenAI model list ("${glimpse(body)}"); is this the API's base URL?`);
  }
  const ms = Date.now() - started;
  if (served.includes(options.model)) return done(true, `Connected in ${ms} ms: ${where} serves ${options.model}`);
  const list = served.length === 0 ? 'no models' : served.slice(0, 5).map((m) => `"${m}"`).join(', ') + (served.length > 5 ? ` and ${served.length - 5} more` : '');
  return done(false, `${where} answered in ${ms} ms, but does not serve "${options.model}"; it serves ${list}; set Model name to one of them`);
}
