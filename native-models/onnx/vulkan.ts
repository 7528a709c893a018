/**
 * What onnxruntime's WebGPU provider (Dawn) needs from a Linux machine, checked before it is
 * tried: the Vulkan loader, a Vulkan driver, and — for `--device auto` — a GPU to drive. A
 * missing piece becomes one line naming what to install, instead of Dawn's own warnings on
 * stderr and an "adapter" error. Nothing here loads onnxruntime.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

const colonList = (value: string | undefined): string[] => (value ?? '').split(':').filter(Boolean);

/** The Vulkan loader library, looked up where the dynamic linker looks (LD_LIBRARY_PATH, then ldconfig's cache). */
export function missingVulkanLoader(env: Env = process.env): string | undefined {
  if (colonList(env.LD_LIBRARY_PATH).some((d) => existsSync(join(d, 'libvulkan.so.1')))) return undefined;
  let cache = '';
  try {
    cache = execFileSync('ldconfig', ['-p'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined; // cannot tell; let onnxruntime try
  }
  return cache.includes('libvulkan.so.1') ? undefined : 'WebGPU needs Vulkan, and libvulkan.so.1 is not installed (Debian: apt-get install libvulkan1 plus your GPU\'s Vulkan driver)';
}

/**
 * The folders the Vulkan loader reads driver manifests (`*.json`) from on Linux, in its order:
 * VK_DRIVER_FILES (or the older VK_ICD_FILENAMES) replaces the search, VK_ADD_DRIVER_FILES adds
 * to it; otherwise the XDG config and data folders and /etc, each with `vulkan/icd.d`. NixOS's
 * loader also reads /run/opengl-driver.
 */
export function vulkanDriverPlaces(env: Env = process.env): string[] {
  const override = colonList(env.VK_DRIVER_FILES ?? env.VK_ICD_FILENAMES);
  const added = colonList(env.VK_ADD_DRIVER_FILES);
  if (override.length > 0) return [...override, ...added];
  const home = env.HOME ?? homedir();
  const roots = [
    env.XDG_CONFIG_HOME ?? join(home, '.config'),
    ...(colonList(env.XDG_CONFIG_DIRS).length ? colonList(env.XDG_CONFIG_DIRS) : ['/etc/xdg']),
    '/usr/local/etc',
    '/etc',
    env.XDG_DATA_HOME ?? join(home, '.local/share'),
    ...(colonList(env.XDG_DATA_DIRS).length ? colonList(env.XDG_DATA_DIRS) : ['/usr/local/share', '/usr/share']),
    '/run/opengl-driver/share',
  ];
  return [...added, ...roots.map((root) => join(root, 'vulkan', 'icd.d'))];
}

/** A place holds a driver when it is a manifest file, or a folder with one. */
function holdsDriver(place: string): boolean {
  if (place.endsWith('.json')) return existsSync(place);
  try {
    return readdirSync(place).some((name) => name.endsWith('.json'));
  } catch {
    return false;
  }
}

/** At least one Vulkan driver manifest where the loader looks. */
export function missingVulkanDriver(env: Env = process.env): string | undefined {
  const places = vulkanDriverPlaces(env);
  if (places.some(holdsDriver)) return undefined;
  const where = env.VK_DRIVER_FILES || env.VK_ICD_FILENAMES ? `no driver manifest where VK_DRIVER_FILES or VK_ICD_FILENAMES point: ${places.join(', ')}` : 'no driver manifest in /usr/share/vulkan/icd.d or the loader\'s other folders';
  return `WebGPU needs a Vulkan driver, and none is installed (${where}); install your GPU's (Debian: apt-get install mesa-vulkan-drivers for AMD and Intel GPUs; NVIDIA's driver brings its own)`;
}

/**
 * A GPU the kernel exposes: a DRM render node (Mesa's and most drivers) or NVIDIA's device file.
 * Without one the only Vulkan device is a software one such as Mesa's lavapipe, which runs the
 * model on the CPU more slowly than onnxruntime's CPU provider, so `auto` does not pick it.
 */
export function missingGpuDevice(dev = '/dev'): string | undefined {
  const has = (dir: string, prefix: string) => {
    try {
      return readdirSync(dir).some((name) => name.startsWith(prefix));
    } catch {
      return false;
    }
  };
  if (has(join(dev, 'dri'), 'renderD') || has(dev, 'nvidia')) return undefined;
  return 'WebGPU found no GPU here (no /dev/dri/renderD* or /dev/nvidia*), and a software Vulkan driver such as lavapipe is slower than the CPU provider (`--device webgpu` uses it anyway)';
}

/**
 * Vulkan's window-system code (libwayland, loaded by Mesa's drivers) prints "error:
 * XDG_RUNTIME_DIR is invalid or not set in the environment." when WAYLAND_DISPLAY is set but
 * XDG_RUNTIME_DIR is not an absolute path — as under sudo or ssh. It is only looking for a
 * display Kestrel never uses, so before WebGPU starts such a process gets a private folder of
 * its own (mkdtemp makes it mode 700), removed when the process exits. A valid one is kept.
 */
export function ensureRuntimeDir(): void {
  const current = process.env.XDG_RUNTIME_DIR;
  if (current && isAbsolute(current)) return;
  const dir = mkdtempSync(join(tmpdir(), 'kestrel-runtime-'));
  process.env.XDG_RUNTIME_DIR = dir;
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
}

/** Why WebGPU cannot be used here, judged without starting it; undefined when it may start. */
export function webGpuBlocker(device: 'auto' | 'webgpu', env: Env = process.env): string | undefined {
  if (process.platform !== 'linux') return undefined;
  return missingVulkanLoader(env) ?? missingVulkanDriver(env) ?? (device === 'auto' ? missingGpuDevice() : undefined);
}
