/**
 * The context limit and memory failures, on real `kestrel` processes: a prompt that does not fit
 * `max_position_embeddings` (images expanded) is refused before any model work, in one line by
 * the CLI and with a 400 by `serve`, naming both numbers; a reply is capped at what the prompt
 * leaves; and when onnxruntime cannot allocate memory (the serve process's address space is
 * capped with prlimit) the request gets a 503 saying so and the server goes on serving.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { runKestrel, startKestrel, withoutLoadProgress, type CliProcess } from '../harness/cli.ts';
import { ensureSystemTools } from '../harness/system-tools.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

const CONTEXT = 400;
const small = tinyCheckpoint({ seed: 11, text: { max_position_embeddings: CONTEXT } });
const large = tinyCheckpoint({ seed: 11 });
const work = tempDir('context');
const smallDir = join(work.dir, 'small');
const largeDir = join(work.dir, 'large');
let shortServe: CliProcess;
let shortUrl: string;

async function serve(dir: string): Promise<{ process: CliProcess; url: string }> {
  const process = startKestrel(['serve', '--model-dir', dir, '--port', '0']);
  const [, url] = await process.waitForOutput(/^Kestrel serve: (http:\/\/127\.0\.0\.1:\d+\/v1) /m, 60_000);
  return { process, url: url! };
}

const chat = (url: string, content: unknown, extra: object = {}) =>
  fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'kimi-vl', messages: [{ role: 'user', content }], ...extra }) });

/** A user message of `tokens` tokens ('a ' is one token of the tiny checkpoint's vocabulary). */
const words = (tokens: number) => 'a '.repeat(tokens);
const dataUrl = (side: number, seed: number) => `data:image/png;base64,${Buffer.from(encodePng({ width: side, height: side, colour: 'rgb', samples: noise(side * side * 3, seed) })).toString('base64')}`;

beforeAll(async () => {
  await importKimiVL({ source: small.dir, out: smallDir });
  await importKimiVL({ source: large.dir, out: largeDir });
  ({ process: shortServe, url: shortUrl } = await serve(smallDir));
}, 180_000);
afterAll(async () => {
  await shortServe?.stop();
  small.cleanup();
  large.cleanup();
  work.cleanup();
});

describe(`a model whose context is ${CONTEXT} tokens`, () => {
  test('serve: a longer prompt is a 400 naming both lengths, before any model work', async () => {
    const r = await chat(shortUrl, words(600));
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: { message: string; type: string; param: string } };
    expect(error.type).toBe('invalid_request_error');
    expect(error.param).toBe('messages');
    const [, tokens] = /^the prompt is ([\d,]+) tokens, over the model's context of 400 tokens \(max_position_embeddings\); shorten it$/.exec(error.message) ?? [];
    expect(Number(tokens!.replace(/,/g, ''))).toBeGreaterThan(600);
  });

  test('serve: text that fits is refused once its images are expanded, naming them', async () => {
    // Three 336×336 screenshots are 24×24 patches each, 144 tokens after the 2×2 merge.
    const parts = [{ type: 'text', text: words(40) }, ...[1, 2, 3].map((seed) => ({ type: 'image_url', image_url: { url: dataUrl(336, seed) } }))];
    const r = await chat(shortUrl, parts);
    expect(r.status).toBe(400);
    const { error } = (await r.json()) as { error: { message: string } };
    expect(error.message).toMatch(/^the prompt is ([\d,]+) tokens \(images included\), over the model's context of 400 tokens \(max_position_embeddings\); shorten it or send fewer or smaller images$/);
    expect(Number(/is ([\d,]+) tokens/.exec(error.message)![1])).toBeGreaterThan(3 * 144);
  });

  test('serve: a prompt that fills the context leaves no room for a reply', async () => {
    // Find the message length whose prompt is exactly 400 tokens from the server's own count.
    const probe = (await (await chat(shortUrl, words(300), { max_tokens: 1 })).json()) as { usage: { prompt_tokens: number } };
    const r = await chat(shortUrl, words(300 + CONTEXT - probe.usage.prompt_tokens));
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toBe(
      "the prompt is 400 tokens, which fills the model's context of 400 tokens (max_position_embeddings) and leaves no room for a reply; shorten it",
    );
  });

  test('serve: max_tokens is capped at what the prompt leaves', async () => {
    const r = await chat(shortUrl, words(340), { max_tokens: 100, temperature: 0 });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { choices: { finish_reason: string }[]; usage: { prompt_tokens: number; completion_tokens: number } };
    const left = CONTEXT - body.usage.prompt_tokens;
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThan(100);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(left);
    if (body.choices[0]!.finish_reason === 'length') expect(body.usage.completion_tokens).toBe(left);
  });

  test('the CLI refuses the prompt in one line naming both lengths', async () => {
    const messages = join(work.dir, 'long.json');
    writeFileSync(messages, JSON.stringify([{ role: 'user', content: words(600) }]));
    // --device cpu: the default, auto, adds a note when it finds no GPU.
    for (const command of [['model', 'chat', smallDir, words(600), '--device', 'cpu'], ['model', 'logits', smallDir, '--messages', messages, '--device', 'cpu']]) {
      const r = await runKestrel(command);
      expect(r.code).toBe(1);
      const lines = withoutLoadProgress(r.stderr).trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^kestrel: the prompt is [\d,]+ tokens, over the model's context of 400 tokens \(max_position_embeddings\); shorten it$/);
    }
  });
});

describe('a failed allocation', () => {
  test('is a 503 saying memory ran out, and the server keeps serving', async () => {
    ensureSystemTools(['prlimit']);
    const { process: server, url } = await serve(largeDir);
    try {
      expect((await chat(url, 'Hello', { max_tokens: 2 })).status).toBe(200);
      // Cap the address space a little above what serving short prompts needs: a 12,000-token
      // prompt then needs more (its attention blocks alone are 64 MB) and its allocation fails.
      const status = readFileSync(`/proc/${server.child.pid}/status`, 'utf8');
      const size = Number(/VmSize:\s+(\d+) kB/.exec(status)![1]) * 1024;
      execFileSync('prlimit', ['--pid', String(server.child.pid), `--as=${size + 200 * 2 ** 20}`]);
      const r = await chat(url, words(12_000), { max_tokens: 2 });
      expect(r.status).toBe(503);
      const { error } = (await r.json()) as { error: { message: string; type: string } };
      expect(error.type).toBe('server_error');
      expect(error.message).toMatch(/^out of memory on a prompt of [\d,]+ tokens \(onnxruntime: Failed to allocate memory for requested buffer of size \d+ in node \S+\); free memory, shorten the prompt, send fewer or smaller images, or use an int4 import$/);
      for (let i = 0; i < 2; i++) {
        const again = await chat(url, 'Hello', { max_tokens: 2 });
        expect(again.status).toBe(200);
      }
      expect(server.child.exitCode).toBeNull();
    } finally {
      await server.stop();
    }
  }, 180_000);
});
