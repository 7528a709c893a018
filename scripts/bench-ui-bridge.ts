// What the browser host's WebSocket costs compared with calling the API in-process (what
// Electron's IPC approximates): per-call round trip, and per-screenshot encoding and size.
// Run: node --import tsx scripts/bench-ui-bridge.ts
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { createHost } from '../host/host.ts';
import { NO_SECRET_BOX } from '../host/secrets.ts';
import { decodeWire, encodeWire } from '../host/wire.ts';
import { startUiHost } from '../cli/ui-host/server.ts';
import { nodeBase64 } from '../cli/ui-host/socket.ts';

const dir = await mkdtemp(join(tmpdir(), 'kestrel-bench-'));
const display = { id: '0', name: 'bench', bounds: { x: 0, y: 0, width: 1920, height: 1080 }, scaleFactor: 1, primary: true };
// A screenshot-like PNG: noise compresses badly, as real desktops with photos and text do.
const raw = Buffer.alloc(1920 * 1080 * 3);
for (let i = 0; i < raw.length; i++) raw[i] = (i * 2654435761) >>> 24 & (i % 7 === 0 ? 0xff : 0x1f);
const png = new Uint8Array(await sharp(raw, { raw: { width: 1920, height: 1080, channels: 3 } }).png().toBuffer());
const core = await createHost({
  host: 'browser', version: 'bench', settingsFile: join(dir, 's.json'), dataDir: dir, secretBox: NO_SECRET_BOX, env: {},
  desktop: () => ({ displays: async () => [display], screenshot: async () => ({ png, width: 1920, height: 1080, display, capturedAt: 0 }), execute: async () => undefined }),
  runner: () => async () => undefined,
  importer: { manifestFile: 'm.json', run: async () => undefined },
  ground: () => async () => ({ raw: '', latencyMs: 0, model: 'bench' }),
  trajectories: { list: async () => [], open: () => Promise.reject(new Error('none')), screenshot: () => Promise.reject(new Error('none')) },
  modelName: () => 'bench',
});
const host = await startUiHost({ api: core.api, webRoot: join(import.meta.dirname, '../renderer') });
const ws = new WebSocket(`${host.url.replace('http', 'ws').replace('/?', '/api?')}`);
await new Promise((done) => ws.once('open', done));
let id = 0;
const pending = new Map<number, () => void>();
ws.on('message', (data) => {
  const reply = decodeWire(data.toString(), nodeBase64) as { id?: number };
  if (reply.id !== undefined) pending.get(reply.id)?.();
});
const overSocket = (route: string, input?: unknown) =>
  new Promise<void>((done) => {
    const callId = ++id;
    pending.set(callId, done);
    ws.send(encodeWire({ id: callId, route, input }, nodeBase64));
  });

async function timeIt(n: number, work: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await work();
  const start = performance.now();
  for (let i = 0; i < n; i++) await work();
  return (performance.now() - start) / n;
}

const small = { local: await timeIt(2000, () => core.api.call('run.state', undefined)), socket: await timeIt(2000, () => overSocket('run.state')) };
const shot = { local: await timeIt(30, () => core.api.call('displays.screenshot', { displayId: '0' })), socket: await timeIt(30, () => overSocket('displays.screenshot', { displayId: '0' })) };
const event = { type: 'agent', runId: 'r', event: { type: 'screenshot', step: 1, png, width: 1920, height: 1080 } };
const encodeMs = await timeIt(30, () => encodeWire({ event }, nodeBase64));
const text = encodeWire({ event }, nodeBase64);
const decodeMs = await timeIt(30, () => decodeWire(text, nodeBase64));

const f = (n: number) => n.toFixed(3);
console.log(`PNG ${png.length} bytes (1920×1080)`);
console.log(`run.state            in-process ${f(small.local)} ms   WebSocket ${f(small.socket)} ms   ratio ${(small.socket / small.local).toFixed(1)}×`);
console.log(`displays.screenshot  in-process ${f(shot.local)} ms   WebSocket ${f(shot.socket)} ms   ratio ${(shot.socket / shot.local).toFixed(1)}×`);
console.log(`screenshot event     encode ${f(encodeMs)} ms   decode ${f(decodeMs)} ms   wire/PNG size ${(text.length / png.length).toFixed(2)}×`);
ws.close();
await host.close();
