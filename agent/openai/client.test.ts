import { afterEach, describe, expect, test } from 'vitest';
import { startOpenAIServer, type OpenAITestServer, type ScriptedReply } from '../../test/harness/openai-server.ts';
import type { AgentEvent } from '../events.ts';
import { runAgent } from '../loop/run-agent.ts';
import type { GenerateRequest } from '../model.ts';
import { ground } from '../ground.ts';
import { RecordingOperator } from '../testing/fakes.ts';
import { MAX_REPLY_BYTES } from './reply-body.ts';
import { OpenAIChatModel, type OpenAIClientOptions } from './client.ts';
import { ModelAbortedError, ModelEndpointError } from './errors.ts';

let server: OpenAITestServer | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

async function serve(replies: ScriptedReply[], extra: Parameters<typeof startOpenAIServer>[0] = {}): Promise<OpenAITestServer> {
  server = await startOpenAIServer({ replies, ...extra });
  return server;
}

function client(s: OpenAITestServer, options: Partial<OpenAIClientOptions> = {}): OpenAIChatModel {
  return new OpenAIChatModel({ baseUrl: s.baseUrl, model: 'kimi-vl-test', backoffMs: 10, ...options });
}

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 250]);
const request: GenerateRequest = {
  messages: [
    { role: 'system', content: 'You are a GUI agent.' },
    { role: 'user', content: [{ type: 'image', image: { mimeType: 'image/png', data: png } }, { type: 'text', text: 'Click OK' }] },
  ],
  maxTokens: 256,
  temperature: 0.2,
};

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('OpenAIChatModel', () => {
  test('sends images as data URLs and reads a plain JSON reply', async () => {
    const s = await serve(['## Code:\npyautogui.click(x=0.5, y=0.5)']);
    const result = await client(s).generate(request);
    expect(result.text).toBe('## Code:\npyautogui.click(x=0.5, y=0.5)');
    expect(result.finishReason).toBe('stop');
    expect(result.usage).toEqual({ promptTokens: 1100, completionTokens: 13 });
    expect(result.timings?.totalMs).toBeGreaterThan(0);
    const [sent] = s.chatRequests();
    expect(sent!.body).toMatchObject({ model: 'kimi-vl-test', max_tokens: 256, temperature: 0.2 });
    expect(sent!.body!.stream).toBeUndefined();
    expect(sent!.body!.messages![0]).toEqual({ role: 'system', content: 'You are a GUI agent.' });
    expect(sent!.images).toEqual([{ mimeType: 'image/png', data: Buffer.from(png) }]);
    expect(sent!.headers.authorization).toBeUndefined();
  });

  test('streams tokens to onToken as they arrive', async () => {
    const text = '◁think▷Find OK.◁/think▷## Code:\npyautogui.click(0.1, 0.2)';
    const s = await serve([{ text, chunkSize: 2, chunkDelayMs: 2, finishReason: 'length' }]);
    const deltas: string[] = [];
    const result = await client(s).generate({ ...request, onToken: (d) => deltas.push(d) });
    expect(deltas.length).toBeGreaterThan(10);
    expect(deltas.join('')).toBe(text);
    expect(result.text).toBe(text);
    expect(result.finishReason).toBe('length');
    expect(result.usage?.completionTokens).toBe(Math.ceil([...text].length / 2));
    expect(result.timings?.firstTokenMs).toBeGreaterThan(0);
    expect(s.chatRequests()[0]!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } });
  });

  test('401: one line about the key, which never appears in the error', async () => {
    const s = await serve(['unused'], { apiKey: 'right-key-123' });
    const err = await failure(client(s, { apiKey: 'sk-wrong-secret-456' }).generate(request));
    expect(err).toBeInstanceOf(ModelEndpointError);
    expect(err.message).toMatch(/answered 401 \(the API key was refused or is missing\).*--api-key-env/);
    expect(err.message).not.toContain('sk-wrong-secret-456');
    expect(err.message).toContain('***');
    expect(err.message).not.toContain('\n');
    expect(s.chatRequests()).toHaveLength(1);
    expect(s.chatRequests()[0]!.headers.authorization).toBe('Bearer sk-wrong-secret-456');
    // The right key is accepted; the name shown in logs holds no key.
    const ok = client(s, { apiKey: 'right-key-123' });
    expect(ok.name).toBe(`kimi-vl-test @ ${s.baseUrl}`);
    expect((await ok.generate(request)).text).toBe('unused');
  });

  test('404 for an unknown model names it and where to list models', async () => {
    const s = await serve([]);
    const err = await failure(client(s, { model: 'kimi-typo' }).generate(request));
    expect(err.message).toBe(
      `${s.baseUrl}/chat/completions answered 404 (not found): The model \`kimi-typo\` does not exist.; check that the model 'kimi-typo' is served (GET ${s.baseUrl}/models lists them)`,
    );
  });

  test('a base URL without /v1 is refused up front, or explained on 404', async () => {
    const s = await serve([]);
    expect(() => client(s, { baseUrl: s.origin })).toThrow(`the endpoint ${s.origin} has no /v1; OpenAI-compatible servers (vLLM, SGLang) answer under it: use ${s.origin}/v1`);
    expect(() => client(s, { baseUrl: `${s.baseUrl}/chat/completions` })).toThrow('without /chat/completions');
    expect(() => client(s, { baseUrl: 'gpu-box:8000' })).toThrow(/must start with http/);
    const err = await failure(client(s, { baseUrl: `${s.origin}/api` }).generate(request));
    expect(err.message).toContain(`the base URL has no /v1: try ${s.origin}/api/v1`);
  });

  test('429 and 5xx are retried with back-off; a later success wins', async () => {
    const s = await serve([{ status: 429, message: 'slow down', headers: { 'retry-after': '0.05' } }, { status: 503 }, 'DONE']);
    const result = await client(s, { retries: 2 }).generate(request);
    expect(result.text).toBe('DONE');
    const times = s.chatRequests().map((r) => r.receivedAt);
    expect(times).toHaveLength(3);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(45);
  });

  test('retries are bounded, announced, and the last error says so and is final', async () => {
    const s = await serve([{ status: 429 }, { status: 429 }, { status: 429 }, 'never']);
    const notices: unknown[] = [];
    const err = await failure(client(s, { retries: 2 }).generate({ ...request, onRetry: (r) => notices.push(r) }));
    expect(err.message).toMatch(/answered 429 \(rate limited\).*\(gave up after 3 attempts\)$/);
    expect(err).toMatchObject({ retryable: false, status: 429 });
    expect(s.chatRequests()).toHaveLength(3);
    expect(notices).toEqual([
      { attempt: 1, attempts: 3, delayMs: 10, error: expect.stringMatching(/answered 429 \(rate limited\)/) },
      { attempt: 2, attempts: 3, delayMs: 20, error: expect.stringMatching(/answered 429 \(rate limited\)/) },
    ]);
    const five = await serve([{ status: 502, message: 'bad gateway' }]);
    expect((await failure(client(five, { retries: 0 }).generate(request))).message).toMatch(/answered 502 \(server error\): bad gateway; check the server's log/);
  });

  test('a 400 is not retried', async () => {
    const s = await serve([{ status: 400, message: 'max_tokens is too large' }, 'never']);
    const err = await failure(client(s).generate(request));
    expect(err.message).toContain('answered 400: max_tokens is too large');
    expect(s.chatRequests()).toHaveLength(1);
  });

  test('a slow server times out with a one-line error, then a retry can succeed', async () => {
    const s = await serve([{ text: 'late', delayMs: 1500 }, 'on time']);
    const err = await failure(client(s, { timeoutMs: 200, retries: 0 }).generate(request));
    expect(err.message).toMatch(/no complete reply from .* within 0.2 s;/);
    s.push({ text: 'late', delayMs: 1500 }, 'on time');
    const result = await client(s, { timeoutMs: 300, retries: 1 }).generate(request);
    expect(result.text).toBe('on time');
  });

  test('aborting mid-stream stops at once and is not retried', async () => {
    const s = await serve([{ text: 'x'.repeat(400), chunkSize: 1, chunkDelayMs: 10 }, 'never']);
    const controller = new AbortController();
    const deltas: string[] = [];
    const started = Date.now();
    const pending = client(s).generate({ ...request, signal: controller.signal, onToken: (d) => deltas.push(d) === 5 && controller.abort() });
    const err = await failure(pending);
    expect(err).toBeInstanceOf(ModelAbortedError);
    expect(Date.now() - started).toBeLessThan(1500);
    expect(s.chatRequests()).toHaveLength(1);
  });

  test('an unreachable server is a one-line error', async () => {
    const s = await serve([]);
    const origin = s.origin;
    await s.stop();
    server = undefined;
    const err = await failure(new OpenAIChatModel({ baseUrl: `${origin}/v1`, model: 'm', retries: 1, backoffMs: 5 }).generate(request));
    expect(err.message).toMatch(/^cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(ECONNREFUSED\); is the server running.*gave up after 2 attempts/);
  });
});

