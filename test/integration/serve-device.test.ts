import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import-checkpoint.ts';
import { runKestrel, startKestrel, withoutLoadProgress } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';

// This machine has no GPU, no CUDA provider libraries and no Vulkan: these tests pin down the
// fallback and the errors, and that the CPU answer is the same whichever way it was reached.
const ckpt = tinyCheckpoint({ seed: 13 });
const work = tempDir('device');
const modelDir = join(work.dir, 'm');
const chat = (device: string, env?: NodeJS.ProcessEnv) => runKestrel(['model', 'chat', modelDir, 'Hello there', '--max-tokens', '6', '--device', device], env);
const CUDA_MISSING = /onnxruntime-node's CUDA provider libraries are not installed \(libonnxruntime_providers_cuda\.so, libonnxruntime_providers_shared\.so missing from \S+onnxruntime-node\/bin\/napi-v6\/linux\/x64\); install them with `npm run gpu:cuda`/;
let cpu: Awaited<ReturnType<typeof chat>>;

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: modelDir });
  cpu = await chat('cpu');
}, 120_000);
afterAll(() => {
  ckpt.cleanup();
  work.cleanup();
});

describe('--device', () => {
  test('cpu runs without a note', () => {
    expect(cpu.code).toBe(0);
    expect(cpu.stdout.length).toBeGreaterThan(1);
    expect(withoutLoadProgress(cpu.stderr)).toMatch(/^\d+ tokens, finish:/);
  });

  test('auto falls back to the CPU with one note naming what was missing for CUDA and WebGPU, and the same answer', async () => {
    const r = await chat('auto');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(cpu.stdout);
    const lines = withoutLoadProgress(r.stderr).trimEnd().split('\n');
    // One note although the text and the vision sessions both looked for a GPU.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^kestrel: no GPU device, running on the CPU: /);
    expect(lines[0]).toMatch(CUDA_MISSING);
    expect(lines[0]).toMatch(/; WebGPU needs Vulkan, and libvulkan\.so\.1 is not installed \(Debian: apt-get install libvulkan1/);
    expect(lines[1]).toMatch(/^\d+ tokens, finish:/);
  });

  test('explicit cuda is a one-line error naming the missing libraries and `npm run gpu:cuda`', async () => {
    const r = await chat('cuda');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(withoutLoadProgress(r.stderr).trimEnd().split('\n')).toHaveLength(1);
    expect(withoutLoadProgress(r.stderr)).toMatch(/^kestrel: device cuda: /);
    expect(r.stderr).toMatch(CUDA_MISSING);
  });

  test('explicit webgpu: without Vulkan a one-line error; when the provider itself fails, its reason', async () => {
    const r = await chat('webgpu');
    expect(r.code).toBe(1);
    expect(withoutLoadProgress(r.stderr)).toMatch(/^kestrel: device webgpu: WebGPU needs Vulkan, and libvulkan\.so\.1 is not installed/);
    expect(withoutLoadProgress(r.stderr).trimEnd().split('\n')).toHaveLength(1);
    // A library that is not really Vulkan gets past the check: onnxruntime's WebGPU start-up itself fails.
    const fake = join(work.dir, 'fake-vulkan');
    mkdirSync(fake);
    writeFileSync(join(fake, 'libvulkan.so.1'), '');
    const tried = await chat('webgpu', { ...process.env, LD_LIBRARY_PATH: fake });
    expect(tried.code).toBe(1);
    // Dawn may print its own warnings first; ours is the last line.
    expect(tried.stderr.trimEnd().split('\n').at(-1)).toMatch(/^kestrel: device webgpu: WebGPU failed to start \(.*adapter.*\)$/i);
  });

  test('an unknown device is a usage error listing the choices', async () => {
    const r = await chat('tpu');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/argument 'tpu' is invalid\. Allowed choices are auto, cpu, cuda, webgpu/);
  });

  test('the agent commands take it too: `kestrel ground --model-dir --device cuda` fails the same way', async () => {
    const png = join(work.dir, 'a.png');
    const { default: sharp } = await import('sharp');
    await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } }).png().toFile(png);
    const r = await runKestrel(['ground', png, 'the OK button', '--model-dir', modelDir, '--device', 'cuda', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(CUDA_MISSING);
    expect(withoutLoadProgress(r.stderr).trimEnd().split('\n')).toHaveLength(1);
  });

  test('`kestrel serve --device auto` notes the fallback once and serves', async () => {
    const serve = startKestrel(['serve', '--model-dir', modelDir, '--port', '0', '--device', 'auto']);
    try {
      const [, url] = await serve.waitForOutput(/^Kestrel serve: (http:\S+) \(model kimi-vl\)$/m, 60_000);
      expect(serve.stderr()).toMatch(/^model loaded in [\d.]+ s$/m);
      expect(withoutLoadProgress(serve.stderr())).toMatch(/^kestrel: no GPU device, running on the CPU: .*npm run gpu:cuda.*\n$/);
      expect((await fetch(`${url}/models`)).status).toBe(200);
    } finally {
      await serve.stop();
    }
  });
});
