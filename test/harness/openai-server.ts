import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One image a request carried, decoded from its data URL. */
export interface ReceivedImage {
  readonly mimeType: string;
  readonly data: Buffer;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The parsed JSON body (undefined for GET). */
  readonly body: ChatBody | undefined;
  /** Every image_url data URL in the messages, in order. */
  readonly images: readonly ReceivedImage[];
  readonly receivedAt: number;
}

export interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  max_tokens?: number;
  temperature?: number;
  messages?: { role: string; content: string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[] }[];
  [key: string]: unknown;
}

/** What the server answers to one chat completion request. */
export type ScriptedReply =
  | string
  | {
      readonly text: string;
      /** Wait this long before answering (or before the first chunk when streaming). */
      readonly delayMs?: number;
      /** Characters per streamed chunk (default 3). */
      readonly chunkSize?: number;
      /** Pause between streamed chunks. */
      readonly chunkDelayMs?: number;
      readonly finishReason?: 'stop' | 'length';
      /** Answer plain JSON even when a stream was asked for (servers that ignore `stream: true`). */
      readonly ignoreStream?: boolean;
    }
  /** Exactly this body and content type, whatever was asked: a proxy's page, a misconfigured server. */
  | { readonly raw: string | Buffer; readonly contentType?: string; readonly status?: number }
  /** An HTTP error with an OpenAI-style JSON body. */
  | { readonly status: number; readonly message?: string; readonly headers?: Record<string, string> }
  | ((request: RecordedRequest) => ScriptedReply | Promise<ScriptedReply>);

export interface OpenAITestServerOptions {
  /** Answered in order, one per chat completion request. */
  readonly replies?: readonly ScriptedReply[];
  /** Served model names (default ['kimi-vl-test']); other names get vLLM's 404. */
  readonly models?: readonly string[];
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  readonly apiKey?: string;
}

export interface OpenAITestServer {
  /** e.g. http://127.0.0.1:40123/v1 */
  readonly baseUrl: string;
  readonly origin: string;
  /** Every request received, chat completions and others. */
  readonly requests: RecordedRequest[];
  /** Chat completion requests only. */
  chatRequests(): RecordedRequest[];
  /** Queues more replies. */
  push(...replies: ScriptedReply[]): void;
  /** How many scripted replies are still queued. */
  pending(): number;
  stop(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function errorBody(message: string, type: string): unknown {
  return { error: { message, type, code: null } };
}

function imagesOf(body: ChatBody | undefined): ReceivedImage[] {
  const images: ReceivedImage[] = [];
  for (const message of body?.messages ?? []) {
    if (typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'image_url') continue;
      const match = /^data:([^;,]+);base64,(.*)$/s.exec(part.image_url.url);
      if (match) images.push({ mimeType: match[1]!, data: Buffer.from(match[2]!, 'base64') });
    }
  }
  return images;
}

const wait = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/**
 * A real HTTP server on 127.0.0.1 speaking the OpenAI chat completions API (streaming and
 * not), answering with scripted replies and recording every request.
 */
export async function startOpenAIServer(options: OpenAITestServerOptions = {}): Promise<OpenAITestServer> {
  const queue: ScriptedReply[] = [...(options.replies ?? [])];
  const models = options.models ?? ['kimi-vl-test'];
  const requests: RecordedRequest[] = [];
  let counter = 0;

  async function answer(reply: ScriptedReply, recorded: RecordedRequest, res: ServerResponse): Promise<void> {
    if (typeof reply === 'function') return answer(await reply(recorded), recorded, res);
    if (typeof reply === 'object' && 'raw' in reply) {
      res.writeHead(reply.status ?? 200, reply.contentType ? { 'content-type': reply.contentType } : {});
      return void res.end(reply.raw);
    }
    if (typeof reply === 'object' && 'status' in reply) {
      return sendJson(res, reply.status, errorBody(reply.message ?? `scripted error ${reply.status}`, 'scripted'), reply.headers);
    }
    const { text, delayMs = 0, chunkSize = 3, chunkDelayMs = 0, finishReason = 'stop', ignoreStream = false } = typeof reply === 'string' ? { text: reply } : reply;
    const body = recorded.body!;
    const id = `chatcmpl-test-${++counter}`;
    const created = Math.floor(Date.now() / 1000);
    const usage = { prompt_tokens: 100 + recorded.images.length * 1000, completion_tokens: Math.ceil([...text].length / chunkSize), total_tokens: 0 };
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    if (delayMs) await wait(delayMs);
    if (!body.stream || ignoreStream) {
      return sendJson(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finishReason }],
        usage,
      });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const send = (payload: unknown): boolean => res.write(`data: ${JSON.stringify(payload)}\n\n`);
    const chunk = (delta: object, finish: string | null = null): unknown => ({
      id,
      object: 'chat.completion.chunk',
      created,
      model: body.model,
      choices: [{ index: 0, delta, finish_reason: finish }],
    });
    send(chunk({ role: 'assistant', content: '' }));
    const chars = [...text];
    for (let i = 0; i < chars.length; i += chunkSize) {
      if (res.destroyed) return;
      send(chunk({ content: chars.slice(i, i + chunkSize).join('') }));
      if (chunkDelayMs) await wait(chunkDelayMs);
    }
    send(chunk({}, finishReason));
    if (body.stream_options?.include_usage) send({ id, object: 'chat.completion.chunk', created, model: body.model, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    let body: ChatBody | undefined;
    if (raw) {
      try {
        body = JSON.parse(raw) as ChatBody;
      } catch {
        return sendJson(res, 400, errorBody('the body is not JSON', 'invalid_request_error'));
      }
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, images: imagesOf(body), receivedAt: Date.now() };
    requests.push(recorded);
    if (options.apiKey !== undefined) {
      const given = /^Bearer (.*)$/.exec(req.headers.authorization ?? '')?.[1];
      if (given !== options.apiKey) {
        return sendJson(res, 401, errorBody(`Incorrect API key provided: ${given ?? '(none)'}`, 'invalid_request_error'));
      }
    }
    if (req.method === 'GET' && path === '/v1/models') {
      return sendJson(res, 200, { object: 'list', data: models.map((id) => ({ id, object: 'model', owned_by: 'kestrel-test' })) });
    }
    if (req.method !== 'POST' || path !== '/v1/chat/completions') {
      return sendJson(res, 404, { detail: 'Not Found' });
    }
    if (!body?.model || !models.includes(body.model)) {
      return sendJson(res, 404, errorBody(`The model \`${body?.model}\` does not exist.`, 'NotFoundError'));
    }
    const reply = queue.shift();
    if (reply === undefined) return sendJson(res, 500, errorBody('the test server has no scripted reply left', 'scripted'));
    return answer(reply, recorded, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody(String(err), 'server_error'));
      else res.destroy();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `${origin}/v1`,
    origin,
    requests,
    chatRequests: () => requests.filter((r) => r.path === '/v1/chat/completions'),
    push: (...replies) => queue.push(...replies),
    pending: () => queue.length,
    stop: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
