import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ensureRuntimeDir, missingGpuDevice, missingVulkanDriver, vulkanDriverPlaces } from './vulkan.ts';

const root = mkdtempSync(join(tmpdir(), 'kestrel-vulkan-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(...parts: string[]): string {
  const dir = join(root, ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe('Vulkan driver manifests', () => {
  test('the loader\'s folders: XDG config and data folders and /etc, each with vulkan/icd.d; VK_ADD_DRIVER_FILES first', () => {
    const places = vulkanDriverPlaces({ HOME: '/home/u', XDG_DATA_DIRS: '/opt/share:/usr/share', VK_ADD_DRIVER_FILES: '/extra/icd.json' });
    expect(places).toEqual([
      '/extra/icd.json',
      '/home/u/.config/vulkan/icd.d',
      '/etc/xdg/vulkan/icd.d',
      '/usr/local/etc/vulkan/icd.d',
      '/etc/vulkan/icd.d',
      '/home/u/.local/share/vulkan/icd.d',
      '/opt/share/vulkan/icd.d',
      '/usr/share/vulkan/icd.d',
      '/run/opengl-driver/share/vulkan/icd.d',
    ]);
    expect(vulkanDriverPlaces({ VK_DRIVER_FILES: '/a/lvp.json:/b/icd.d', VK_ICD_FILENAMES: '/ignored' })).toEqual(['/a/lvp.json', '/b/icd.d']);
    expect(vulkanDriverPlaces({ VK_ICD_FILENAMES: '/old/icd.json' })).toEqual(['/old/icd.json']);
  });

  test('a manifest in any folder is a driver; none names the package to install', () => {
    const empty = folder('empty', 'vulkan', 'icd.d');
    const home = folder('home');
    const env = { HOME: home, XDG_CONFIG_DIRS: join(root, 'none'), XDG_DATA_DIRS: join(root, 'empty') };
    // /etc and /usr/local/etc are still searched; on a machine with a driver there this test
    // only checks the positive case.
    const none = missingVulkanDriver(env);
    if (none !== undefined) expect(none).toMatch(/^WebGPU needs a Vulkan driver, and none is installed \(no driver manifest in \/usr\/share\/vulkan\/icd\.d or the loader's other folders\); install your GPU's \(Debian: apt-get install mesa-vulkan-drivers/);
    writeFileSync(join(empty, 'lvp_icd.x86_64.json'), '{}');
    expect(missingVulkanDriver(env)).toBeUndefined();
  });

  test('VK_DRIVER_FILES naming nothing that exists: no driver, and the message says where it looked', () => {
    expect(missingVulkanDriver({ VK_DRIVER_FILES: '/nonexistent/icd.d:/nonexistent/x.json' })).toBe(
      'WebGPU needs a Vulkan driver, and none is installed (no driver manifest where VK_DRIVER_FILES or VK_ICD_FILENAMES point: /nonexistent/icd.d, /nonexistent/x.json); install your GPU\'s (Debian: apt-get install mesa-vulkan-drivers for AMD and Intel GPUs; NVIDIA\'s driver brings its own)',
    );
    const file = join(folder('direct'), 'icd.json');
    writeFileSync(file, '{}');
    expect(missingVulkanDriver({ VK_DRIVER_FILES: file })).toBeUndefined();
  });
});

describe('a GPU to drive (what `auto` asks before taking WebGPU)', () => {
  test('a DRM render node or an NVIDIA device file is a GPU; without either only software Vulkan is left', () => {
    const dev = folder('dev-none');
    expect(missingGpuDevice(dev)).toMatch(/^WebGPU found no GPU here \(no \/dev\/dri\/renderD\* or \/dev\/nvidia\*\), and a software Vulkan driver such as lavapipe is slower than the CPU provider/);
    writeFileSync(join(folder('dev-dri', 'dri'), 'renderD128'), '');
    expect(missingGpuDevice(join(root, 'dev-dri'))).toBeUndefined();
    writeFileSync(join(folder('dev-nvidia'), 'nvidia0'), '');
    expect(missingGpuDevice(join(root, 'dev-nvidia'))).toBeUndefined();
  });
});

describe('XDG_RUNTIME_DIR before WebGPU starts', () => {
  test('unset or relative: the process gets a private folder (mode 700); an absolute one is kept', () => {
    const saved = process.env.XDG_RUNTIME_DIR;
    try {
      process.env.XDG_RUNTIME_DIR = '/run/user/1234';
      ensureRuntimeDir();
      expect(process.env.XDG_RUNTIME_DIR).toBe('/run/user/1234');
      for (const before of [undefined, 'relative/dir']) {
        if (before === undefined) delete process.env.XDG_RUNTIME_DIR;
        else process.env.XDG_RUNTIME_DIR = before;
        ensureRuntimeDir();
        const dir = process.env.XDG_RUNTIME_DIR!;
        expect(dir).toMatch(/^\/.*kestrel-runtime-/);
        expect(statSync(dir).mode & 0o777).toBe(0o700);
        rmSync(dir, { recursive: true });
      }
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
    }
  });
});
