import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ChatMessage } from '../../shared/model.ts';
import { OpenAIChatModel } from '../../agent/openai/client.ts';
import { readSseData } from '../../agent/openai/sse.ts';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { KimiVLLocalModel } from '../../native-models/models/kimi-vl/runtime/local-model.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { runKestrel, startKestrel, type CliProcess } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const NAME = 'kimi-tiny';
const ckpt = tinyCheckpoint({ seed: 11 });
const work = tempDir('serve');
const modelDir = join(work.dir, 'm');
const shotFile = join(work.dir, 'shot.png');
const shot = encodePng({ width: 56, height: 42, colour: 'rgb', samples: noise(56 * 42 * 3, 4) });
let serve: CliProcess;
let baseUrl: string;
let local: KimiVLLocalModel;

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: modelDir });
  writeFileSync(shotFile, shot);
  serve = startKestrel(['serve', '--model-dir', modelDir, '--port', '0', '--model-name', NAME, '--device', 'cpu']);
  const [, url] = await serve.waitForOutput(/^Kestrel serve: (http:\/\/127\.0\.0\.1:\d+\/v1) \(model kimi-tiny\)\n/m, 60_000);
  baseUrl = url!;
  local = await KimiVLLocalModel.load(modelDir);
}, 120_000);
afterAll(async () => {
  await serve?.stop();
  await local?.release();
  ckpt.cleanup();
  work.cleanup();
});

