import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { BenchReport } from '../../native-models/models/kimi-vl/runtime/bench.ts';
import { planImage } from '../../native-models/models/kimi-vl/processing/image-processing.ts';
import { encodePng, noise } from '../fixtures/images/png.ts';
import { runKestrel, startKestrel, withoutLoadProgress } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import { withoutDriverWarnings } from '../harness/webgpu.ts';
import { startVirtualDisplay, type VirtualDisplay } from '../harness/xvfb.ts';

// The commands a person runs, end to end with --device webgpu, on the model a GPU import makes by
// default (int4, fp16 KV cache): the import itself, `ground`, `serve` and `run --model-dir`.
const ckpt = tinyCheckpoint({ seed: 9 });
const work = tempDir('webgpu-cli');
const model = join(work.dir, 'm');
const png = join(work.dir, 'shot.png');
const shot = encodePng({ width: 150, height: 100, colour: 'rgb', samples: noise(150 * 100 * 3, 7) }); // 96 patches
const SLOW = 240_000; // lavapipe compiles every shader on the CPU
const INT4_NOTE = "kestrel: note: this int4 model's experts run on the CPU: onnxruntime 1.30's WebGPU QMoE gives wrong results at random for more than one token";
let screen: VirtualDisplay | undefined;

/** stderr's lines of the command's own: without the load's progress and Dawn's lavapipe warnings. */
const own = (stderr: string) => withoutDriverWarnings(withoutLoadProgress(stderr)).split('\n').filter(Boolean);

beforeAll(async () => {
  writeFileSync(png, shot);
  const imported = await runKestrel(['model', 'import', ckpt.dir, '--out', model, '--device', 'webgpu'], process.env, SLOW);
  expect(imported.code, imported.stderr).toBe(0);
  expect(own(imported.stderr)[0]).toMatch(/^kestrel: precision int4 — for WebGPU: .*; KV cache fp16$/);
});
afterAll(async () => {
  await screen?.stop();
  ckpt.cleanup();
  work.cleanup();
});

describe('--device webgpu end to end (int4, the GPU default)', () => {
  test('`kestrel ground`: loads on WebGPU, answers, and stderr is the note and the verdict — also under sudo-like Wayland settings', async () => {
    // WAYLAND_DISPLAY set but no XDG_RUNTIME_DIR, as under sudo or ssh: libwayland would print
    // "error: XDG_RUNTIME_DIR is invalid or not set" unless Kestrel gives itself a runtime folder.
    const env: NodeJS.ProcessEnv = { ...process.env, WAYLAND_DISPLAY: 'wayland-0' };
    delete env.XDG_RUNTIME_DIR;
    const args = ['ground', png, 'the Save button', '--model-dir', model, '--max-tokens', '8', '--temperature', '0', '--json'];
    const gpu = await runKestrel([...args, '--device', 'webgpu'], env, SLOW);
    expect(gpu.stderr).toMatch(/^loading model: creating the vision session on WebGPU$/m);
    expect(gpu.stderr).toMatch(/^loading model: creating the language model session on WebGPU$/m);
    const json = JSON.parse(gpu.stdout);
    expect(Object.keys(json)).toEqual(['x', 'y', 'px', 'py', 'raw', 'ms']);
    expect(json.raw.length).toBeGreaterThan(0);
    // Random weights point nowhere: exit 1 and one line saying so, after the WebGPU note.
    expect(gpu.code).toBe(1);
    expect(own(gpu.stderr)).toEqual([INT4_NOTE, expect.stringMatching(/^kestrel: the reply held no point/)]);
    const cpu = await runKestrel([...args, '--device', 'cpu'], process.env, SLOW);
    expect(JSON.parse(cpu.stdout).raw).toBe(json.raw);
  });

  test('`kestrel serve`: one note, then it answers a chat with an image', async () => {
    const serve = startKestrel(['serve', '--model-dir', model, '--port', '0', '--device', 'webgpu']);
    try {
      const [, url] = await serve.waitForOutput(/^Kestrel serve: (http:\S+) \(model kimi-vl\)$/m, SLOW);
      const image = `data:image/png;base64,${shot.toString('base64')}`;
      const body = { model: 'kimi-vl', max_tokens: 6, temperature: 0, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: image } }, { type: 'text', text: 'Where is Save?' }] }] };
      const r = await fetch(`${url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(r.status).toBe(200);
      const reply = (await r.json()) as { choices: { message: { content: string } }[]; usage: { prompt_tokens: number; completion_tokens: number } };
      expect(reply.choices[0]!.message.content.length).toBeGreaterThan(0);
      expect(reply.usage.prompt_tokens).toBeGreaterThan(24); // the screenshot's 24 image tokens and the text
      expect(reply.usage.completion_tokens).toBeGreaterThan(0);
      expect(own(serve.stderr())).toEqual([INT4_NOTE]);
    } finally {
      await serve.stop();
    }
  });

  test('`kestrel run --model-dir`: the agent loop on a virtual display, the model on WebGPU', async () => {
    screen = await startVirtualDisplay({ width: 320, height: 240 });
    const r = await runKestrel(['run', 'open the terminal', '--model-dir', model, '--device', 'webgpu', '--max-tokens', '8'], screen.env, SLOW);
    expect(r.stderr).toMatch(/^loading model: creating the language model session on WebGPU$/m);
    expect(r.stdout).toMatch(/^run \S+: "open the terminal" with kimi-vl \(in-process, int4\) @ .* on display screen \(320×240\+0\+0\)$/m);
    // Random weights: the reply is corrected once, then the run ends in an error (exit 1).
    expect(r.stdout).toMatch(/^error after 0 steps in \d+\.\d s: the model's reply could not be used after a correction: /m);
    expect(r.code).toBe(1);
    expect(own(r.stderr)).toEqual([INT4_NOTE, expect.stringMatching(/^kestrel: step 1: the reply could not be used, asking again: /)]);
  });

  test('`kestrel bench --device webgpu`: every test runs on WebGPU, with the one note', async () => {
    const r = await runKestrel(['bench', model, '--device', 'webgpu', '-r', '1', '-p', '16', '-n', '2', '--image', png, '--json'], process.env, SLOW);
    expect(r.code, r.stderr).toBe(0);
    expect(own(r.stderr).filter((line) => !line.startsWith('bench: '))).toEqual([INT4_NOTE]);
    const [result] = (JSON.parse(r.stdout) as BenchReport).results;
    expect(result).toMatchObject({ precision: 'int4', device: 'webgpu', ranOn: 'webgpu', deviceLabel: 'webgpu' });
    expect(result!.tests.map((t) => t.label)).toEqual(['load', 'pp16', 'tg2', `vision 150×100 (${planImage(150, 100).tokens} tokens)`, expect.stringMatching(/^pp\d+ with the image$/), expect.stringMatching(/^first point/), 'peak RSS']);
    for (const t of result!.tests) expect(t.samples).toEqual([expect.any(Number)]);
  });
});
