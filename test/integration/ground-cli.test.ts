import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { runKestrel as kestrel, withoutLoadProgress } from '../harness/cli.ts';
import { startOpenAIServer, type OpenAITestServer } from '../harness/openai-server.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

let work: string;
let png: string;
let server: OpenAITestServer | undefined;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'kestrel-ground-'));
  png = join(work, 'screen.png');
  await sharp({ create: { width: 800, height: 600, channels: 3, background: '#336699' } }).png().toFile(png);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

describe('kestrel ground', () => {
  test('--json prints exactly {x, y, px, py, raw, ms} and the server got the image and the query', async () => {
    const raw = '## Action:\nThe Save button.\n## Code:\npyautogui.click(x=0.25, y=0.5)';
    server = await startOpenAIServer({ replies: [raw] });
    const result = await kestrel(['ground', png, 'the Save button', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    const json = JSON.parse(lines[0]!);
    expect(Object.keys(json)).toEqual(['x', 'y', 'px', 'py', 'raw', 'ms']);
    expect(json).toMatchObject({ x: 0.25, y: 0.5, px: 200, py: 300, raw });
    expect(json.ms).toBeGreaterThanOrEqual(0);
    const [request] = server.chatRequests();
    expect(request!.images).toHaveLength(1);
    expect(request!.images[0]!.mimeType).toBe('image/png');
    expect(request!.images[0]!.data.equals(readFileSync(png))).toBe(true);
    expect(JSON.stringify(request!.body!.messages)).toContain('the Save button');
  });

  test('pixel coordinates in the reply are read against the image size; plain output has three lines', async () => {
    server = await startOpenAIServer({ replies: ['The button is at (400, 150).'] });
    const result = await kestrel(['ground', png, 'OK', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test']);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('point: x=0.5000 y=0.2500 (pixel 400, 150 of 800×600)\nraw: "The button is at (400, 150)."\nms: ' + /ms: (\d+)/.exec(result.stdout)![1] + '\n');
  });

  test('no point in the reply: nulls, the reason on stderr, non-zero exit', async () => {
    server = await startOpenAIServer({ replies: ['I cannot see a Save button here.'] });
    const result = await kestrel(['ground', png, 'the Save button', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--json']);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ x: null, y: null, px: null, py: null, raw: 'I cannot see a Save button here.' });
    expect(result.stderr).toMatch(/^kestrel: the reply held no point \(the reply has no ## Code: section/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('the API key comes from the named variable and never reaches the output', async () => {
    server = await startOpenAIServer({ replies: ['pyautogui.click(0.1, 0.1)'], apiKey: 'sk-test-right' });
    const env = { ...process.env, KESTREL_TEST_KEY: 'sk-test-wrong-999' };
    const refused = await kestrel(['ground', png, 'x', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--api-key-env', 'KESTREL_TEST_KEY'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^kestrel: .*answered 401 \(the API key was refused or is missing\)/);
    expect(refused.stderr + refused.stdout).not.toContain('sk-test-wrong-999');
    const ok = await kestrel(['ground', png, 'x', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test', '--api-key-env', 'KESTREL_TEST_KEY', '--json'], {
      ...env,
      KESTREL_TEST_KEY: 'sk-test-right',
    });
    expect(ok.code).toBe(0);
    expect(server.chatRequests()[1]!.headers.authorization).toBe('Bearer sk-test-right');
  });

  test.each([
    [['ground', 'IMG', 'x'], 'no model: give --endpoint <url> and --model <name>'],
    [['ground', 'IMG', 'x', '--endpoint', 'http://127.0.0.1:9/v1'], '--endpoint needs --model <name>'],
    [['ground', 'IMG', 'x', '--endpoint', 'http://127.0.0.1:9', '--model', 'm'], 'has no /v1'],
    [['ground', 'IMG', 'x', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm', '--api-key-env', 'KESTREL_SURELY_UNSET'], 'KESTREL_SURELY_UNSET: that environment variable is not set'],
    [['ground', 'IMG', 'x', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm', '--api-key-env', 'sk-abc-123'], 'takes the NAME of an environment variable'],
    // Object's own members are not environment variables (process.env.constructor is a function).
    [['ground', 'IMG', 'x', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm', '--api-key-env', 'constructor'], 'constructor: that environment variable is not set'],
    [['ground', 'IMG', 'x', '--model-dir', '/tmp/nowhere', '--endpoint', 'http://127.0.0.1:9/v1'], 'give either --endpoint or --model-dir, not both'],
    [['ground', 'MISSING', 'x', '--endpoint', 'http://127.0.0.1:9/v1', '--model', 'm'], 'no such file'],
  ])('bad usage %j is one line and exit 2', async (args, message) => {
    const result = await kestrel(args.map((a) => (a === 'IMG' ? png : a === 'MISSING' ? join(work, 'missing.png') : a)));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  test('a web page where the API should be is named as such, in one line, asked once', async () => {
    server = await startOpenAIServer({ replies: [{ raw: '<html><head><title>Welcome to nginx!</title></head></html>', contentType: 'text/html' }] });
    const result = await kestrel(['ground', png, 'OK', '--endpoint', server.baseUrl, '--model', 'kimi-vl-test']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `kestrel: ${server.baseUrl}/chat/completions answered 200 with an HTML page titled "Welcome to nginx!", not a chat completion; check that the endpoint is the server's OpenAI-compatible base URL (usually ending in /v1)\n`,
    );
    expect(server.chatRequests()).toHaveLength(1);
  });

  test('an unreachable endpoint is one line and exit 1', async () => {
    const gone = await startOpenAIServer();
    await gone.stop();
    const result = await kestrel(['ground', png, 'x', '--endpoint', gone.baseUrl, '--model', 'm', '--timeout', '5']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^kestrel: cannot reach http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(ECONNREFUSED\)/);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('kestrel ground --model-dir', () => {
  test('the in-process model answers through the same command (a tiny random model names no point)', async () => {
    const ckpt = tinyCheckpoint({ seed: 5 });
    const out = tempDir('ground-model');
    try {
      const imported = await kestrel(['model', 'import', ckpt.dir, '--out', join(out.dir, 'm'), '--device', 'cpu']);
      expect(imported.code).toBe(0);
      const result = await kestrel(['ground', png, 'the Save button', '--model-dir', join(out.dir, 'm'), '--max-tokens', '8', '--json', '--device', 'cpu']);
      const json = JSON.parse(result.stdout);
      expect(Object.keys(json)).toEqual(['x', 'y', 'px', 'py', 'raw', 'ms']);
      expect(typeof json.raw).toBe('string');
      expect(json.raw.length).toBeGreaterThan(0);
      expect(json.ms).toBeGreaterThan(0);
      // Random weights do not point anywhere: null point, the reason on stderr, exit 1.
      expect(json.x).toBeNull();
      expect(result.code).toBe(1);
      expect(withoutLoadProgress(result.stderr)).toMatch(/^kestrel: the reply held no point/);
      // The load's progress came first, on stderr.
      expect(result.stderr).toMatch(/^loading weights 100% .*\n(.*\n)*model loaded in [\d.]+ s\n(.*\n)*kestrel: the reply held no point/m);
    } finally {
      ckpt.cleanup();
      out.cleanup();
    }
  });
});