const client = () => new OpenAIChatModel({ baseUrl, model: NAME, retries: 0 });
const post = (body: unknown, path = 'chat/completions') =>
  fetch(`${baseUrl}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const text = (t: string): ChatMessage[] => [{ role: 'user', content: [{ type: 'text', text: t }] }];

describe('kestrel serve', () => {
  test('prints exactly one line with its address and lists the model', async () => {
    expect(serve.stdout().trimEnd().split('\n')).toHaveLength(1);
    const r = await fetch(`${baseUrl}/models`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ object: 'list', data: [{ id: NAME, object: 'model' }] });
  });

  test("the agent's client gets the same greedy text as `kestrel model chat` and the local model", async () => {
    const prompt = 'Rename the folder todo_list_Jan_1';
    const served = await client().generate({ messages: text(prompt), maxTokens: 12, temperature: 0 });
    const chat = await runKestrel(['model', 'chat', modelDir, prompt, '--max-tokens', '12', '--device', 'cpu']);
    const direct = await local.generate({ messages: text(prompt), maxTokens: 12, temperature: 0 });
    expect(chat.code).toBe(0);
    expect(served.text.length).toBeGreaterThan(0);
    expect(`${served.text}\n`).toBe(chat.stdout);
    expect(served.text).toBe(direct.text);
    expect(served.usage).toEqual(direct.usage);
    expect(served.finishReason).toBe(direct.finishReason);
  });

  test('streaming: SSE deltas add up to the greedy text, with usage and [DONE]', async () => {
    const messages = text('Open the settings');
    const deltas: string[] = [];
    const streamed = await client().generate({ messages, maxTokens: 10, temperature: 0, onToken: (d) => deltas.push(d) });
    const direct = await local.generate({ messages, maxTokens: 10, temperature: 0 });
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(direct.text);
    expect(streamed.text).toBe(direct.text);
    expect(streamed.usage).toEqual(direct.usage);

    // The wire format itself: role first, then content deltas, a finish_reason, usage, [DONE].
    const r = await post({ model: NAME, messages: [{ role: 'user', content: 'Open the settings' }], max_tokens: 10, temperature: 0, stream: true, stream_options: { include_usage: true } });
    expect(r.headers.get('content-type')).toBe('text/event-stream');
    const events: string[] = [];
    for await (const data of readSseData(r.body!)) events.push(data);
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks[0].choices[0].delta).toEqual({ role: 'assistant', content: '' });
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.model === NAME && c.id === chunks[0].id)).toBe(true);
    expect(chunks.at(-2).choices[0].finish_reason).toBe(direct.finishReason);
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: direct.usage.promptTokens, completion_tokens: direct.usage.completionTokens } });
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(direct.text);
  });

  test('an image_url data URL reaches the vision model: same greedy reply and prompt size as in-process', async () => {
    const messages: ChatMessage[] = [{ role: 'user', content: [{ type: 'image', image: { mimeType: 'image/png', data: shot } }, { type: 'text', text: 'Describe it' }] }];
    const served = await client().generate({ messages, maxTokens: 8, temperature: 0 });
    const direct = await local.generate({ messages, maxTokens: 8, temperature: 0 });
    const plain = await local.generate({ messages: text('Describe it'), maxTokens: 1 });
    expect(served.text).toBe(direct.text);
    expect(served.usage).toEqual(direct.usage);
    expect(served.usage!.promptTokens).toBeGreaterThan(plain.usage.promptTokens);
  });

  test('sampling settings (temperature, top_p, seed) and stop reach the model: same reply as in-process', async () => {
    const messages = text('Rename the folder todo_list_Jan_1');
    // The tiny tokenizer decodes most sampled ids to nothing, so compare usage as well as text.
    const settings = { maxTokens: 12, temperature: 0.8, topP: 0.95, seed: 7 };
    const sampled = await local.generate({ messages, ...settings });
    const served = await client().generate({ messages, ...settings });
    expect(served.text).toBe(sampled.text);
    expect(served.usage).toEqual(sampled.usage);
    // A stop string cuts the greedy reply where the in-process model cuts it.
    const greedy = await local.generate({ messages, maxTokens: 12, temperature: 0 });
    const stop = [greedy.text.slice(3, 5)];
    const stopped = await client().generate({ messages, maxTokens: 12, temperature: 0, stop });
    expect(stopped.text).toBe((await local.generate({ messages, maxTokens: 12, temperature: 0, stop })).text);
    expect(stopped.text.length).toBeLessThan(greedy.text.length);
  });

  test('requests sent together are queued and each gets its own complete answer', async () => {
    const prompts = ['Close the window', 'Scroll down', 'Type hello'];
    const served = await Promise.all(prompts.map((p) => client().generate({ messages: text(p), maxTokens: 6, temperature: 0 })));
    for (const [i, p] of prompts.entries()) expect(served[i]!.text).toBe((await local.generate({ messages: text(p), maxTokens: 6, temperature: 0 })).text);
  });

  test('`kestrel ground --endpoint` through the server replies exactly as `--model-dir` does', async () => {
    const viaServer = await runKestrel(['ground', shotFile, 'the Save button', '--endpoint', baseUrl, '--model', NAME, '--max-tokens', '8', '--temperature', '0', '--json']);
    const inProcess = await runKestrel(['ground', shotFile, 'the Save button', '--model-dir', modelDir, '--max-tokens', '8', '--temperature', '0', '--json', '--device', 'cpu']);
    const a = JSON.parse(viaServer.stdout);
    const b = JSON.parse(inProcess.stdout);
    expect(Object.keys(a)).toEqual(['x', 'y', 'px', 'py', 'raw', 'ms']);
    expect(a.raw.length).toBeGreaterThan(0);
    expect(a.raw).toBe(b.raw);
    // Random weights name no point: null point, the reason on stderr, exit 1 — same both ways.
    expect(a.x).toBeNull();
    expect([viaServer.code, inProcess.code]).toEqual([1, 1]);
    expect(viaServer.stderr).toMatch(/^kestrel: the reply held no point/);
  });

  test.each([
    ['not JSON', '{"model":', 400, /not valid JSON/],
    ['no messages', { model: NAME }, 400, /^messages: must be a non-empty array/],
    ['a bad role', { model: NAME, messages: [{ role: 'tool', content: 'x' }] }, 400, /^messages\[0\]\.role: must be/],
    ['temperature out of range', { model: NAME, messages: [{ role: 'user', content: 'x' }], temperature: 7 }, 400, /^temperature: must be a number from 0 to 2, got 7$/],
    ['a remote image URL', { model: NAME, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'http://example.com/a.png' } }] }] }, 400, /only base64 data URLs/],
    ['a corrupt image', { model: NAME, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw==' } }] }] }, 400, /not a readable image/],
    ['n > 1', { model: NAME, messages: [{ role: 'user', content: 'x' }], n: 2 }, 400, /^n: must be 1/],
    ['an unknown model', { model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }, 404, /"gpt-4o" does not exist; this server serves "kimi-tiny"/],
  ])('%s gets a %i with an OpenAI-style JSON error', async (_what, body, status, message) => {
    const r = await post(body);
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/json');
    const json = (await r.json()) as { error: { message: string; type: string } };
    expect(json.error.message).toMatch(message);
    expect(json.error.type).toBe(status === 404 ? 'not_found_error' : 'invalid_request_error');
  });

  test('an unknown path is a 404 naming the routes, and the server keeps serving', async () => {
    const r = await post({}, 'completions');
    expect(r.status).toBe(404);
    expect(((await r.json()) as { error: { message: string } }).error.message).toMatch(/answers GET \/v1\/models and POST \/v1\/chat\/completions/);
    expect((await fetch(`${baseUrl}/models`)).status).toBe(200);
  });
});

/** A port that was free a moment ago (the OS picks it; we close it again at once). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().once('error', fail);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => done(port));
    });
  });
}

describe('kestrel serve while the model loads', () => {
  test('it listens before loading: a chat request meanwhile is a 503 with Retry-After, then the same request is answered', async () => {
    const port = await freePort();
    const early = startKestrel(['serve', '--model-dir', modelDir, '--port', String(port), '--device', 'cpu']);
    try {
      const url = `http://127.0.0.1:${port}/v1/chat/completions`;
      const body = JSON.stringify({ model: 'kimi-vl', messages: [{ role: 'user', content: 'hello' }], max_tokens: 2 });
      const ask = () => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      let first: Response | undefined;
      for (let tries = 0; !first && tries < 500; tries += 1) {
        first = await ask().catch(() => undefined);
        if (!first) await new Promise((r) => setTimeout(r, 10));
      }
      // The tiny model takes over a second to load; the port answers within milliseconds of the start.
      expect(early.stdout()).toBe('');
      expect(first?.status).toBe(503);
      expect(first?.headers.get('retry-after')).toBe('5');
      expect(((await first!.json()) as { error: { message: string } }).error.message).toBe('the model is still loading; try again in a few seconds');
      await early.waitForOutput(/^Kestrel serve: /m, 60_000);
      expect((await ask()).status).toBe(200);
    } finally {
      await early.stop();
    }
  }, 90_000);
});

describe('kestrel serve refusals', () => {
  test('a non-loopback --host is refused in one line unless --allow-remote is given', async () => {
    const r = await runKestrel(['serve', '--model-dir', modelDir, '--host', '0.0.0.0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^kestrel: --host 0\.0\.0\.0 would expose the model .* add --allow-remote/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a folder that is not an imported model is a one-line error', async () => {
    const r = await runKestrel(['serve', '--model-dir', ckpt.dir, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^kestrel: .*kestrel-model\.json.* not found/);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});
