/**
 * The OpenAI-compatible HTTP server in front of the in-process model: GET /v1/models and
 * POST /v1/chat/completions (JSON or SSE). The model runs one request at a time; later
 * requests wait in a queue, and a client that hangs up aborts its own generation.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ContextLengthError, ModelMemoryError, type LocalGenerateRequest, type LocalGenerateResult } from '../../native-models/index.ts';
import { KestrelError } from '../../shared/errors.ts';
import { HttpError, parseChatRequest, type ChatRequest } from './chat-request.ts';
import { oneLine } from '../../shared/one-line.ts';

/** What the server needs from the model (KimiVLLocalModel has this shape). */
export interface ChatModel {
  generate(request: LocalGenerateRequest): Promise<LocalGenerateResult>;
}

export interface ServeOptions {
  readonly model: ChatModel;
  /** The name clients put in `model`. */
  readonly modelName: string;
  readonly host: string;
  readonly port: number;
  /** Largest request body; screenshots as base64 make bodies large (default 64 MiB). */
  readonly maxBodyBytes?: number;
}

export interface RunningServer {
  readonly server: Server;
  /** e.g. http://127.0.0.1:8000/v1 */
  readonly baseUrl: string;
  close(): Promise<void>;
}

/** Runs jobs one after another, in arrival order. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job, job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, err: HttpError): void {
  const headers: Record<string, string> = err.retryAfterSeconds !== undefined ? { 'retry-after': String(err.retryAfterSeconds) } : {};
  sendJson(res, err.status, { error: { message: err.message, type: err.type, param: err.param ?? null, code: null } }, headers);
}

async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `the request body is over ${Math.round(limit / 2 ** 20)} MiB; send smaller images`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
}

const finishReason = (r: LocalGenerateResult['finishReason']): string => (r === 'length' ? 'length' : 'stop');

function usage(r: LocalGenerateResult): { prompt_tokens: number; completion_tokens: number; total_tokens: number } {
  return { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens, total_tokens: r.usage.promptTokens + r.usage.completionTokens };
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const queue = new SerialQueue();
  const limit = opts.maxBodyBytes ?? 64 * 2 ** 20;

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const request = parseChatRequest(await readJsonBody(req, limit), opts.modelName);
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const base = { id, created, model: opts.modelName };
    const generate = (onToken?: (delta: string) => void) =>
      queue.run(() => {
        if (controller.signal.aborted) throw new HttpError(499, 'the client went away');
        return opts.model.generate(toLocal(request, controller.signal, onToken));
      });
    if (!request.stream) {
      const r = await generate();
      sendJson(res, 200, {
        ...base,
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: r.text }, finish_reason: finishReason(r.finishReason), logprobs: null }],
        usage: usage(r),
      });
      return;
    }
    // Headers go out only once the model starts, so a bad image still gets a plain 400.
    const chunk = (choices: unknown[], extra: object = {}) => res.write(`data: ${JSON.stringify({ ...base, object: 'chat.completion.chunk', choices, ...extra })}\n\n`);
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]);
    };
    let r: LocalGenerateResult;
    try {
      r = await generate((delta) => {
        start();
        chunk([{ index: 0, delta: { content: delta }, finish_reason: null }]);
      });
    } catch (err) {
      if (!started) throw err;
      res.write(`data: ${JSON.stringify({ error: { message: oneLine(err), type: 'server_error' } })}\n\n`);
      res.end();
      return;
    }
    start();
    chunk([{ index: 0, delta: {}, finish_reason: finishReason(r.finishReason) }]);
    if (request.includeUsage) chunk([], { usage: usage(r) });
    res.end('data: [DONE]\n\n');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://x').pathname.replace(/\/+$/, '');
    if (path === '/v1/models') {
      if (req.method !== 'GET') throw new HttpError(405, 'use GET for /v1/models');
      sendJson(res, 200, { object: 'list', data: [{ id: opts.modelName, object: 'model', created: 0, owned_by: 'kestrel' }] });
      return;
    }
    if (path === '/v1/chat/completions') {
      if (req.method !== 'POST') throw new HttpError(405, 'use POST for /v1/chat/completions');
      await chat(req, res);
      return;
    }
    throw new HttpError(404, `no route ${req.method ?? ''} ${path || '/'}; this server answers GET /v1/models and POST /v1/chat/completions`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return void res.end();
      if (err instanceof HttpError) return sendError(res, err);
      if (err instanceof ContextLengthError) return sendError(res, new HttpError(400, err.message, 'invalid_request_error', 'messages'));
      // Nothing of the failed run is kept: the next request gets the whole memory again.
      if (err instanceof ModelMemoryError) return sendError(res, new HttpError(503, err.message, 'server_error'));
      // A typed error says what was wrong with the request (its images, its messages) and the fix.
      if (err instanceof KestrelError) return sendError(res, new HttpError(400, err.message));
      process.stderr.write(`kestrel serve: ${oneLine(err)}\n`);
      sendError(res, new HttpError(500, `the model failed: ${oneLine(err)}`, 'server_error'));
    });
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host, () => {
      server.off('error', fail);
      done();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return {
    server,
    baseUrl: `http://${host}:${port}/v1`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}

function toLocal(request: ChatRequest, signal: AbortSignal, onToken?: (delta: string) => void): LocalGenerateRequest {
  const { stream: _stream, includeUsage: _includeUsage, ...settings } = request;
  return { ...settings, signal, ...(onToken ? { onToken } : {}) };
}