describe('mid-stream failures', () => {
  test('a stream that breaks after tokens were shown is not retried (the reply would print twice)', async () => {
    const s = await serve([{ text: 'partial reply that never ends', chunkSize: 4, chunkDelayMs: 30 }, 'second']);
    const deltas: string[] = [];
    const err = await failure(client(s, { timeoutMs: 120, retries: 2 }).generate({ ...request, onToken: (d) => deltas.push(d) }));
    expect(err.message).toMatch(/no complete reply .* within 0\.1 s/);
    expect(deltas.length).toBeGreaterThan(0);
    expect(s.chatRequests()).toHaveLength(1);
  });
});

describe('one retry layer: the agent loop over a failing server', () => {
  async function run(s: OpenAITestServer, options: Partial<OpenAIClientOptions>) {
    const events: AgentEvent[] = [];
    const started = performance.now();
    const result = await runAgent('open the File menu', {
      model: client(s, options),
      operator: new RecordingOperator(),
      onEvent: (e) => events.push(e),
      settle: false,
    });
    return { result, events, ms: performance.now() - started, retries: events.filter((e) => e.type === 'retry') };
  }

  test("a server that keeps failing gets the client's 3 attempts, not 3 × 3, and one message", async () => {
    const s = await serve(Array.from({ length: 9 }, () => ({ status: 503, message: 'overloaded' })));
    const { result, retries } = await run(s, {});
    expect(s.chatRequests()).toHaveLength(3);
    expect(result.status).toBe('error');
    expect(result.reason).toBe(`${s.baseUrl}/chat/completions answered 503 (server error): overloaded; check the server's log (gave up after 3 attempts)`);
    expect(retries.map((r) => r.type === 'retry' && [r.what, r.attempt, r.attempts])).toEqual([
      ['model', 1, 3],
      ['model', 2, 3],
    ]);
    expect(retries.every((r) => r.type === 'retry' && !r.error.includes('gave up'))).toBe(true);
  });

  test('a hung server gives up after 3 timeouts, not 9', async () => {
    const s = await serve(Array.from({ length: 9 }, () => ({ text: 'too late', delayMs: 30_000 })));
    const { result, ms } = await run(s, { timeoutMs: 300 });
    expect(s.chatRequests()).toHaveLength(3);
    expect(result.reason).toMatch(/no complete reply from .* within 0\.3 s;.*\(gave up after 3 attempts\)$/);
    // 3 × 300 ms plus 10 + 20 ms of back-off; nine attempts would take over 2.7 s.
    expect(ms).toBeGreaterThanOrEqual(900);
    expect(ms).toBeLessThan(2500);
  });
});

