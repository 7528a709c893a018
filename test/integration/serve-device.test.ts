import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { importKimiVL } from '../../native-models/models/kimi-vl/import/import-checkpoint.ts';
import { missingGpuDevice } from '../../native-models/onnx/vulkan.ts';
import { runKestrel, startKestrel, withoutLoadProgress } from '../harness/cli.ts';
import { tempDir, tinyCheckpoint } from '../harness/tiny-checkpoint.ts';
import { NO_VULKAN_DRIVER, probeWebGpu, withoutDriverWarnings, type WebGpuStatus } from '../harness/webgpu.ts';

// There are no CUDA provider libraries here; whether WebGPU starts depends on the machine (a
// Vulkan driver: CI installs Mesa's lavapipe for the WebGPU tests, a developer's machine may have
// none). These tests pin down the fallback and the errors, deciding what to expect from what the
// machine has, and take away the Vulkan driver in a child's environment (the loader then finds
// none) so the no-driver case runs everywhere. The CPU answer is the same however it is reached.
const ckpt = tinyCheckpoint({ seed: 13 });
const work = tempDir('device');
const modelDir = join(work.dir, 'm');
const chat = (device: string, env?: NodeJS.ProcessEnv) => runKestrel(['model', 'chat', modelDir, 'Hello there', '--max-tokens', '6', '--device', device], env, 180_000);
const withoutDriver = { ...process.env, ...NO_VULKAN_DRIVER };
const CUDA_MISSING = /onnxruntime-node's CUDA provider libraries are not installed \(libonnxruntime_providers_cuda\.so, libonnxruntime_providers_shared\.so missing from \S+onnxruntime-node\/bin\/napi-v6\/linux\/x64\); install them with `npm run gpu:cuda`/;
/** Why WebGPU is not used without a driver: no Vulkan loader at all, or a loader with no driver. */
const NO_DRIVER = /WebGPU needs (Vulkan, and libvulkan\.so\.1 is not installed \(Debian: apt-get install libvulkan1|a Vulkan driver, and none is installed \(.*\); install your GPU's \(Debian: apt-get install mesa-vulkan-drivers)/;
const FP32_NOTE = "kestrel: note: this fp32 model's experts use com.microsoft.MoE, which has no WebGPU kernel, so they run on the CPU";
/** stderr's own lines: without the load's progress and Dawn's lavapipe warnings. */
const own = (stderr: string) => withoutDriverWarnings(withoutLoadProgress(stderr)).trimEnd().split('\n');
let cpu: Awaited<ReturnType<typeof chat>>;
let webgpu: WebGpuStatus;

beforeAll(async () => {
  await importKimiVL({ source: ckpt.dir, out: modelDir });
  cpu = await chat('cpu');
  webgpu = probeWebGpu();
}, 180_000);
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

  test('auto without a Vulkan driver falls back to the CPU with one note naming what was missing for CUDA and WebGPU, and the same answer', async () => {
    const r = await chat('auto', withoutDriver);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(cpu.stdout);
    const lines = own(r.stderr);
    // One note although the text and the vision sessions both looked for a GPU.
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^kestrel: no GPU device, running on the CPU: /);
    expect(lines[0]).toMatch(CUDA_MISSING);
    expect(lines[0]).toMatch(NO_DRIVER);
    expect(lines[1]).toMatch(/^\d+ tokens, finish:/);
  });

  test('no --device means auto, for every command that runs a model (and its --help says so)', async () => {
    const implicit = await runKestrel(['model', 'chat', modelDir, 'Hello there', '--max-tokens', '6'], withoutDriver, 180_000);
    expect(implicit.stdout).toBe(cpu.stdout);
    expect(own(implicit.stderr)[0]).toMatch(/^kestrel: no GPU device, running on the CPU: /);
    for (const command of [['run'], ['ground'], ['serve'], ['model', 'chat'], ['model', 'logits'], ['model', 'import']]) {
      const help = await runKestrel([...command, '--help']);
      expect(help.stdout.replace(/\s+/g, ' '), command.join(' ')).toMatch(/--device <device> .*\(choices: "auto", "cpu", "cuda", "webgpu", default: "auto"\)/);
    }
  });

  test('auto on this machine as it is: WebGPU where it starts on a GPU, else the CPU with the reason; the same answer', async () => {
    const r = await chat('auto');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(cpu.stdout);
    const lines = own(r.stderr);
    if (webgpu.ok && missingGpuDevice() === undefined) {
      expect(lines).toEqual([FP32_NOTE, expect.stringMatching(/^\d+ tokens, finish:/)]);
    } else {
      // No adapter, or only a software one such as lavapipe, which auto leaves alone.
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatch(CUDA_MISSING);
      expect(lines[0]).toMatch(/; WebGPU (needs Vulkan, and libvulkan\.so\.1 is not installed|needs a Vulkan driver, and none is installed|found no GPU here \(no \/dev\/dri\/renderD\* or \/dev\/nvidia\*\), and a software Vulkan driver such as lavapipe is slower than the CPU provider|failed to start \()/);
    }
  });

  test('explicit cuda is a one-line error naming the missing libraries and `npm run gpu:cuda`', async () => {
    const r = await chat('cuda');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(withoutLoadProgress(r.stderr).trimEnd().split('\n')).toHaveLength(1);
    expect(withoutLoadProgress(r.stderr)).toMatch(/^kestrel: device cuda: /);
    expect(r.stderr).toMatch(CUDA_MISSING);
  });

  test('explicit webgpu: on this machine it runs and answers as the CPU does, or says in one line why it cannot', async () => {
    const r = await chat('webgpu');
    if (webgpu.ok) {
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(cpu.stdout); // fp32: greedy tokens equal the CPU's (test/webgpu)
      expect(own(r.stderr)).toEqual([FP32_NOTE, expect.stringMatching(/^\d+ tokens, finish:/)]);
    } else {
      expect(r.code).toBe(1);
      expect(own(r.stderr)).toEqual([expect.stringMatching(/^kestrel: device webgpu: /)]);
    }
  });

  test('explicit webgpu without a Vulkan driver: one line naming what to install', async () => {
    const r = await chat('webgpu', withoutDriver);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(withoutLoadProgress(r.stderr).trimEnd().split('\n')).toEqual([expect.stringMatching(/^kestrel: device webgpu: /)]);
    expect(r.stderr).toMatch(NO_DRIVER);
  });

  test('explicit webgpu when the provider itself fails to start: its reason, in our last line', async () => {
    // A library that is not really Vulkan, and a manifest naming a driver: past Kestrel's checks,
    // onnxruntime's WebGPU start-up itself fails.
    const fake = join(work.dir, 'fake-vulkan');
    mkdirSync(fake);
    writeFileSync(join(fake, 'libvulkan.so.1'), '');
    writeFileSync(join(fake, 'icd.json'), JSON.stringify({ file_format_version: '1.0.0', ICD: { library_path: join(fake, 'nothing.so'), api_version: '1.3.0' } }));
    const tried = await chat('webgpu', { ...process.env, LD_LIBRARY_PATH: fake, VK_DRIVER_FILES: join(fake, 'icd.json') });
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

  test('`kestrel serve --device auto` without a Vulkan driver notes the fallback once and serves', async () => {
    const serve = startKestrel(['serve', '--model-dir', modelDir, '--port', '0', '--device', 'auto'], withoutDriver);
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
