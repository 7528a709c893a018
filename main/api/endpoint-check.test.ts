import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startOpenAIServer, type OpenAITestServer } from '../../test/harness/openai-server.ts';
import { checkEndpoint } from './endpoint-check.ts';

// Real requests to real servers on loopback: the scripted OpenAI-style server, a plain web
// page, and a port nobody listens on.

let openai: OpenAITestServer;
let guarded: OpenAITestServer;
let web: Server;
let webUrl: string;

beforeAll(async () => {
  openai = await startOpenAIServer({ models: ['kimi-vl-test', 'other'] });
  guarded = await startOpenAIServer({ models: ['kimi-vl-test'], apiKey: 'sk-right' });
  web = createServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Router admin</title>'));
  await new Promise<void>((done) => web.listen(0, '127.0.0.1', done));
  webUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await openai?.stop();
  await guarded?.stop();
  await new Promise((done) => web?.close(done));
});

const keySource = 'the environment variable KESTREL_API_KEY';

test('a server that serves the model: connected, in one line, with the time it took', async () => {
  const result = await checkEndpoint({ url: openai.baseUrl, model: 'kimi-vl-test', keySource });
  expect(result).toMatchObject({ ok: true, message: expect.stringMatching(new RegExp(`^Connected in \\d+ ms: ${openai.baseUrl} serves kimi-vl-test$`)) });
  expect(openai.requests.at(-1)).toMatchObject({ method: 'GET', path: '/v1/models' });
});

test('a model the server does not serve: named, with what it does serve', async () => {
  const result = await checkEndpoint({ url: `${openai.baseUrl}/`, model: 'kimi', keySource });
  expect(result.ok).toBe(false);
  expect(result.message).toMatch(/answered in \d+ ms, but does not serve "kimi"; it serves "kimi-vl-test", "other"; set Model name to one of them$/);
});

test('a wrong or missing key: the server’s refusal, where the key comes from, and never the key', async () => {
  const wrong = await checkEndpoint({ url: guarded.baseUrl, model: 'kimi-vl-test', apiKey: 'sk-wrong-123', keySource });
  expect(wrong.ok).toBe(false);
  expect(wrong.message).toBe(`${guarded.baseUrl} refused the request (HTTP 401: Incorrect API key provided: (the key)); check the API key (${keySource})`);
  expect(wrong.message).not.toContain('sk-wrong-123');
  expect((await checkEndpoint({ url: guarded.baseUrl, model: 'kimi-vl-test', apiKey: 'sk-right', keySource })).ok).toBe(true);
});

test('nobody listening, a web page instead of the API, a URL without /v1: each says what to fix', async () => {
  const closed = createServer();
  await new Promise<void>((done) => closed.listen(0, '127.0.0.1', done));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((done) => closed.close(done));
  const refused = await checkEndpoint({ url: `http://127.0.0.1:${port}/v1`, model: 'm', keySource });
  expect(refused).toMatchObject({ ok: false, message: `cannot reach http://127.0.0.1:${port}/v1 (ECONNREFUSED); is the server running and the address right?` });

  const page = await checkEndpoint({ url: `${webUrl}/v1`, model: 'm', keySource });
  expect(page.message).toBe(`${webUrl}/v1/models answered text/html, not an OpenAI model list ("<!doctype html><title>Router admin</title>"); is this the API's base URL?`);

  const noV1 = await checkEndpoint({ url: webUrl, model: 'm', keySource });
  expect(noV1.message).toMatch(/has no \/v1; .* use http:\/\/127\.0\.0\.1:\d+\/v1$/);
  for (const r of [refused, page, noV1]) expect(r.message).not.toContain('\n');
});