describe('bad servers are reported by what came back', () => {
  const nginx = '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body><h1>Welcome to nginx!</h1></body>\n</html>\n';
  const streaming = { ...request, onToken: () => undefined };
  const hint = "not a chat completion; check that the endpoint is the server's OpenAI-compatible base URL (usually ending in /v1)";

  test('a server that ignores stream: true and answers plain JSON is accepted, the text arriving as one piece', async () => {
    const s = await serve([{ text: '## Code:\npyautogui.click(0.5, 0.5)', ignoreStream: true }]);
    const deltas: string[] = [];
    const result = await client(s).generate({ ...request, onToken: (d) => deltas.push(d) });
    expect(s.chatRequests()[0]!.body!.stream).toBe(true);
    expect(result.text).toBe('## Code:\npyautogui.click(0.5, 0.5)');
    expect(deltas).toEqual([result.text]);
    expect(result.usage).toEqual({ promptTokens: 1100, completionTokens: 12 });
  });

  test('server-sent events without their content type are read as events', async () => {
    const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content } }] })}\n\n`;
    const s = await serve([{ raw: `${chunk('DO')}${chunk('NE')}data: [DONE]\n\n` }]);
    expect((await client(s).generate(streaming)).text).toBe('DONE');
  });

  test.each([
    ['an HTML page, streaming', streaming, { raw: nginx, contentType: 'text/html' }, `with an HTML page titled "Welcome to nginx!", ${hint}`],
    ['an HTML page, not streaming', request, { raw: nginx, contentType: 'text/html; charset=utf-8' }, `with an HTML page titled "Welcome to nginx!", ${hint}`],
    ['an HTML page labelled JSON', request, { raw: '<html><body>login</body></html>', contentType: 'application/json' }, `with an HTML page, ${hint}`],
    ['plain text', streaming, { raw: 'Hello,\r\n\x1b[31mworld', contentType: 'text/plain' }, `with text/plain ("Hello, \\x1b[31mworld"), ${hint}`],
    ['nothing at all', streaming, { raw: '' }, `with an empty body, ${hint}`],
    ['broken JSON', request, { raw: '{"choices": [', contentType: 'application/json' }, `with broken JSON ("{"choices": ["), ${hint}`],
    ['JSON that is not a completion', streaming, { raw: '{"object": "list", "data": []}', contentType: 'application/json' }, `with JSON without choices ("{"object":"list","data":[]}"), ${hint}`],
    ['an error object with 200', request, { raw: '{"error": {"message": "model is loading"}}', contentType: 'application/json' }, 'with an error: model is loading'],
    ['content that is not text', request, { raw: '{"choices": [{"message": {"content": {"x": 1}}}]}', contentType: 'application/json' }, 'sent a reply whose content is not text: {"x":1}'],
  ] as const)('%s', async (_name, asked, reply, message) => {
    const s = await serve([reply, 'never']);
    const err = await failure(client(s).generate(asked));
    expect(err).toBeInstanceOf(ModelEndpointError);
    expect(err.message).toBe(`${s.baseUrl}/chat/completions ${message.startsWith('with') ? `answered 200 ${message}` : message}`);
    // A misconfigured server does not get better by asking again.
    expect(s.chatRequests()).toHaveLength(1);
  });

  test('an event stream without a single completion chunk is an error, not an empty reply', async () => {
    const s = await serve([{ raw: ': keep-alive\n\n: keep-alive\n\n', contentType: 'text/event-stream' }]);
    expect((await failure(client(s).generate(streaming))).message).toBe(`${s.baseUrl}/chat/completions sent an event stream without a single chat completion chunk; check the server`);
  });

  test('a reply over 16 MiB is cut off with one line', async () => {
    const s = await serve([{ raw: Buffer.alloc(MAX_REPLY_BYTES + 1024, 'a'), contentType: 'text/event-stream' }]);
    expect((await failure(client(s).generate(streaming))).message).toBe(`${s.baseUrl}/chat/completions answered with more than 16 MiB, which no chat completion needs; check the server`);
  });

  test("an error status with a proxy's page names the page, not its markup", async () => {
    const s = await serve([{ raw: '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>', contentType: 'text/html', status: 502 }]);
    const err = await failure(client(s, { retries: 0 }).generate(request));
    expect(err.message).toBe(`${s.baseUrl}/chat/completions answered 502 (server error): an HTML page titled "502 Bad Gateway"; check the server's log`);
  });

  test('run (streaming) and ground (not streaming) say the same about the same server', async () => {
    const s = await serve([{ raw: nginx, contentType: 'text/html' }, { raw: nginx, contentType: 'text/html' }]);
    const grounded = await failure(ground(client(s), { mimeType: 'image/png', data: png, width: 10, height: 10 }, 'the OK button'));
    const run = await runAgent('click OK', { model: client(s), operator: new RecordingOperator(), settle: false });
    expect(s.chatRequests().map((r) => Boolean(r.body!.stream))).toEqual([false, true]);
    expect(run.status).toBe('error');
    expect(run.reason).toBe(grounded.message);
    expect(grounded.message).toBe(`${s.baseUrl}/chat/completions answered 200 with an HTML page titled "Welcome to nginx!", ${hint}`);
  });
});
