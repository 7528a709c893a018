import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createApi, decodeWire, encodeWire, ModelManager, NO_SECRET_BOX, RunManager, SettingsStore } from '../../host/index.ts';
import { nodeBase64 } from './socket.ts';
import { startUiHost, type UiHost } from './server.ts';

let host: UiHost;
let port: number;
let secretDir: string;

beforeAll(async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kestrel-ui-host-'));
  await writeFile(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  // A link in the web root to a file outside it, and one to a file inside it.
  secretDir = await mkdtemp(join(tmpdir(), 'kestrel-ui-secret-'));
  await writeFile(join(secretDir, 'secret.txt'), 'private');
  await symlink(join(secretDir, 'secret.txt'), join(dir, 'leak.txt'));
  await mkdir(join(dir, 'assets'));
  await writeFile(join(dir, 'assets', 'app.js'), 'ok()');
  await symlink(join(dir, 'assets', 'app.js'), join(dir, 'alias.js'));
  const settings = await SettingsStore.open(join(dir, 'settings.json'), NO_SECRET_BOX, {});
  const runs = new RunManager(async (ctx) => {
    ctx.emit({ type: 'screenshot', step: 1, png: new Uint8Array([1, 2, 3]), width: 1, height: 1 });
    ctx.emit({ type: 'run_finished', status: 'finished', reason: 'done', steps: 1, durationMs: 1 });
  }, () => settings.get());
  const api = createApi({
    info: () => ({ host: 'browser', version: 't', virtualDisplay: false, model: 'm', problems: [] }),
    settings,
    runs,
    models: new ModelManager({ manifestFile: 'm.json', run: async () => undefined }, () => dir, () => ''),
    modelsFolder: () => dir,
    trajectoriesFolder: () => dir,
    displays: async () => [],
    screenshot: async () => {
      throw new Error('no screen here');
    },
    ground: async (png, query) => ({ raw: `${png.length} bytes, ${query}`, latencyMs: 1, model: 'm' }),
    trajectories: { list: async () => [], open: async () => Promise.reject(new Error('x')), screenshot: async () => Promise.reject(new Error('x')) },
  });
  host = await startUiHost({ webRoot: dir, api });
  port = Number(new URL(host.url).port);
});

afterAll(() => host?.close());

function connect(path: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.once('open', () => done(ws));
    ws.once('unexpected-response', (_req, res) => fail(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', fail);
  });
}

function session(ws: WebSocket) {
  const messages: Record<string, unknown>[] = [];
  ws.on('message', (data) => messages.push(decodeWire(data.toString(), nodeBase64) as Record<string, unknown>));
  let id = 0;
  return {
    messages,
    async call(route: string, input?: unknown) {
      const callId = ++id;
      ws.send(encodeWire({ id: callId, route, input }, nodeBase64));
      for (;;) {
        const reply = messages.find((m) => m.id === callId);
        if (reply) return reply;
        await new Promise((d) => setTimeout(d, 5));
      }
    },
  };
}

test('static files: a link out of the web root is not served, a link within it is', async () => {
  const get = (path: string) => fetch(`http://127.0.0.1:${port}${path}`).then(async (r) => [r.status, await r.text()]);
  expect(await get('/assets/app.js')).toEqual([200, 'ok()']);
  expect(await get('/alias.js')).toEqual([200, 'ok()']);
  expect((await get('/leak.txt'))[0]).toBe(404);
  expect((await get('/%2e%2e/%2e%2e/etc/passwd'))[0]).toBe(404);
});

test('the socket refuses a missing or wrong token and a foreign Host header', async () => {
  await expect(connect('/api')).rejects.toThrow('HTTP 403');
  await expect(connect('/api?token=guess')).rejects.toThrow('HTTP 403');
  await expect(connect(`/api?token=${host.token}`, { Host: `evil.example:${port}` })).rejects.toThrow('HTTP 403');
  await expect(connect(`/elsewhere?token=${host.token}`)).rejects.toThrow('HTTP 403');
});

test('the socket refuses a foreign Origin even with the token, and takes its own page’s', async () => {
  const withToken = `/api?token=${host.token}`;
  for (const origin of ['http://evil.example', `http://evil.example:${port}`, `https://127.0.0.1:${port}`, `http://127.0.0.1:${port + 1}`, 'null']) {
    await expect(connect(withToken, { Origin: origin }), origin).rejects.toThrow('HTTP 403');
  }
  for (const origin of [`http://127.0.0.1:${port}`]) (await connect(withToken, { Origin: origin })).close();
  (await connect(withToken, { Origin: `http://localhost:${port}`, Host: `localhost:${port}` })).close();
});

test('with the token, calls are validated and answered, bytes travel both ways, events arrive', async () => {
  const ws = await connect(`/api?token=${host.token}`);
  const s = session(ws);
  expect(await s.call('run.start', { instruction: '' })).toMatchObject({
    ok: false,
    error: 'instruction must be an instruction of 1–4000 characters, got ""',
  });
  expect(await s.call('rm -rf', {})).toMatchObject({ ok: false, error: expect.stringMatching(/^unknown route/) });
  expect(await s.call('ground.image', { png: new Uint8Array([9, 9]), query: 'Save' })).toMatchObject({
    ok: true,
    output: { raw: '2 bytes, Save' },
  });
  expect(await s.call('run.start', { instruction: 'go' })).toMatchObject({ ok: true, output: { phase: 'running' } });
  for (;;) {
    const shot = s.messages.find((m) => (m.event as { event?: { type: string } })?.event?.type === 'screenshot');
    if (shot) {
      expect((shot.event as { event: { png: Uint8Array } }).event.png).toEqual(new Uint8Array([1, 2, 3]));
      break;
    }
    await new Promise((d) => setTimeout(d, 5));
  }
  ws.close();
});
